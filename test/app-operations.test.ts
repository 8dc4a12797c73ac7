import { describe, expect, it } from 'vitest'
import { NotFoundError, ValidationError } from '../src/index.js'
import { libraryDialects as dialects } from './dialects.js'
import { useMigratedDatabase } from './helpers.js'

// Operations the .NET app performs (issue 10, step 3), on both dialects.
for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: the app's operations`, () => {
    const ctx = useMigratedDatabase(d)

    it('duplicate copies a project with its scenes and assets as a new project', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({
        title: 'Original',
        status: 'Completed',
        currentStage: 'Rendering',
        briefJson: '{"Topic":"x"}',
        jobId: 'job-1',
      })
      await db.sceneStates.add({ projectId: p.id, sceneIndex: 1, scriptText: 'two', durationSeconds: 2 })
      await db.sceneStates.add({ projectId: p.id, sceneIndex: 0, scriptText: 'one', isCompleted: true })
      await db.assetStates.add({
        projectId: p.id,
        assetType: 'Audio',
        filePath: '/a.wav',
        isTemporary: false,
      })
      await db.renderCheckpoints.save(p.id, 'Rendering', { completedScenes: 2, totalScenes: 2 })

      const copy = await db.projectStates.duplicate(p.id.toUpperCase())
      expect(copy.id).not.toBe(p.id)
      expect(copy).toMatchObject({
        title: 'Original (copy)',
        status: 'Draft',
        briefJson: '{"Topic":"x"}',
        jobId: null,
        currentStage: null,
      })
      const scenes = await db.sceneStates.find({ projectId: copy.id }, { orderBy: { sceneIndex: 'asc' } })
      expect(scenes.map((s) => [s.sceneIndex, s.scriptText, s.isCompleted])).toEqual([
        [0, 'one', true],
        [1, 'two', false],
      ])
      expect(await db.assetStates.count({ projectId: copy.id })).toBe(1)
      expect(await db.renderCheckpoints.count({ projectId: copy.id })).toBe(0)
      // The original is untouched.
      expect(await db.sceneStates.count({ projectId: p.id })).toBe(2)
      expect((await db.projectStates.duplicate(p.id, { title: 'Second cut' })).title).toBe('Second cut')

      await db.projectStates.delete(copy.id)
      await expect(db.projectStates.duplicate(copy.id)).rejects.toBeInstanceOf(NotFoundError)
      await expect(db.projectStates.duplicate(p.id, { title: ' ' })).rejects.toBeInstanceOf(ValidationError)
    })

    it('orphaned-asset clean-up never returns temporary assets of a project still running', async () => {
      const { db } = ctx
      const running = await db.projectStates.add({ title: 'Running', status: 'InProgress' })
      const failed = await db.projectStates.add({ title: 'Failed', status: 'Failed' })
      const busy = await db.assetStates.add({ projectId: running.id, assetType: 'Image', filePath: '/r.png' })
      const left = await db.assetStates.add({ projectId: failed.id, assetType: 'Image', filePath: '/f.png' })
      await new Promise((r) => setTimeout(r, 30))
      const orphans = (await db.projectStates.getOrphanedAssets(10)).map((a) => a.id)
      expect(orphans).toContain(left.id)
      expect(orphans).not.toContain(busy.id)
      await db.projectStates.updateStatus(running.id, 'Completed')
      expect((await db.projectStates.getOrphanedAssets(10)).map((a) => a.id)).toContain(busy.id)
    })

    it('export pruning by age takes any status', async () => {
      const { db } = ctx
      const job = (preset: string) => ({ inputFile: '/in', outputFile: `/out/${preset}`, presetName: preset })
      const queued = await db.exportHistory.enqueue(job('stuck'))
      const processing = await db.exportHistory.add({ ...job('app'), status: 'Processing' })
      const done = await db.exportHistory.enqueue(job('done'))
      await db.exportHistory.start(done.id)
      await db.exportHistory.complete(done.id, { fileSize: 1, durationSeconds: 1 })
      const future = new Date(Date.now() + 60_000)
      // By default only finished jobs go.
      expect(await db.exportHistory.prune(future)).toBe(1)
      expect(await db.exportHistory.getById(queued.id)).not.toBeNull()
      expect(await db.exportHistory.prune(new Date(0), { statuses: ['Queued', 'Processing'] })).toBe(0)
      expect(await db.exportHistory.prune(future, { statuses: ['Queued', 'Processing'] })).toBe(2)
      expect(await db.exportHistory.getById(processing.id)).toBeNull()
      await expect(db.exportHistory.prune(future, { statuses: [] })).rejects.toBeInstanceOf(ValidationError)
      await expect(db.exportHistory.prune(future, { statuses: ['Paused' as never] })).rejects.toBeInstanceOf(
        ValidationError,
      )
    })
  })
}

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: OR filters`, () => {
    const ctx = useMigratedDatabase(d)

    it('or: [...] holds when one alternative does, combined with the other fields by AND', async () => {
      const { db } = ctx
      const t = (
        name: string,
        isSystemTemplate: boolean,
        isCommunityTemplate: boolean,
        category = 'Education',
      ) => db.templates.add({ name, category, templateData: '{}', isSystemTemplate, isCommunityTemplate })
      await t('system', true, false)
      await t('community', false, true)
      await t('private', false, false)
      await t('system other', true, false, 'Gaming')
      const names = async (where: Parameters<typeof db.templates.find>[0]) =>
        (await db.templates.find(where, { orderBy: { name: 'asc' } })).map((x) => x.name)
      expect(await names({ or: [{ isSystemTemplate: true }, { isCommunityTemplate: true }] })).toEqual([
        'community',
        'system',
        'system other',
      ])
      expect(
        await names({
          category: 'Education',
          or: [{ isSystemTemplate: true }, { isCommunityTemplate: true }],
        }),
      ).toEqual(['community', 'system'])
      expect(
        await db.templates.count({
          or: [{ name: { startsWith: 'sys' }, category: 'Gaming' }, { or: [{ name: 'private' }] }],
        }),
      ).toBe(2)
      await expect(db.templates.find({ or: [] })).rejects.toBeInstanceOf(ValidationError)
      await expect(db.templates.find({ or: [{ nope: 1 } as never] })).rejects.toBeInstanceOf(ValidationError)
      await expect(db.templates.find({ or: {} as never })).rejects.toBeInstanceOf(ValidationError)
    })
  })
}

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: undo/redo of the app's own action types`, () => {
    const ctx = useMigratedDatabase(d)

    it('an unknown type names how to register an applier; a registered one runs in the undo/redo transaction', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'Settings' })
      await db.configurations.set('General.Theme', 'dark', { category: 'General' })
      await db.actionLogs.record({
        userId: 'alice',
        projectId: p.id,
        actionType: 'UpdateSettings',
        payload: { 'General.Theme': 'dark' },
        inversePayload: { 'General.Theme': 'light' },
      })
      const refused = await db.actionLogs.undo(p.id, 'alice').catch((e: unknown) => e)
      expect(refused).toBeInstanceOf(ValidationError)
      expect((refused as Error).message).toContain("db.actionLogs.registerApplier('UpdateSettings'")
      expect((await db.actionLogs.find({ actionType: 'UpdateSettings' }))[0]?.status).toBe('Applied')

      db.actionLogs.registerApplier(
        'UpdateSettings',
        async ({ direction, payload, inversePayload, db: trx }) => {
          const settings = (direction === 'undo' ? inversePayload : payload) as Record<string, string>
          for (const [key, value] of Object.entries(settings))
            await trx.updateTable('configurations').set({ value }).where('key', '=', key).execute()
        },
      )
      expect((await db.actionLogs.undo(p.id, 'alice'))?.status).toBe('Undone')
      expect(await db.configurations.getValue('General.Theme')).toBe('light')
      expect((await db.actionLogs.redo(p.id, 'alice'))?.status).toBe('Applied')
      expect(await db.configurations.getValue('General.Theme')).toBe('dark')

      // An applier that fails rolls the whole undo back.
      db.actionLogs.registerApplier('UpdateSettings', async () => {
        throw new ValidationError('cannot')
      })
      await expect(db.actionLogs.undo(p.id, 'alice')).rejects.toBeInstanceOf(ValidationError)
      expect((await db.actionLogs.find({ actionType: 'UpdateSettings' }))[0]?.status).toBe('Applied')
      expect(() => db.actionLogs.registerApplier('ProjectUpdate', async () => {})).toThrow(ValidationError)
    })
  })
}
