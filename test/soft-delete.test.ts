import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { NotFoundError } from '../src/index.js'
import { libraryDialects as dialects } from './dialects.js'
import { useMigratedDatabase } from './helpers.js'

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: soft delete`, () => {
    const ctx = useMigratedDatabase(d)

    async function projectWithChildren(title: string) {
      const { db } = ctx
      return db.transaction(async (uow) => {
        const p = await uow.projectStates.add({ title, status: 'InProgress', jobId: `job-${title}` })
        const scenes = [
          await uow.sceneStates.add({
            projectId: p.id,
            sceneIndex: 0,
            scriptText: 'one',
            durationSeconds: 1.5,
          }),
          await uow.sceneStates.add({ projectId: p.id, sceneIndex: 1, scriptText: 'two', isCompleted: true }),
        ]
        const asset = await uow.assetStates.add({
          projectId: p.id,
          assetType: 'Image',
          filePath: '/tmp/a.png',
        })
        const checkpoint = await uow.renderCheckpoints.save(p.id, 'Script', {
          completedScenes: 1,
          totalScenes: 2,
        })
        return { p, scenes, asset, checkpoint }
      })
    }

    it('hides a soft-deleted project and its children from every read path, but keeps them', async () => {
      const { db } = ctx
      const { p, scenes, asset, checkpoint } = await projectWithChildren('Hidden')
      await db.projectStates.delete(p.id)
      expect(await db.projectStates.getById(p.id)).toBeNull()
      expect(await db.projectStates.find({ title: 'Hidden' })).toEqual([])
      expect(await db.projectStates.count({ title: 'Hidden' })).toBe(0)
      expect(await db.projectStates.any({ title: 'Hidden' })).toBe(false)
      expect(await db.projectStates.firstOrDefault({ title: 'Hidden' })).toBeNull()
      expect(await db.projectStates.getWithDetails(p.id)).toBeNull()
      expect(await db.projectStates.getByJobId('job-Hidden')).toBeNull()
      expect((await db.projectStates.getIncomplete()).map((x) => x.id)).not.toContain(p.id)
      expect((await db.projectStates.getAll()).map((x) => x.id)).not.toContain(p.id)
      expect(await db.sceneStates.getById(scenes[0]!.id)).toBeNull()
      expect(await db.sceneStates.find({ projectId: p.id })).toEqual([])
      expect(await db.sceneStates.count({ projectId: p.id })).toBe(0)
      expect(await db.assetStates.getById(asset.id)).toBeNull()
      expect(await db.renderCheckpoints.getLatest(p.id)).toBeNull()
      expect(await db.renderCheckpoints.getById(checkpoint.id)).toBeNull()

      expect((await db.projectStates.getById(p.id, { includeDeleted: true }))?.isDeleted).toBe(true)
      expect(await db.projectStates.count({ title: 'Hidden' }, { includeDeleted: true })).toBe(1)
      expect(await db.sceneStates.find({ projectId: p.id }, { includeDeleted: true })).toHaveLength(2)
      expect(await db.assetStates.getById(asset.id, { includeDeleted: true })).not.toBeNull()
    })

    it('restore brings the project and all children back unchanged', async () => {
      const { db } = ctx
      const { p } = await projectWithChildren('Restorable')
      const before = await db.projectStates.getWithDetails(p.id)
      await db.projectStates.delete(p.id)
      const restored = await db.projectStates.restore(p.id)
      expect(restored.isDeleted).toBe(false)
      expect(restored.deletedAt).toBeNull()
      expect(restored.deletedBy).toBeNull()
      const after = await db.projectStates.getWithDetails(p.id)
      expect(after?.scenes).toEqual(before?.scenes)
      expect(after?.assets).toEqual(before?.assets)
      expect(after?.checkpoints).toEqual(before?.checkpoints)
      expect(after?.title).toBe(before?.title)
      expect(after?.rowVersion).toBe(before!.rowVersion + 2)
    })

    it('a deleted project cannot be updated or deleted again (NotFoundError)', async () => {
      const { db } = ctx
      const { p } = await projectWithChildren('Gone')
      await db.projectStates.delete(p.id)
      const stale = await db.projectStates.getById(p.id, { includeDeleted: true })
      await expect(db.projectStates.update({ ...stale!, title: 'x' })).rejects.toBeInstanceOf(NotFoundError)
      await expect(db.projectStates.delete(p.id)).rejects.toBeInstanceOf(NotFoundError)
    })

    it('purge removes the project, its children and their history, leaving one purge entry', async () => {
      const { db } = ctx
      const { p, scenes } = await projectWithChildren('Erase me')
      await db.projectStates.update({ ...p, title: 'Erase me too' })
      await db.projectStates.delete(p.id)
      await db.transaction((uow) => uow.projectStates.purge(p.id), { actor: 'dpo' })
      expect(await db.projectStates.getById(p.id, { includeDeleted: true })).toBeNull()
      expect(await db.sceneStates.count({ projectId: p.id }, { includeDeleted: true })).toBe(0)
      expect(await db.assetStates.count({ projectId: p.id }, { includeDeleted: true })).toBe(0)
      expect(await db.renderCheckpoints.count({ projectId: p.id }, { includeDeleted: true })).toBe(0)
      expect(await db.auditEntries.history('scene_states', scenes[0]!.id)).toEqual([])
      const history = await db.auditEntries.history('project_states', p.id)
      expect(history.map((e) => [e.action, e.actor, e.changesJson])).toEqual([['purge', 'dpo', null]])
      await expect(db.projectStates.purge(p.id)).rejects.toBeInstanceOf(NotFoundError)
    })

    it("purge erases the undo/redo log naming the project or its rows, with its audit entries; others' stays", async () => {
      const { db } = ctx
      const { p, scenes, asset } = await projectWithChildren('Erase my log')
      const other = await db.projectStates.add({ title: 'Keep my log' })
      await db.transaction(
        async (uow) => {
          uow.trackActions({ projectId: p.id, userId: 'alice' })
          const project = (await uow.projectStates.getById(p.id))!
          await uow.projectStates.update({ ...project, title: 'Private title' })
          const scene = (await uow.sceneStates.getById(scenes[0]!.id))!
          await uow.sceneStates.update({ ...scene, scriptText: 'Private script' })
        },
        { actor: 'alice' },
      )
      // An undo updates an action row, so the log has audit entries of its own.
      await db.actionLogs.undo(p.id, 'alice')
      const tracked = await db.actionLogs.find({ projectId: p.id })
      expect(tracked).toHaveLength(2)
      // Project-less actions that name the project's rows by id (in any case) or in a payload.
      const naming = [
        await db.actionLogs.record({
          userId: 'bob',
          actionType: 'ImportMedia',
          affectedResourceIds: [asset.id.toUpperCase()],
        }),
        await db.actionLogs.record({
          userId: 'bob',
          actionType: 'Note',
          payload: { scene: scenes[1]!.id, text: 'Private note' },
        }),
        await db.actionLogs.record({ userId: 'bob', actionType: 'Note', inversePayload: { project: p.id } }),
      ]
      const kept = [
        await db.actionLogs.record({ userId: 'bob', projectId: other.id, actionType: 'Note' }),
        await db.actionLogs.record({ userId: 'bob', actionType: 'Note', affectedResourceIds: [other.id] }),
      ]
      const erased = [...tracked, ...naming].map((a) => a.id)
      expect(await db.auditEntries.history('action_logs', tracked[1]!.id)).not.toEqual([])

      await db.projectStates.purge(p.id)

      const left = (await db.actionLogs.find({})).map((a) => a.id)
      expect(left.filter((id) => erased.includes(id))).toEqual([])
      expect(left).toEqual(expect.arrayContaining(kept.map((a) => a.id)))
      for (const id of erased) expect(await db.auditEntries.history('action_logs', id)).toEqual([])
      const { rows } = await sql<{ n: number | string }>`
        select (select count(*) from action_logs where payload_json like '%Private%'
                  or inverse_payload_json like '%Private%')
             + (select count(*) from audit_entries where changes_json like '%Private%') as n`.execute(
        db.dialect.kysely,
      )
      expect(Number(rows[0]!.n)).toBe(0)
    })

    it('deleting a scene (no soft delete on scenes) removes it and records a purge', async () => {
      const { db } = ctx
      const { scenes } = await projectWithChildren('Scene delete')
      await db.sceneStates.delete(scenes[0]!)
      expect(await db.sceneStates.getById(scenes[0]!.id, { includeDeleted: true })).toBeNull()
      expect((await db.auditEntries.history('scene_states', scenes[0]!.id)).map((e) => e.action)).toEqual([
        'insert',
        'purge',
      ])
    })
  })
}
