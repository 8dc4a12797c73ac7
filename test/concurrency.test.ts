import { describe, expect, it } from 'vitest'
import { ConcurrencyError, NotFoundError, openDatabase, ValidationError } from '../src/index.js'
import { libraryDialects as dialects } from './dialects.js'
import { useMigratedDatabase } from './helpers.js'

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: optimistic concurrency`, () => {
    const ctx = useMigratedDatabase(d)

    it('second of two updates from the same read gets ConcurrencyError naming both versions; the row holds the first', async () => {
      const { db } = ctx
      const created = await db.projectStates.add({ title: 'Original' })
      // Two units load the same project (as two app sessions would).
      const seenByA = await db.transaction((uow) => uow.projectStates.getById(created.id))
      const seenByB = await db.transaction((uow) => uow.projectStates.getById(created.id))
      await db.transaction((uow) => uow.projectStates.update({ ...seenByA!, title: 'From A' }), {
        actor: 'a',
      })
      const error = await db
        .transaction((uow) => uow.projectStates.update({ ...seenByB!, title: 'From B' }), { actor: 'b' })
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ConcurrencyError)
      const ce = error as ConcurrencyError
      expect(ce.table).toBe('project_states')
      expect(ce.id).toBe(created.id)
      expect(ce.expectedVersion).toBe(1)
      expect(ce.actualVersion).toBe(2)
      expect(ce.message).toContain('expected row version 1')
      expect(ce.message).toContain('found 2')
      const row = await db.projectStates.getById(created.id)
      expect(row?.title).toBe('From A')
      expect(row?.modifiedBy).toBe('a')
      expect(row?.rowVersion).toBe(2)
    })

    it('a stale delete is a ConcurrencyError and deletes nothing', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'Keep' })
      await db.projectStates.update({ ...p, title: 'Edited' })
      await expect(db.projectStates.delete(p)).rejects.toBeInstanceOf(ConcurrencyError)
      expect((await db.projectStates.getById(p.id))?.title).toBe('Edited')
      const scene = await db.sceneStates.add({ projectId: p.id, sceneIndex: 0 })
      await db.sceneStates.update({ ...scene, scriptText: 'changed' })
      await expect(db.sceneStates.delete(scene)).rejects.toBeInstanceOf(ConcurrencyError)
      expect(await db.sceneStates.getById(scene.id)).not.toBeNull()
    })

    it('updating or deleting a missing row is NotFoundError, not ConcurrencyError', async () => {
      const { db } = ctx
      const id = '11111111-2222-4333-8444-555555555555'
      await expect(db.projectStates.update({ id, rowVersion: 1, title: 'x' })).rejects.toBeInstanceOf(
        NotFoundError,
      )
      await expect(db.projectStates.delete(id)).rejects.toBeInstanceOf(NotFoundError)
    })

    it('update requires the row version that was read', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'x' })
      await expect(db.projectStates.update({ id: p.id, title: 'y' } as never)).rejects.toBeInstanceOf(
        ValidationError,
      )
    })

    it('two connections racing to update the same row: exactly one wins', async () => {
      const other = await openDatabase({ url: ctx.target.url })
      try {
        const { db } = ctx
        const p = await db.projectStates.add({ title: 'Race' })
        const results = await Promise.allSettled([
          db.projectStates.update({ ...p, title: 'one' }),
          other.projectStates.update({ ...p, title: 'two' }),
        ])
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
        const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
        expect(failed.reason).toBeInstanceOf(ConcurrencyError)
        const row = await db.projectStates.getById(p.id)
        expect(row?.rowVersion).toBe(2)
        expect(['one', 'two']).toContain(row?.title)
      } finally {
        await other.close()
      }
    })

    it('an update that changes nothing writes nothing and keeps the version', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'Same' })
      const again = await db.projectStates.update({ ...p, title: 'Same' })
      expect(again.rowVersion).toBe(1)
      expect(await db.auditEntries.history('project_states', p.id)).toHaveLength(1)
    })
  })
}
