import { describe, expect, it } from 'vitest'
import {
  ConcurrencyError,
  openDatabase,
  ValidationError,
  type AuraDatabase,
  type ProjectState,
  type UnitOfWork,
} from '../src/index.js'
import { libraryDialects as dialects } from './dialects.js'
import { scenesOf, useMigratedDatabase } from './helpers.js'

/** Runs `fn` in a unit of work that records its built-in edits of the project for `userId`. */
function tracked<T>(
  db: AuraDatabase,
  projectId: string,
  fn: (uow: UnitOfWork) => Promise<T>,
  userId = 'alice',
): Promise<T> {
  return db.transaction(
    async (uow) => {
      uow.trackActions({ projectId, userId })
      return fn(uow)
    },
    { actor: userId },
  )
}

async function setTitle(db: AuraDatabase, projectId: string, title: string): Promise<void> {
  await tracked(db, projectId, async (uow) => {
    const p = (await uow.projectStates.getById(projectId))!
    await uow.projectStates.update({ ...p, title })
  })
}

async function title(db: AuraDatabase, projectId: string): Promise<string | undefined> {
  return (await db.projectStates.getById(projectId))?.title
}

async function makeProject(db: AuraDatabase, name: string, scenes = 3): Promise<ProjectState> {
  const p = await db.projectStates.add({ title: name })
  for (let i = 0; i < scenes; i++) {
    await db.sceneStates.add({
      projectId: p.id,
      sceneIndex: i,
      scriptText: `${name}: scene ${i}`,
      durationSeconds: 1.5 * (i + 1),
      audioFilePath: `/audio/${i}.wav`,
    })
  }
  return p
}

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: undo / redo`, () => {
    const ctx = useMigratedDatabase(d)

    it('edit the title 3 times, undo 2, redo 1: the second edit; a new edit makes redo impossible', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'Original' })
      for (const t of ['First', 'Second', 'Third']) await setTitle(db, p.id, t)
      const log = await db.actionLogs.find({ projectId: p.id }, { orderBy: { sequence: 'asc' } })
      expect(log.map((a) => [a.sequence, a.actionType, a.status])).toEqual([
        [1, 'ProjectUpdate', 'Applied'],
        [2, 'ProjectUpdate', 'Applied'],
        [3, 'ProjectUpdate', 'Applied'],
      ])

      const undone = await db.actionLogs.undo(p.id, 'alice')
      expect(undone).toMatchObject({ id: log[2]!.id, status: 'Undone', undoneByUserId: 'alice' })
      expect(undone?.undoneAt).toBeInstanceOf(Date)
      expect(await title(db, p.id)).toBe('Second')
      await db.actionLogs.undo(p.id, 'alice')
      expect(await title(db, p.id)).toBe('First')
      const redone = await db.actionLogs.redo(p.id, 'alice')
      expect(redone).toMatchObject({ id: log[1]!.id, status: 'Applied', undoneAt: null })
      expect(await title(db, p.id)).toBe('Second')

      await setTitle(db, p.id, 'Fourth')
      expect(await db.actionLogs.redo(p.id, 'alice')).toBeNull()
      expect(await title(db, p.id)).toBe('Fourth')
      expect((await db.actionLogs.getById(log[2]!.id))?.status).toBe('Expired')

      // Undo continues down the stack: Fourth, then Second.
      await db.actionLogs.undo(p.id, 'alice')
      expect(await title(db, p.id)).toBe('Second')
      await db.actionLogs.undo(p.id, 'alice')
      expect(await title(db, p.id)).toBe('First')
      // Another user's history is separate.
      expect(await db.actionLogs.undo(p.id, 'bob')).toBeNull()
      expect(await title(db, p.id)).toBe('First')
    })

    it("undo's changes go through the audited update path", async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'Audited' })
      await setTitle(db, p.id, 'Edited')
      const before = (await db.auditEntries.history('project_states', p.id)).length
      await db.transaction((uow) => uow.actionLogs.undo(p.id, 'alice'), { actor: 'undoer' })
      const history = await db.auditEntries.history('project_states', p.id)
      expect(history).toHaveLength(before + 1)
      const entry = history.at(-1)!
      expect(entry).toMatchObject({ action: 'update', actor: 'undoer' })
      expect(JSON.parse(entry.changesJson!)).toEqual({ title: ['Edited', 'Audited'] })
      const project = (await db.projectStates.getById(p.id))!
      expect(project.modifiedBy).toBe('undoer')
      expect(project.rowVersion).toBe(3)
    })

    it('undo of scene add, delete, reorder and update restores the exact previous scene list; redo re-applies', async () => {
      const { db } = ctx
      const p = await makeProject(db, 'scenes')
      const original = await scenesOf(db, p.id)

      await tracked(db, p.id, (uow) =>
        uow.sceneStates.add({ projectId: p.id, sceneIndex: 3, scriptText: 'added' }),
      )
      const afterAdd = await scenesOf(db, p.id)
      expect(afterAdd).toHaveLength(4)
      await db.actionLogs.undo(p.id, 'alice')
      expect(await scenesOf(db, p.id)).toEqual(original)
      await db.actionLogs.redo(p.id, 'alice')
      expect(await scenesOf(db, p.id)).toEqual(afterAdd)
      await db.actionLogs.undo(p.id, 'alice')

      await tracked(db, p.id, (uow) => uow.sceneStates.delete(original[1]!.id))
      const afterDelete = await scenesOf(db, p.id)
      expect(afterDelete.map((s) => s.id)).toEqual([original[0]!.id, original[2]!.id])
      await db.actionLogs.undo(p.id, 'alice')
      expect(await scenesOf(db, p.id)).toEqual(original)
      await db.actionLogs.redo(p.id, 'alice')
      expect(await scenesOf(db, p.id)).toEqual(afterDelete)
      await db.actionLogs.undo(p.id, 'alice')
      expect(await scenesOf(db, p.id)).toEqual(original)

      const reversed = original.map((s) => s.id).reverse()
      const reordered = await tracked(db, p.id, (uow) => uow.sceneStates.reorder(p.id, reversed))
      expect(reordered.map((s) => s.id)).toEqual(reversed)
      const afterReorder = await scenesOf(db, p.id)
      expect(afterReorder.map((s) => [s.id, s.sceneIndex])).toEqual(reversed.map((id, i) => [id, i]))
      await db.actionLogs.undo(p.id, 'alice')
      expect(await scenesOf(db, p.id)).toEqual(original)
      await db.actionLogs.redo(p.id, 'alice')
      expect(await scenesOf(db, p.id)).toEqual(afterReorder)
      await db.actionLogs.undo(p.id, 'alice')

      await tracked(db, p.id, async (uow) => {
        const s = (await uow.sceneStates.getById(original[0]!.id))!
        await uow.sceneStates.update({
          ...s,
          scriptText: 'rewritten',
          isCompleted: true,
          imageFilePath: '/i.png',
        })
      })
      await db.actionLogs.undo(p.id, 'alice')
      expect(await scenesOf(db, p.id)).toEqual(original)

      const types = (await db.actionLogs.find({ projectId: p.id }, { orderBy: { sequence: 'asc' } })).map(
        (a) => a.actionType,
      )
      expect(types).toEqual(['SceneAdd', 'SceneDelete', 'SceneReorder', 'SceneUpdate'])
    })

    it('scenes added with addRange are recorded one SceneAdd each, undone newest first', async () => {
      const { db } = ctx
      const p = await makeProject(db, 'range')
      const original = await scenesOf(db, p.id)
      const added = await tracked(db, p.id, (uow) =>
        uow.sceneStates.addRange([
          { projectId: p.id, sceneIndex: 3, scriptText: 'fourth' },
          { projectId: p.id, sceneIndex: 4, scriptText: 'fifth' },
        ]),
      )
      const actions = await db.actionLogs.find({ projectId: p.id }, { orderBy: { sequence: 'asc' } })
      expect(actions.map((a) => [a.actionType, a.affectedResourceIds])).toEqual(
        added.map((s) => ['SceneAdd', expect.stringContaining(s.id)]),
      )
      await db.actionLogs.undo(p.id, 'alice')
      expect((await scenesOf(db, p.id)).map((s) => s.scriptText)).toEqual([
        ...original.map((s) => s.scriptText),
        'fourth',
      ])
      await db.actionLogs.undo(p.id, 'alice')
      expect(await scenesOf(db, p.id)).toEqual(original)
    })

    it('a stale target is a ConcurrencyError and nothing changes', async () => {
      const { db } = ctx
      const p = await makeProject(db, 'stale')
      const audit = async () => db.auditEntries.count()
      const statuses = async () =>
        (await db.actionLogs.find({ projectId: p.id }, { orderBy: { sequence: 'asc' } })).map((a) => a.status)

      // Title edited by someone else after the tracked edit.
      await setTitle(db, p.id, 'Mine')
      const mine = (await db.projectStates.getById(p.id))!
      await db.projectStates.update({ ...mine, title: 'Theirs' })
      let auditBefore = await audit()
      await expect(db.actionLogs.undo(p.id, 'alice')).rejects.toBeInstanceOf(ConcurrencyError)
      expect(await title(db, p.id)).toBe('Theirs')
      expect(await statuses()).toEqual(['Applied'])
      expect(await audit()).toBe(auditBefore)
      // A new tracked edit on top; its undo still works, then the stale one is refused again.
      await setTitle(db, p.id, 'Mine again')
      await db.actionLogs.undo(p.id, 'alice')
      expect(await title(db, p.id)).toBe('Theirs')
      await expect(db.actionLogs.undo(p.id, 'alice')).rejects.toBeInstanceOf(ConcurrencyError)

      // Redo of an undone edit whose target changed meanwhile.
      const q = await makeProject(db, 'stale redo', 0)
      await setTitle(db, q.id, 'Draft 2')
      await db.actionLogs.undo(q.id, 'alice')
      const current = (await db.projectStates.getById(q.id))!
      await db.projectStates.update({ ...current, title: 'Changed elsewhere' })
      await expect(db.actionLogs.redo(q.id, 'alice')).rejects.toBeInstanceOf(ConcurrencyError)
      expect(await title(db, q.id)).toBe('Changed elsewhere')

      // A scene changed after a tracked scene update.
      const r = await makeProject(db, 'stale scenes')
      const scene = (await db.sceneStates.find({ projectId: r.id, sceneIndex: 0 }))[0]!
      await tracked(db, r.id, (uow) => uow.sceneStates.update({ ...scene, scriptText: 'tracked' }))
      const edited = (await db.sceneStates.getById(scene.id))!
      await db.sceneStates.update({ ...edited, scriptText: 'someone else' })
      let scenes = await scenesOf(db, r.id)
      auditBefore = await audit()
      await expect(db.actionLogs.undo(r.id, 'alice')).rejects.toBeInstanceOf(ConcurrencyError)
      expect(await scenesOf(db, r.id)).toEqual(scenes)
      expect(await audit()).toBe(auditBefore)

      // Scenes added after a tracked reorder.
      const s = await makeProject(db, 'stale reorder')
      const ids = (await scenesOf(db, s.id)).map((x) => x.id)
      await tracked(db, s.id, (uow) => uow.sceneStates.reorder(s.id, [ids[2]!, ids[0]!, ids[1]!]))
      await db.sceneStates.add({ projectId: s.id, sceneIndex: 3, scriptText: 'late arrival' })
      scenes = await scenesOf(db, s.id)
      await expect(db.actionLogs.undo(s.id, 'alice')).rejects.toBeInstanceOf(ConcurrencyError)
      expect(await scenesOf(db, s.id)).toEqual(scenes)

      // A deleted scene's index taken by another scene before the undo.
      const t = await makeProject(db, 'stale delete')
      const victim = (await db.sceneStates.find({ projectId: t.id, sceneIndex: 1 }))[0]!
      await tracked(db, t.id, (uow) => uow.sceneStates.delete(victim.id))
      await db.sceneStates.add({ projectId: t.id, sceneIndex: 1, scriptText: 'squatter' })
      scenes = await scenesOf(db, t.id)
      await expect(db.actionLogs.undo(t.id, 'alice')).rejects.toBeInstanceOf(ConcurrencyError)
      expect(await scenesOf(db, t.id)).toEqual(scenes)
      expect(await db.sceneStates.getById(victim.id)).toBeNull()
    })

    it('recorded actions: expired ones cannot be undone, expire() marks them; unknown types are refused', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'Before' })
      await db.projectStates.update({ ...p, title: 'After' })
      const action = await db.actionLogs.record({
        userId: 'carol',
        projectId: p.id,
        actionType: 'ProjectUpdate',
        description: 'Rename',
        payload: { projectId: p.id, fields: { title: 'After' } },
        inversePayload: { projectId: p.id, fields: { title: 'Before' } },
        expiresAt: new Date(Date.now() - 1000),
      })
      expect(action).toMatchObject({ sequence: 1, status: 'Applied', inverseActionType: 'ProjectUpdate' })
      expect(await db.actionLogs.undo(p.id, 'carol')).toBeNull()
      expect(await title(db, p.id)).toBe('After')
      expect(await db.actionLogs.expire()).toBeGreaterThanOrEqual(1)
      expect((await db.actionLogs.getById(action.id))?.status).toBe('Expired')

      // The same action without expiry is undone for real.
      await db.actionLogs.record({
        userId: 'carol',
        projectId: p.id,
        actionType: 'ProjectUpdate',
        payload: { projectId: p.id, fields: { title: 'After' } },
        inversePayload: { projectId: p.id, fields: { title: 'Before' } },
      })
      await db.actionLogs.undo(p.id, 'carol')
      expect(await title(db, p.id)).toBe('Before')

      const custom = await db.actionLogs.record({
        userId: 'carol',
        projectId: p.id,
        actionType: 'ImportMedia',
        affectedResourceIds: ['a', 'b'],
        payload: { files: ['a.mp4'] },
      })
      expect(custom).toMatchObject({
        sequence: 3,
        affectedResourceIds: 'a,b',
        payloadJson: '{"files":["a.mp4"]}',
      })
      await expect(db.actionLogs.undo(p.id, 'carol')).rejects.toBeInstanceOf(ValidationError)
      expect((await db.actionLogs.getById(custom.id))?.status).toBe('Applied')
      expect(await title(db, p.id)).toBe('Before')

      await expect(
        db.actionLogs.record({
          userId: 'carol',
          projectId: p.id,
          actionType: 'SceneAdd',
          payload: { nope: 1 },
        }),
      ).rejects.toBeInstanceOf(ValidationError)
      await expect(
        db.transaction(async (uow) => uow.trackActions({ projectId: 'x', userId: 'u' })),
      ).rejects.toBeInstanceOf(ValidationError)
    })

    it('a new recorded action clears the redo stack', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'One' })
      await setTitle(db, p.id, 'Two')
      await setTitle(db, p.id, 'Three')
      await db.actionLogs.undo(p.id, 'alice')
      await db.actionLogs.undo(p.id, 'alice')
      await db.actionLogs.record({ userId: 'alice', projectId: p.id, actionType: 'Note' })
      const statuses = (await db.actionLogs.find({ projectId: p.id }, { orderBy: { sequence: 'asc' } })).map(
        (a) => a.status,
      )
      expect(statuses).toEqual(['Expired', 'Expired', 'Applied'])
      expect(await db.actionLogs.redo(p.id, 'alice')).toBeNull()
      expect(await title(db, p.id)).toBe('One')
    })

    it('concurrent records on two connections get distinct consecutive sequence numbers', async () => {
      const { db } = ctx
      const other = await openDatabase({ url: ctx.target.url })
      try {
        const p = await db.projectStates.add({ title: 'Busy' })
        const record = (h: AuraDatabase, projectId: string | null, i: number) =>
          h.actionLogs.record({ userId: 'dave', projectId, actionType: 'Note', description: `note ${i}` })
        const withProject = await Promise.all(
          Array.from({ length: 10 }, (_, i) => record(i % 2 ? db : other, p.id, i)),
        )
        expect(withProject.map((a) => a.sequence).sort((a, b) => a - b)).toEqual([
          1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
        ])
        const global = await Promise.all(
          Array.from({ length: 6 }, (_, i) => record(i % 2 ? db : other, null, i)),
        )
        expect(global.map((a) => a.sequence).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6])
      } finally {
        await other.close()
      }
    })

    it('edits of another project, or without tracking, are not recorded', async () => {
      const { db } = ctx
      const a = await db.projectStates.add({ title: 'Tracked' })
      const b = await db.projectStates.add({ title: 'Other' })
      await tracked(db, a.id, async (uow) => {
        const other = (await uow.projectStates.getById(b.id))!
        await uow.projectStates.update({ ...other, title: 'Other, edited' })
      })
      await db.projectStates.update({ ...a, title: 'Untracked edit' })
      expect(await db.actionLogs.count({ projectId: a.id })).toBe(0)
      expect(await db.actionLogs.count({ projectId: b.id })).toBe(0)
    })
  })
}
