import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import {
  AuraDataError,
  ConcurrencyError,
  ConstraintError,
  NotFoundError,
  UsageError,
  ValidationError,
} from '../src/index.js'
import { libraryDialects as dialects } from './dialects.js'
import { useMigratedDatabase } from './helpers.js'

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: unit of work`, () => {
    const ctx = useMigratedDatabase(d)

    it('commits every write of db.transaction at once, with the unit actor', async () => {
      const { db } = ctx
      const id = await db.transaction(
        async (uow) => {
          const p = await uow.projectStates.add({ title: 'Launch video' })
          await uow.sceneStates.add({ projectId: p.id, sceneIndex: 0, scriptText: 'Hello' })
          return p.id
        },
        { actor: 'bob' },
      )
      const details = await db.projectStates.getWithDetails(id)
      expect(details?.createdBy).toBe('bob')
      expect(details?.scenes).toHaveLength(1)
      expect(details?.scenes[0]?.createdBy).toBe('bob')
    })

    it('leaves no trace (rows, audit entries) of a unit that throws after five writes', async () => {
      const { db } = ctx
      const before = {
        projects: await db.projectStates.count({}, { includeDeleted: true }),
        scenes: await db.sceneStates.count(),
        audit: await db.auditEntries.count(),
      }
      let projectId = ''
      await expect(
        db.transaction(async (uow) => {
          const p = await uow.projectStates.add({ title: 'Doomed' })
          projectId = p.id
          for (let i = 0; i < 3; i++) await uow.sceneStates.add({ projectId: p.id, sceneIndex: i })
          await uow.projectStates.update({ ...p, title: 'Doomed, edited' })
          throw new Error('boom after five writes')
        }),
      ).rejects.toThrow('boom after five writes')
      expect(await db.projectStates.getById(projectId, { includeDeleted: true })).toBeNull()
      expect(await db.projectStates.count({}, { includeDeleted: true })).toBe(before.projects)
      expect(await db.sceneStates.count()).toBe(before.scenes)
      expect(await db.auditEntries.count()).toBe(before.audit)
      expect(await db.auditEntries.history('project_states', projectId)).toEqual([])
    })

    it('explicit units commit and roll back; finishing twice or reusing a unit is a UsageError', async () => {
      const { db } = ctx
      const kept = await db.beginUnitOfWork({ actor: 'carol' })
      const p = await kept.projectStates.add({ title: 'Kept' })
      await kept.commit()
      await expect(kept.commit()).rejects.toBeInstanceOf(UsageError)
      await expect(kept.rollback()).rejects.toBeInstanceOf(UsageError)
      await expect(kept.projectStates.getById(p.id)).rejects.toBeInstanceOf(UsageError)
      expect((await db.projectStates.getById(p.id))?.createdBy).toBe('carol')

      const dropped = await db.beginUnitOfWork()
      const q = await dropped.projectStates.add({ title: 'Dropped' })
      await dropped.rollback()
      await expect(dropped.commit()).rejects.toBeInstanceOf(UsageError)
      expect(await db.projectStates.getById(q.id)).toBeNull()
    })

    it('refuses to commit a unit in which an operation failed, and rolls it back', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'Target' })
      const uow = await db.beginUnitOfWork()
      const other = await uow.projectStates.add({ title: 'Written before the failure' })
      await expect(uow.projectStates.update({ ...p, rowVersion: 99, title: 'x' })).rejects.toBeInstanceOf(
        ConcurrencyError,
      )
      await expect(uow.commit()).rejects.toBeInstanceOf(UsageError)
      expect(uow.isActive).toBe(false)
      expect(await db.projectStates.getById(other.id)).toBeNull()
    })

    it('one rule for any failed operation, caught or not: the unit is poisoned, commit refuses and writes nothing, rollback is always safe', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'Parent' })
      await db.sceneStates.add({ projectId: p.id, sceneIndex: 0, scriptText: 'taken' })
      const failures = {
        // Refused before any SQL ran.
        validation: (uow: Awaited<ReturnType<typeof db.beginUnitOfWork>>) =>
          uow.projectStates.add({ title: '' }),
        // Refused by the database.
        constraint: (uow: Awaited<ReturnType<typeof db.beginUnitOfWork>>) =>
          uow.sceneStates.add({ projectId: p.id, sceneIndex: 0, scriptText: 'duplicate' }),
      }
      for (const [kind, fail] of Object.entries(failures)) {
        const uow = await db.beginUnitOfWork()
        const written = await uow.projectStates.add({ title: `written before a ${kind} failure` })
        const error = await fail(uow).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(kind === 'validation' ? ValidationError : ConstraintError)
        const refused = await uow.commit().catch((e: unknown) => e)
        expect(refused).toBeInstanceOf(UsageError)
        expect((refused as UsageError).cause).toBe(error)
        // The usual `catch { await uow.rollback() }` after the refused commit, even twice.
        await uow.rollback()
        await uow.rollback()
        expect(await db.projectStates.getById(written.id)).toBeNull()

        // The same through db.transaction, with the error caught inside the callback.
        const refusedUnit = await db
          .transaction(async (unit) => {
            await unit.projectStates.add({ title: `kept by no one (${kind})` })
            await fail(unit).catch(() => {})
          })
          .catch((e: unknown) => e)
        expect(refusedUnit).toBeInstanceOf(UsageError)
        expect(await db.projectStates.count({ title: `kept by no one (${kind})` })).toBe(0)
      }
      // A unit whose operations all succeeded commits as always.
      const fine = await db.beginUnitOfWork()
      const kept = await fine.projectStates.add({ title: 'committed' })
      await fine.commit()
      expect((await db.projectStates.getById(kept.id))?.title).toBe('committed')
    })

    it('rejects db-level repository calls inside db.transaction', async () => {
      const { db } = ctx
      await expect(db.transaction(async () => db.projectStates.count())).rejects.toBeInstanceOf(UsageError)
    })

    it('refuses a unit of work started inside db.transaction at once, and the outer unit writes nothing', async () => {
      const { db } = ctx
      const before = await db.projectStates.count()
      await expect(
        db.transaction(async (uow) => {
          await uow.projectStates.add({ title: 'Outer' })
          await db.transaction(async (inner) => inner.projectStates.add({ title: 'Inner' }))
        }),
      ).rejects.toThrow(/inside db\.transaction/)
      await expect(db.transaction(async () => db.beginUnitOfWork())).rejects.toBeInstanceOf(UsageError)
      expect(await db.projectStates.count()).toBe(before)
    })

    it('uses one clock reading for every audit timestamp of a unit', async () => {
      const { db } = ctx
      const [a, b] = await db.transaction(async (uow) => {
        const a = await uow.projectStates.add({ title: 'A' })
        await new Promise((r) => setTimeout(r, 15))
        const b = await uow.projectStates.add({ title: 'B' })
        return [a, b]
      })
      expect(a.createdAt.getTime()).toBe(b.createdAt.getTime())
      const entries = await db.auditEntries.find({ rowId: { in: [a.id, b.id] } })
      expect(new Set(entries.map((e) => e.occurredAt.getTime()))).toEqual(new Set([a.createdAt.getTime()]))
      expect(new Set(entries.map((e) => e.correlationId)).size).toBe(1)
    })

    it("writes the unit's correlation id on every audit entry: single and multi-row inserts, updates, deletes", async () => {
      const { db } = ctx
      const correlationId = 'import-batch-42'
      const ids = await db.transaction(
        async (uow) => {
          const project = await uow.projectStates.add({ title: 'Correlated' })
          const scenes = await uow.sceneStates.addRange([
            { projectId: project.id, sceneIndex: 0 },
            { projectId: project.id, sceneIndex: 1 },
          ])
          const updated = await uow.projectStates.update({ ...project, title: 'Correlated, renamed' })
          await uow.sceneStates.delete(scenes[1]!)
          return [updated.id, ...scenes.map((s) => s.id)]
        },
        { correlationId },
      )
      const entries = await db.auditEntries.find({ rowId: { in: ids } })
      // Scenes have no soft delete: deleting one purges it.
      expect(entries.map((e) => e.action).sort()).toEqual(['insert', 'insert', 'insert', 'purge', 'update'])
      for (const entry of entries) expect(entry.correlationId).toBe(correlationId)
    })

    it('validates before any SQL: a bad addRange writes nothing', async () => {
      const { db } = ctx
      const before = await db.projectStates.count()
      await expect(db.projectStates.addRange([{ title: 'ok' }, { title: '   ' }])).rejects.toBeInstanceOf(
        ValidationError,
      )
      expect(await db.projectStates.count()).toBe(before)
    })

    it('addRange is all or none on a database failure: a duplicate scene index leaves no first row', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'Range' })
      const audited = await db.auditEntries.count()
      const error = await db.sceneStates
        .addRange([
          { projectId: p.id, sceneIndex: 0, scriptText: 'first' },
          { projectId: p.id, sceneIndex: 0, scriptText: 'same index' },
        ])
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ConstraintError)
      expect(await db.sceneStates.count({ projectId: p.id })).toBe(0)
      expect(await db.auditEntries.count()).toBe(audited)
    })

    it('addRange returns the rows as stored in the order given, each with its own audit entry, whatever fields each gives', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'Many scenes' })
      const given = [
        { projectId: p.id, sceneIndex: 2, scriptText: 'third' },
        { projectId: p.id, sceneIndex: 0, scriptText: 'first', durationSeconds: 1.5 },
        { projectId: p.id, sceneIndex: 1, scriptText: 'second', durationSeconds: 2 },
        { projectId: p.id, sceneIndex: 3 },
      ]
      const scenes = await db.transaction((uow) => uow.sceneStates.addRange(given), { actor: 'eve' })
      expect(scenes.map((s) => [s.sceneIndex, s.scriptText, s.durationSeconds])).toEqual([
        [2, 'third', 0],
        [0, 'first', 1.5],
        [1, 'second', 2],
        [3, '', 0],
      ])
      expect(new Set(scenes.map((s) => s.id)).size).toBe(4)
      expect(scenes.every((s) => s.rowVersion === 1 && s.createdBy === 'eve')).toBe(true)
      const stored = await db.sceneStates.find({ projectId: p.id }, { orderBy: { sceneIndex: 'asc' } })
      expect(stored.map((s) => s.id)).toEqual([scenes[1]!.id, scenes[2]!.id, scenes[0]!.id, scenes[3]!.id])
      const entries = await db.auditEntries.find({
        tableName: 'scene_states',
        rowId: { in: scenes.map((s) => s.id) },
      })
      expect(entries.map((e) => [e.rowId, e.action, e.actor, e.changesJson]).sort()).toEqual(
        scenes.map((s) => [s.id, 'insert', 'eve', null]).sort(),
      )
      expect(await db.sceneStates.addRange([])).toEqual([])
    })

    it('addRange refuses scenes of a soft-deleted project with a NotFoundError, writing none of the rows', async () => {
      const { db } = ctx
      const live = await db.projectStates.add({ title: 'Live' })
      const gone = await db.projectStates.add({ title: 'Gone' })
      await db.projectStates.delete(gone.id)
      const audited = await db.auditEntries.count()
      const error = await db.sceneStates
        .addRange([
          { projectId: live.id, sceneIndex: 0 },
          { projectId: gone.id, sceneIndex: 0 },
          { projectId: live.id, sceneIndex: 1 },
        ])
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(NotFoundError)
      expect(await db.sceneStates.count({ projectId: live.id })).toBe(0)
      expect(await db.auditEntries.count()).toBe(audited)
    })

    it("an update's audit entry is in the unit's next read, and rolls back with the unit", async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'Before' })
      const seen = await db.transaction(async (uow) => {
        await uow.projectStates.update({ ...p, title: 'After' })
        return (await uow.auditEntries.history('project_states', p.id)).map((e) => e.action)
      })
      expect(seen).toEqual(['insert', 'update'])
      const current = (await db.projectStates.getById(p.id))!
      await expect(
        db.transaction(async (uow) => {
          await uow.projectStates.update({ ...current, title: 'Discarded' })
          throw new Error('changed my mind')
        }),
      ).rejects.toThrow('changed my mind')
      expect((await db.projectStates.getById(p.id))?.title).toBe('After')
      expect(await db.auditEntries.history('project_states', p.id)).toHaveLength(2)
    })

    it('an audit entry the database refuses fails the write, whichever statement it travels with; nothing is written', async () => {
      const { db } = ctx
      const kysely = db.dialect.kysely
      const p = await db.projectStates.add({ title: 'Kept' })
      const refuse =
        d.name === 'sqlite'
          ? [
              sql`create trigger refuse_audit before insert on audit_entries when new.actor = 'refused' begin select raise(abort, 'audit refused'); end`,
            ]
          : [
              sql`create function refuse_audit() returns trigger language plpgsql as $$ begin if new.actor = 'refused' then raise exception 'audit refused'; end if; return new; end $$`,
              sql`create trigger refuse_audit before insert on audit_entries for each row execute function refuse_audit()`,
            ]
      for (const statement of refuse) await statement.execute(kysely)
      try {
        const message = (error: unknown) => {
          const e = error as { message: string; cause?: { message?: string } }
          return `${e.message} ${e.cause?.message ?? ''}`
        }
        // Alone in its unit: the entry goes with the COMMIT on PostgreSQL.
        const alone = await db
          .transaction((uow) => uow.projectStates.update({ ...p, title: 'Lost' }), { actor: 'refused' })
          .catch((e: unknown) => e)
        expect(alone).toBeInstanceOf(AuraDataError)
        expect(message(alone)).toContain('audit refused')
        // Followed by a read: the entry goes with the read, whose error is the entry's.
        const followed = await db
          .transaction(
            async (uow) => {
              await uow.projectStates.update({ ...p, title: 'Lost' })
              await uow.projectStates.getById(p.id)
            },
            { actor: 'refused' },
          )
          .catch((e: unknown) => e)
        expect(message(followed)).toContain('audit refused')
        const stored = await db.projectStates.getById(p.id)
        expect([stored?.title, stored?.rowVersion]).toEqual(['Kept', 1])
        expect(await db.auditEntries.history('project_states', p.id)).toHaveLength(1)
      } finally {
        await sql`drop trigger refuse_audit${sql.raw(d.name === 'sqlite' ? '' : ' on audit_entries')}`.execute(
          kysely,
        )
        if (d.name !== 'sqlite') await sql`drop function refuse_audit()`.execute(kysely)
      }
    })

    it('deleteRange is all or none', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'Keep me' })
      const missing = '00000000-0000-4000-8000-000000000000'
      await expect(db.projectStates.deleteRange([p.id, missing])).rejects.toBeInstanceOf(NotFoundError)
      expect(await db.projectStates.getById(p.id)).not.toBeNull()
    })
  })
}
