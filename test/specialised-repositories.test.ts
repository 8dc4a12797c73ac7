import { describe, expect, it } from 'vitest'
import { NotFoundError, UsageError, ValidationError } from '../src/index.js'
import { libraryDialects as dialects } from './dialects.js'
import { useMigratedDatabase } from './helpers.js'

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: specialised repositories`, () => {
    const ctx = useMigratedDatabase(d)

    it('projectStates: getWithDetails orders scenes by index and checkpoints newest first', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'Details' })
      await db.sceneStates.addRange(
        [2, 0, 1].map((i) => ({ projectId: p.id, sceneIndex: i, scriptText: `s${i}` })),
      )
      await db.assetStates.add({
        projectId: p.id,
        assetType: 'Audio',
        filePath: '/a.wav',
        fileSizeBytes: 2 ** 40,
      })
      await db.renderCheckpoints.save(p.id, 'Script', { completedScenes: 3, totalScenes: 3 })
      await new Promise((r) => setTimeout(r, 5))
      await db.renderCheckpoints.save(p.id, 'TTS', {
        completedScenes: 1,
        totalScenes: 3,
        data: { voice: 'x' },
      })
      const details = await db.projectStates.getWithDetails(p.id)
      expect(details?.scenes.map((s) => s.scriptText)).toEqual(['s0', 's1', 's2'])
      expect(details?.assets[0]?.fileSizeBytes).toBe(2 ** 40)
      expect(details?.checkpoints.map((c) => c.stageName)).toEqual(['TTS', 'Script'])
      expect(JSON.parse(details!.checkpoints[0]!.checkpointData!)).toEqual({ voice: 'x' })
    })

    it('projectStates: getIncomplete pages by keyset, newest update first, ties by id; bad paging is a ValidationError', async () => {
      const { db } = ctx
      // One unit: one clock reading, so all five share their updatedAt and only the id orders them.
      const tied = await db.transaction(async (uow) => {
        const added = []
        for (let i = 0; i < 5; i++)
          added.push(await uow.projectStates.add({ title: `Tied ${i}`, status: 'InProgress' }))
        return added
      })
      await new Promise((r) => setTimeout(r, 5))
      const newest = await db.projectStates.add({ title: 'Newest', status: 'InProgress' })
      const all = await db.projectStates.getIncomplete()
      const ours = new Set([newest.id, ...tied.map((p) => p.id)])
      expect(all.filter((p) => ours.has(p.id)).map((p) => p.id)).toEqual([
        newest.id,
        ...tied.map((p) => p.id).sort(),
      ])
      const paged = []
      let page = await db.projectStates.getIncomplete({ limit: 2 })
      while (page.length > 0) {
        expect(page.length).toBeLessThanOrEqual(2)
        paged.push(...page)
        page = await db.projectStates.getIncomplete({ limit: 2, after: page[page.length - 1]! })
      }
      expect(paged.map((p) => p.id)).toEqual(all.map((p) => p.id))
      for (const bad of [
        { limit: 0 },
        { limit: 1001 },
        { limit: 2.5 },
        { after: { id: newest.id, updatedAt: 'yesterday' as unknown as Date } },
        { after: { id: 'not-a-uuid', updatedAt: new Date() } },
      ]) {
        await expect(db.projectStates.getIncomplete(bad)).rejects.toBeInstanceOf(ValidationError)
      }
    })

    it('projectStates: updateStatus sets completedAt for terminal statuses; unknown id is NotFoundError', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'Status', jobId: 'job-status-1' })
      const running = await db.projectStates.updateStatus(p.id, 'InProgress')
      expect(running.completedAt).toBeNull()
      expect((await db.projectStates.getIncomplete()).map((x) => x.id)).toContain(p.id)
      expect((await db.projectStates.getByJobId('job-status-1'))?.id).toBe(p.id)
      const failed = await db.projectStates.updateStatus(p.id, 'Failed', 'ffmpeg exited 1')
      expect(failed.completedAt).toBeInstanceOf(Date)
      expect(failed.errorMessage).toBe('ffmpeg exited 1')
      expect(failed.rowVersion).toBe(3)
      await expect(
        db.projectStates.updateStatus('00000000-0000-4000-8000-000000000009', 'Completed'),
      ).rejects.toBeInstanceOf(NotFoundError)
      await expect(db.projectStates.updateStatus(p.id, 'Bogus' as never)).rejects.toBeInstanceOf(
        ValidationError,
      )
    })

    it('projectStates: getOldByStatus and getOrphanedAssets use the age threshold', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'Old draft', status: 'Cancelled' })
      const asset = await db.assetStates.add({ projectId: p.id, assetType: 'Video', filePath: '/tmp/x.mp4' })
      await new Promise((r) => setTimeout(r, 30))
      expect((await db.projectStates.getOldByStatus('Cancelled', 10)).map((x) => x.id)).toContain(p.id)
      expect((await db.projectStates.getOldByStatus('Cancelled', 60_000)).map((x) => x.id)).not.toContain(
        p.id,
      )
      expect((await db.projectStates.getOrphanedAssets(10)).map((a) => a.id)).toContain(asset.id)
      expect((await db.projectStates.getOrphanedAssets(60_000)).map((a) => a.id)).not.toContain(asset.id)
      await expect(db.projectStates.getOldByStatus('Cancelled', -1)).rejects.toBeInstanceOf(ValidationError)
    })

    it('renderCheckpoints: save invalidates earlier checkpoints of the same stage atomically', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'Checkpoints' })
      const first = await db.renderCheckpoints.save(p.id, 'Images', { completedScenes: 1, totalScenes: 4 })
      const other = await db.renderCheckpoints.save(p.id, 'Script', { completedScenes: 4, totalScenes: 4 })
      await new Promise((r) => setTimeout(r, 5))
      const second = await db.renderCheckpoints.save(p.id, 'Images', {
        completedScenes: 2,
        totalScenes: 4,
        outputFilePath: '/o',
      })
      expect((await db.renderCheckpoints.getById(first.id))?.isValid).toBe(false)
      expect((await db.renderCheckpoints.getById(other.id))?.isValid).toBe(true)
      expect(await db.renderCheckpoints.count({ projectId: p.id, stageName: 'Images', isValid: true })).toBe(
        1,
      )
      expect((await db.renderCheckpoints.getLatest(p.id))?.id).toBe(second.id)
      await expect(
        db.renderCheckpoints.save(p.id, 'Images', { completedScenes: 5, totalScenes: 4 }),
      ).rejects.toBeInstanceOf(ValidationError)
      expect((await db.renderCheckpoints.getLatest(p.id))?.id).toBe(second.id)
    })

    it('renderCheckpoints: getLatest skips a newest checkpoint that is not valid', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'Invalid newest' })
      const older = await db.renderCheckpoints.save(p.id, 'Script', { completedScenes: 2, totalScenes: 2 })
      await new Promise((r) => setTimeout(r, 5))
      const newest = await db.renderCheckpoints.save(p.id, 'Images', { completedScenes: 1, totalScenes: 2 })
      expect((await db.renderCheckpoints.getLatest(p.id))?.id).toBe(newest.id)
      await db.renderCheckpoints.update({ id: newest.id, rowVersion: newest.rowVersion, isValid: false })
      expect((await db.renderCheckpoints.getLatest(p.id))?.id).toBe(older.id)
      await db.renderCheckpoints.update({ id: older.id, rowVersion: older.rowVersion, isValid: false })
      expect(await db.renderCheckpoints.getLatest(p.id)).toBeNull()
    })

    it('configurations: typed getValue, upsert keeping unspecified fields, reactivation, atomic setMany', async () => {
      const { db } = ctx
      await db.configurations.set('Test.Number', 42, { category: 'Test', description: 'the answer' })
      await db.configurations.set('Test.Flag', true, { category: 'Test' })
      await db.configurations.set('Test.Json', { a: [1, 2] }, { category: 'Test' })
      await db.configurations.set('Test.Text', 'hello', { category: 'Test' })
      expect(await db.configurations.getValue('Test.Number')).toBe(42)
      expect(await db.configurations.getValue('Test.Flag')).toBe(true)
      expect(await db.configurations.getValue('Test.Json')).toEqual({ a: [1, 2] })
      expect(await db.configurations.getValue('Test.Text')).toBe('hello')
      expect(await db.configurations.getValue('Test.Missing')).toBeUndefined()

      const updated = await db.configurations.set('Test.Number', 43)
      expect(updated.description).toBe('the answer')
      expect(updated.category).toBe('Test')
      expect(updated.rowVersion).toBe(2)

      await db.configurations.deactivate('Test.Flag')
      expect(await db.configurations.get('Test.Flag')).toBeNull()
      expect((await db.configurations.getByCategory('Test')).map((c) => c.key)).toEqual([
        'Test.Json',
        'Test.Number',
        'Test.Text',
      ])
      const back = await db.configurations.set('Test.Flag', false)
      expect(back.isActive).toBe(true)
      expect(await db.configurations.getValue('Test.Flag')).toBe(false)

      await expect(
        db.configurations.setMany([
          { key: 'Test.A', value: 1, category: 'Test' },
          { key: 'Test.B', value: 'x'.repeat(10), category: 'c'.repeat(101) },
        ]),
      ).rejects.toBeInstanceOf(ValidationError)
      expect(await db.configurations.get('Test.A')).toBeNull()
      await expect(db.configurations.set('Test.New', 1)).rejects.toBeInstanceOf(ValidationError)
      expect(await db.configurations.get('Test.New')).toBeNull()
      const many = await db.configurations.setMany([
        { key: 'Test.A', value: 1, category: 'Test' },
        { key: 'Test.B', value: 'b', category: 'Test' },
      ])
      expect(many.map((c) => c.key)).toEqual(['Test.A', 'Test.B'])
      await expect(db.configurations.deactivate('Test.Nope')).rejects.toBeInstanceOf(NotFoundError)
    })

    it('configurations: a sensitive value without a secret key is refused before anything is written', async () => {
      const { db } = ctx
      if (process.env.AURA_SECRET_KEY) return
      await expect(
        db.configurations.set('Api.Key', 'sk-secret', { category: 'Api', isSensitive: true }),
      ).rejects.toBeInstanceOf(UsageError)
      expect(await db.configurations.get('Api.Key')).toBeNull()
    })

    it('the single system_configuration row exists and can be updated, but not duplicated', async () => {
      const { db } = ctx
      const row = await db.systemConfiguration.getById(1)
      expect(row?.outputDirectory).toMatch(/AuraVideoStudio[\\/]Output$/)
      const updated = await db.systemConfiguration.update({
        ...row!,
        isSetupComplete: true,
        ffmpegPath: '/usr/bin/ffmpeg',
      })
      expect(updated.isSetupComplete).toBe(true)
      await expect(db.systemConfiguration.add({ id: 2, outputDirectory: '/x' } as never)).rejects.toThrow()
    })
  })
}
