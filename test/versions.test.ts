import { createHash } from 'node:crypto'
import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import {
  IntegrityError,
  NotFoundError,
  openDatabase,
  ValidationError,
  type AuraDatabase,
  type ProjectState,
} from '../src/index.js'
import { libraryDialects as dialects } from './dialects.js'
import { scenesOf, useMigratedDatabase } from './helpers.js'

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex')

/** The four spec JSONs of a project, distinct per tag so tests sharing a database do not share blobs. */
function specs(tag: string) {
  return {
    briefJson: JSON.stringify({ topic: `Brief ${tag}`, audience: 'everyone' }),
    planSpecJson: JSON.stringify({ plan: `Plan ${tag}`, minutes: 2 }),
    voiceSpecJson: JSON.stringify({ voice: `Voice ${tag}`, rate: 1.1 }),
    renderSpecJson: JSON.stringify({ render: `Render ${tag}`, fps: 30 }),
  }
}

async function makeProject(db: AuraDatabase, tag: string, sceneCount = 3): Promise<ProjectState> {
  const project = await db.projectStates.add({ title: `Project ${tag}`, ...specs(tag) })
  for (let i = 0; i < sceneCount; i++) {
    await db.sceneStates.add({
      projectId: project.id,
      sceneIndex: i,
      scriptText: `Scene ${i} of ${tag}`,
      durationSeconds: 2.5 + i,
      imageFilePath: i === 1 ? `/img/${tag}-${i}.png` : null,
    })
  }
  return project
}

async function specsOf(db: AuraDatabase, projectId: string) {
  const p = await db.projectStates.getById(projectId)
  return {
    briefJson: p!.briefJson,
    planSpecJson: p!.planSpecJson,
    voiceSpecJson: p!.voiceSpecJson,
    renderSpecJson: p!.renderSpecJson,
  }
}

/** Blob rows read raw (no hash verification), hash → reference_count. */
async function blobRows(db: AuraDatabase): Promise<Map<string, number>> {
  const rows = await db.dialect.kysely
    .selectFrom('content_blobs')
    .select(['content_hash', 'reference_count'])
    .execute()
  return new Map(rows.map((r) => [r.content_hash as string, Number(r.reference_count)]))
}

/** Recounts the references: one per hash column of every live (not soft-deleted) version row. */
async function recount(db: AuraDatabase): Promise<Map<string, number>> {
  const { rows } = await sql<{ h: string; n: number | string }>`
    select h, count(*) as n from (
      select brief_hash as h from project_versions where not is_deleted
      union all select plan_hash from project_versions where not is_deleted
      union all select voice_hash from project_versions where not is_deleted
      union all select render_hash from project_versions where not is_deleted
      union all select timeline_hash from project_versions where not is_deleted
    ) refs where h is not null group by h`.execute(db.dialect.kysely)
  return new Map(rows.map((r) => [r.h, Number(r.n)]))
}

/** Every blob's reference_count equals the recount (0 for blobs nothing live references). */
async function expectExactCounts(db: AuraDatabase): Promise<void> {
  const [blobs, truth] = await Promise.all([blobRows(db), recount(db)])
  for (const [hash, count] of blobs) expect(count, `reference_count of ${hash}`).toBe(truth.get(hash) ?? 0)
  for (const hash of truth.keys()) expect(blobs.has(hash), `blob ${hash} exists`).toBe(true)
}

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: project versions`, () => {
    const ctx = useMigratedDatabase(d)

    it('100 versions of an unchanged project store 5 blobs; one changed scene adds exactly one timeline blob', async () => {
      const { db } = ctx
      const p = await makeProject(db, 'hundred')
      const before = await db.contentBlobs.count()
      const versions = []
      for (let i = 0; i < 100; i++) versions.push(await db.projectVersions.create(p.id, { type: 'Autosave' }))
      expect(await db.contentBlobs.count()).toBe(before + 5)
      expect(versions.map((v) => v.versionNumber)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
      const first = versions[0]!
      const s = specs('hundred')
      expect(first.briefHash).toBe(sha256(s.briefJson))
      expect(first.renderHash).toBe(sha256(s.renderSpecJson))
      const blobs = await blobRows(db)
      for (const h of [
        first.briefHash,
        first.planHash,
        first.voiceHash,
        first.renderHash,
        first.timelineHash,
      ]) {
        expect(blobs.get(h!)).toBe(100)
      }
      await expectExactCounts(db)

      const scene = (await db.sceneStates.find({ projectId: p.id, sceneIndex: 1 }))[0]!
      await db.sceneStates.update({ ...scene, scriptText: 'A rewritten second scene' })
      const changed = await db.projectVersions.create(p.id, { type: 'Manual', name: 'After rewrite' })
      expect(changed.versionNumber).toBe(101)
      expect(await db.contentBlobs.count()).toBe(before + 6)
      const newBlob = await db.contentBlobs.getById(changed.timelineHash!)
      expect(newBlob?.contentType).toBe('Timeline')
      expect(await db.projectVersions.compare(first.id, changed.id)).toEqual({
        changed: ['timeline'],
        unchanged: ['brief', 'plan', 'voice', 'render'],
      })
      await expectExactCounts(db)

      const size = await db.projectVersions.getStorageSize(p.id)
      expect(size.versions).toBe(101)
      expect(size.referencedBytes).toBe(
        versions.reduce((n, v) => n + v.storageSizeBytes, 0) + changed.storageSizeBytes,
      )
      const distinct = new Set(
        [...versions, changed].flatMap((v) => [
          v.briefHash,
          v.planHash,
          v.voiceHash,
          v.renderHash,
          v.timelineHash,
        ]),
      )
      const stored = await db.contentBlobs.find({ contentHash: { in: [...distinct] as string[] } })
      expect(size.storedBytes).toBe(stored.reduce((n, b) => n + b.sizeBytes, 0))
      expect(size.storedBytes).toBeLessThan(size.referencedBytes / 50)
    })

    it('a version whose two parts have the same content takes two references to one blob', async () => {
      const { db } = ctx
      const same = JSON.stringify({ shared: 'identical brief and plan' })
      const p = await db.projectStates.add({ title: 'Twin parts', briefJson: same, planSpecJson: same })
      const v = await db.projectVersions.create(p.id, { type: 'Manual' })
      expect(v.briefHash).toBe(sha256(same))
      expect(v.planHash).toBe(v.briefHash)
      expect((await blobRows(db)).get(v.briefHash!)).toBe(2)
      await expectExactCounts(db)
      await db.projectVersions.delete(v.id)
      expect((await blobRows(db)).get(v.briefHash!)).toBe(0)
      await db.projectVersions.restore(v.id)
      expect((await blobRows(db)).get(v.briefHash!)).toBe(2)
      await expectExactCounts(db)
    })

    it('stores a snapshot whose content is exactly the specs and the canonical timeline', async () => {
      const { db } = ctx
      const p = await makeProject(db, 'content')
      const v = await db.projectVersions.create(p.id, { type: 'Manual', name: 'First', trigger: 'UserSave' })
      expect(v).toMatchObject({ versionType: 'Manual', name: 'First', trigger: 'UserSave', versionNumber: 1 })
      const content = await db.projectVersions.getContent(v.id)
      expect(content.brief).toBe(p.briefJson)
      expect(content.plan).toBe(p.planSpecJson)
      expect(content.voice).toBe(p.voiceSpecJson)
      expect(content.render).toBe(p.renderSpecJson)
      expect(content.timeline).toEqual(await scenesOf(db, p.id))
      const timelineText = await db.contentBlobs.getContent(v.timelineHash!)
      expect(sha256(timelineText)).toBe(v.timelineHash)
      const bytes = [p.briefJson, p.planSpecJson, p.voiceSpecJson, p.renderSpecJson, timelineText]
        .map((t) => Buffer.byteLength(t!, 'utf8'))
        .reduce((a, b) => a + b, 0)
      expect(v.storageSizeBytes).toBe(bytes)
    })

    it('refuses bad input before writing and a missing project with NotFoundError', async () => {
      const { db } = ctx
      const p = await makeProject(db, 'bad-input', 0)
      await expect(db.projectVersions.create(p.id, { type: 'Nightly' as never })).rejects.toBeInstanceOf(
        ValidationError,
      )
      await expect(db.projectVersions.create('not-a-uuid', { type: 'Manual' })).rejects.toBeInstanceOf(
        ValidationError,
      )
      await expect(
        db.projectVersions.create('11111111-2222-4333-8444-555555555555', { type: 'Manual' }),
      ).rejects.toBeInstanceOf(NotFoundError)
      const v = await db.projectVersions.create(p.id, { type: 'Manual' })
      await expect(db.projectVersions.update({ ...v, briefHash: null })).rejects.toBeInstanceOf(
        ValidationError,
      )
      await expect(
        db.contentBlobs.update({ contentHash: v.timelineHash!, content: 'x' }),
      ).rejects.toBeInstanceOf(ValidationError)
      await expect(
        db.contentBlobs.add({
          contentHash: sha256('other'),
          content: 'forged',
          contentType: 'Asset',
          sizeBytes: 6,
        }),
      ).rejects.toBeInstanceOf(ValidationError)
      expect(await db.projectVersions.count({ projectId: p.id })).toBe(1)
    })

    it('two concurrent creates, on one handle and on two connections, all succeed with distinct consecutive numbers', async () => {
      const { db } = ctx
      const other = await openDatabase({ url: ctx.target.url, actor: 'other' })
      try {
        const p = await makeProject(db, 'race')
        const pair = await Promise.all([
          db.projectVersions.create(p.id, { type: 'Manual' }),
          db.projectVersions.create(p.id, { type: 'Manual' }),
        ])
        expect(pair.map((v) => v.versionNumber).sort((a, b) => a - b)).toEqual([1, 2])
        const many = await Promise.all(
          Array.from({ length: 5 }, () => [
            db.projectVersions.create(p.id, { type: 'Autosave' }),
            other.projectVersions.create(p.id, { type: 'Autosave' }),
          ]).flat(),
        )
        expect(many.map((v) => v.versionNumber).sort((a, b) => a - b)).toEqual([
          3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
        ])
        await expectExactCounts(db)
      } finally {
        await other.close()
      }
    })

    it('never reuses a number: a soft-deleted newest version keeps its number', async () => {
      const { db } = ctx
      const p = await makeProject(db, 'numbers', 1)
      await db.projectVersions.create(p.id, { type: 'Manual' })
      const second = await db.projectVersions.create(p.id, { type: 'Manual' })
      await db.projectVersions.delete(second.id)
      const third = await db.projectVersions.create(p.id, { type: 'Manual' })
      expect(third.versionNumber).toBe(3)
    })

    it('restoring version 3 after edits gives back its specs and scenes exactly; the RestorePoint holds the state before', async () => {
      const { db } = ctx
      const p = await makeProject(db, 'restore')
      await db.projectVersions.create(p.id, { type: 'Manual' })
      let project = (await db.projectStates.getById(p.id))!
      project = await db.projectStates.update({
        ...project,
        briefJson: JSON.stringify({ topic: 'second brief' }),
      })
      await db.projectVersions.create(p.id, { type: 'Autosave' })
      const s1 = (await db.sceneStates.find({ projectId: p.id, sceneIndex: 1 }))[0]!
      await db.sceneStates.update({ ...s1, scriptText: 'scene one, take two', isCompleted: true })
      await db.sceneStates.add({ projectId: p.id, sceneIndex: 3, scriptText: 'a fourth scene' })
      const v3 = await db.projectVersions.create(p.id, { type: 'Manual', name: 'Good state' })
      expect(v3.versionNumber).toBe(3)
      const specsAt3 = await specsOf(db, p.id)
      const scenesAt3 = await scenesOf(db, p.id)

      project = (await db.projectStates.getById(p.id))!
      await db.projectStates.update({
        ...project,
        briefJson: JSON.stringify({ topic: 'third brief' }),
        renderSpecJson: null,
      })
      const [first, second] = await db.sceneStates.find(
        { projectId: p.id },
        { orderBy: { sceneIndex: 'asc' } },
      )
      await db.sceneStates.delete(first!.id)
      await db.sceneStates.update({ ...second!, scriptText: 'edited after v3', durationSeconds: 9 })
      await db.sceneStates.add({ projectId: p.id, sceneIndex: 7, scriptText: 'added after v3' })
      const current = await db.sceneStates.find({ projectId: p.id }, { orderBy: { sceneIndex: 'asc' } })
      await db.sceneStates.reorder(p.id, current.map((s) => s.id).reverse())
      const specsBefore = await specsOf(db, p.id)
      const scenesBefore = await scenesOf(db, p.id)
      expect(scenesBefore).not.toEqual(scenesAt3)

      const result = await db.projectVersions.revertTo(p.id, v3.id)
      expect(await specsOf(db, p.id)).toEqual(specsAt3)
      expect(await scenesOf(db, p.id)).toEqual(scenesAt3)
      expect(result.scenes.map((s) => s.id)).toEqual(scenesAt3.map((s) => s.id))

      expect(result.restorePoint).toMatchObject({ versionType: 'RestorePoint', versionNumber: 4 })
      const saved = await db.projectVersions.getContent(result.restorePoint.id)
      expect({
        briefJson: saved.brief,
        planSpecJson: saved.plan,
        voiceSpecJson: saved.voice,
        renderSpecJson: saved.render,
      }).toEqual(specsBefore)
      expect(saved.timeline).toEqual(scenesBefore)

      // The restore went through the audited paths.
      const history = await db.auditEntries.history('project_states', p.id)
      const last = history.at(-1)!
      expect(last.action).toBe('update')
      expect(Object.keys(JSON.parse(last.changesJson!))).toEqual(
        expect.arrayContaining(['briefJson', 'renderSpecJson']),
      )

      // restore keeps its one meaning: two arguments are refused, never read as a soft-delete undo.
      const twoArguments = db.projectVersions.restore as unknown as (a: string, b: string) => Promise<unknown>
      await expect(twoArguments.call(db.projectVersions, p.id, v3.id)).rejects.toThrow(
        /call projectVersions\.revertTo\(projectId, versionId\)/,
      )

      // And the state before the restore comes back from the RestorePoint.
      await db.projectVersions.revertTo(p.id, result.restorePoint.id)
      expect(await specsOf(db, p.id)).toEqual(specsBefore)
      expect(await scenesOf(db, p.id)).toEqual(scenesBefore)
      await expectExactCounts(db)
    })

    it('one flipped character in a stored blob makes reading (and restoring) that version an IntegrityError', async () => {
      const { db } = ctx
      const p = await makeProject(db, 'tamper')
      const v = await db.projectVersions.create(p.id, { type: 'Manual' })
      const kysely = db.dialect.kysely
      const original = (
        await kysely
          .selectFrom('content_blobs')
          .select('content')
          .where('content_hash', '=', v.briefHash)
          .executeTakeFirstOrThrow()
      ).content as string
      const at = original.indexOf('Brief')
      const flipped = `${original.slice(0, at)}X${original.slice(at + 1)}`
      expect(flipped.length).toBe(original.length)
      await kysely
        .updateTable('content_blobs')
        .set({ content: flipped })
        .where('content_hash', '=', v.briefHash)
        .execute()
      try {
        await expect(db.projectVersions.getContent(v.id)).rejects.toBeInstanceOf(IntegrityError)
        await expect(db.contentBlobs.getContent(v.briefHash!)).rejects.toBeInstanceOf(IntegrityError)
        await expect(db.contentBlobs.getById(v.briefHash!)).rejects.toBeInstanceOf(IntegrityError)

        const versionsBefore = await db.projectVersions.count({ projectId: p.id })
        const specsBefore = await specsOf(db, p.id)
        const project = (await db.projectStates.getById(p.id))!
        await db.projectStates.update({ ...project, briefJson: JSON.stringify({ edited: true }) })
        const edited = await specsOf(db, p.id)
        await expect(db.projectVersions.revertTo(p.id, v.id)).rejects.toBeInstanceOf(IntegrityError)
        expect(await db.projectVersions.count({ projectId: p.id })).toBe(versionsBefore)
        expect(await specsOf(db, p.id)).toEqual(edited)
        expect(edited).not.toEqual(specsBefore)
      } finally {
        await kysely
          .updateTable('content_blobs')
          .set({ content: original })
          .where('content_hash', '=', v.briefHash)
          .execute()
      }
      expect((await db.projectVersions.getContent(v.id)).brief).toBe(original)
    })

    it('pruneAutosaves keeps the newest autosaves, important ones and manual versions, and releases references', async () => {
      const { db } = ctx
      const p = await makeProject(db, 'prune', 1)
      const scene = (await db.sceneStates.find({ projectId: p.id }))[0]!
      const autosaves = []
      for (let i = 0; i < 6; i++) {
        const s = (await db.sceneStates.getById(scene.id))!
        await db.sceneStates.update({ ...s, scriptText: `draft ${i}` })
        autosaves.push(await db.projectVersions.create(p.id, { type: 'Autosave' }))
      }
      const manual = await db.projectVersions.create(p.id, { type: 'Manual' })
      const important = await db.projectVersions.update({ ...autosaves[1]!, isMarkedImportant: true })
      const future = new Date(Date.now() + 60_000)
      const old = await db.projectVersions.getOldAutosaves(p.id, future)
      expect(old.map((v) => v.versionNumber)).toEqual([1, 3, 4, 5, 6])

      expect(await db.projectVersions.pruneAutosaves(p.id, { keep: 2, olderThan: future })).toBe(3)
      const left = await db.projectVersions.find({ projectId: p.id }, { orderBy: { versionNumber: 'asc' } })
      expect(left.map((v) => v.versionNumber)).toEqual([important.versionNumber, 5, 6, manual.versionNumber])
      expect(await db.projectVersions.count({ projectId: p.id }, { includeDeleted: true })).toBe(4)
      await expectExactCounts(db)
      await expect(db.projectVersions.pruneAutosaves(p.id, { keep: -1 })).rejects.toBeInstanceOf(
        ValidationError,
      )
    })
  })

  describe.skipIf(!d.available)(`${d.label}: content blob garbage collection`, () => {
    const ctx = useMigratedDatabase(d)

    it('deleting versions and collecting garbage removes exactly the blobs nothing references', async () => {
      const { db } = ctx
      const p = await makeProject(db, 'gc', 2)
      const s = specs('gc')
      const v1 = await db.projectVersions.create(p.id, { type: 'Manual' })
      const project = (await db.projectStates.getById(p.id))!
      await db.projectStates.update({ ...project, briefJson: JSON.stringify({ topic: 'gc 2' }) })
      const scene = (await db.sceneStates.find({ projectId: p.id, sceneIndex: 0 }))[0]!
      await db.sceneStates.update({ ...scene, scriptText: 'changed for v2' })
      const v2 = await db.projectVersions.create(p.id, { type: 'Manual' })
      const v3 = await db.projectVersions.create(p.id, { type: 'Manual' })
      expect(await db.contentBlobs.count()).toBe(7)
      await expectExactCounts(db)

      // Nothing is garbage while every version is live.
      expect(await db.contentBlobs.collectGarbage()).toEqual({ blobs: 0, bytes: 0 })

      // v1 alone held its brief and timeline. Soft-deleted, it releases them; its row still
      // points at them, so they stay until it is purged.
      await db.projectVersions.delete(v1.id)
      await expectExactCounts(db)
      const counts = await blobRows(db)
      expect(counts.get(sha256(s.briefJson))).toBe(0)
      expect(counts.get(v1.timelineHash!)).toBe(0)
      expect(counts.get(v1.planHash!)).toBe(2)
      expect(await db.contentBlobs.collectGarbage()).toEqual({ blobs: 0, bytes: 0 })

      // Restoring it takes the references back.
      await db.projectVersions.restore(v1.id)
      expect((await blobRows(db)).get(v1.timelineHash!)).toBe(1)
      await expectExactCounts(db)
      await db.projectVersions.delete(v1.id)

      await db.projectVersions.purge(v1.id)
      await expectExactCounts(db)
      const v1Only = [v1.briefHash!, v1.timelineHash!]
      const v1Bytes =
        Buffer.byteLength(s.briefJson) + Buffer.byteLength(await contentOf(db, v1.timelineHash!))
      expect(await db.contentBlobs.collectGarbage()).toEqual({ blobs: 2, bytes: v1Bytes })
      // Each removed blob leaves its own purge entry, naming it.
      const purges = await db.auditEntries.find({ tableName: 'content_blobs', action: 'purge' })
      expect(purges.map((e) => e.rowId).sort()).toEqual([...v1Only].sort())
      const remaining = await blobRows(db)
      expect(remaining.size).toBe(5)
      for (const h of v1Only) expect(remaining.has(h)).toBe(false)
      for (const h of [v2.briefHash, v2.planHash, v2.voiceHash, v2.renderHash, v2.timelineHash]) {
        expect(remaining.get(h!)).toBe(2)
      }

      // Purging a live version releases its references too; v3 still shares everything.
      await db.projectVersions.purge(v2.id)
      await expectExactCounts(db)
      expect(await db.contentBlobs.collectGarbage()).toEqual({ blobs: 0, bytes: 0 })

      // Purging the project releases the references of its versions.
      await db.projectStates.purge(p.id)
      expect(await db.projectVersions.getById(v3.id, { includeDeleted: true })).toBeNull()
      await expectExactCounts(db)
      expect((await db.contentBlobs.collectGarbage()).blobs).toBe(5)
      expect(await db.contentBlobs.count()).toBe(0)
    })
  })
}

async function contentOf(db: AuraDatabase, hash: string): Promise<string> {
  const row = await db.dialect.kysely
    .selectFrom('content_blobs')
    .select('content')
    .where('content_hash', '=', hash)
    .executeTakeFirstOrThrow()
  return row.content as string
}
