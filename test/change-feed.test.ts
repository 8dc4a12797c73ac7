import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  ConcurrencyError,
  openDatabase,
  ValidationError,
  type AuraDatabase,
  type CommittedChanges,
} from '../src/index.js'
import { libraryDialects as dialects } from './dialects.js'
import { useMigratedDatabase } from './helpers.js'

/** Subscribes for the duration of `fn` and returns every unit delivered meanwhile, in order. */
async function collect(db: AuraDatabase, fn: () => Promise<unknown>): Promise<CommittedChanges[]> {
  const seen: CommittedChanges[] = []
  const stop = db.changes.subscribe((committed) => {
    seen.push(committed)
  })
  try {
    await fn()
    await db.changes.settled()
  } finally {
    stop()
  }
  return seen
}

const summary = (units: readonly CommittedChanges[]) =>
  units.map((u) => u.changes.map((c) => `${c.action} ${c.table}`))

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: change feed`, () => {
    const ctx = useMigratedDatabase(d)

    it('delivers the rows a committed unit changed, in order, with before/after values and row versions', async () => {
      const { db } = ctx
      let projectId = ''
      let correlationId = ''
      const units = await collect(db, () =>
        db.transaction(
          async (uow) => {
            correlationId = uow.correlationId
            const p = await uow.projectStates.add({ title: 'Draft' })
            projectId = p.id
            const scene = await uow.sceneStates.add({ projectId: p.id, sceneIndex: 0, scriptText: 'Hi' })
            await uow.projectStates.update({ id: p.id, rowVersion: p.rowVersion, title: 'Final' })
            await uow.sceneStates.delete(scene.id)
          },
          { actor: 'alice' },
        ),
      )
      expect(summary(units)).toEqual([
        ['insert project_states', 'insert scene_states', 'update project_states', 'purge scene_states'],
      ])
      const [unit] = units
      expect(unit!.actor).toBe('alice')
      expect(unit!.correlationId).toBe(correlationId)
      const [insert, , update, purge] = unit!.changes
      expect(insert).toMatchObject({ key: projectId, changes: {}, rowVersion: 1 })
      expect(insert!.row).toMatchObject({ id: projectId, title: 'Draft', createdBy: 'alice' })
      expect(update).toMatchObject({ key: projectId, changes: { title: ['Draft', 'Final'] }, rowVersion: 2 })
      expect(update!.row).toMatchObject({ title: 'Final', rowVersion: 2 })
      expect(purge).toMatchObject({ row: null, rowVersion: null })
      // The audit trail and the feed tell the same story.
      const audit = await db.auditEntries.find({ correlationId }, { orderBy: { id: 'asc' } })
      expect(audit.map((e) => `${e.action} ${e.tableName} ${e.rowId}`)).toEqual(
        unit!.changes.map((c) => `${c.action} ${c.table} ${c.key}`),
      )
    })

    it('delivers nothing of a unit that rolled back, of a poisoned unit, or of a refused write', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'Kept' })
      const units = await collect(db, async () => {
        await expect(
          db.transaction(async (uow) => {
            await uow.projectStates.add({ title: 'Rolled back' })
            throw new Error('changed my mind')
          }),
        ).rejects.toThrow('changed my mind')
        await expect(
          db.transaction(async (uow) => {
            await uow.projectStates.update({ id: p.id, rowVersion: p.rowVersion, title: 'Poisoned' })
            await uow.projectStates.add({ title: '' } as never).catch(() => {})
          }),
        ).rejects.toThrow()
        const explicit = await db.beginUnitOfWork()
        await explicit.projectStates.add({ title: 'Explicitly rolled back' })
        await explicit.rollback()
        await expect(db.projectStates.add({ title: 42 } as never)).rejects.toBeInstanceOf(ValidationError)
        await expect(
          db.projectStates.update({ id: p.id, rowVersion: 7, title: 'Stale' }),
        ).rejects.toBeInstanceOf(ConcurrencyError)
      })
      expect(units).toEqual([])
      expect((await db.projectStates.getById(p.id))?.title).toBe('Kept')
    })

    it('gives db-level writes, addRange and purge one unit each, every row in the order given', async () => {
      const { db } = ctx
      let projectId = ''
      const units = await collect(db, async () => {
        const p = await db.projectStates.add({ title: 'Range' })
        projectId = p.id
        await db.sceneStates.addRange([0, 1, 2].map((sceneIndex) => ({ projectId: p.id, sceneIndex })))
        await db.projectStates.delete(p.id)
        await db.projectStates.restore(p.id)
        await db.projectStates.purge(p.id)
      })
      expect(summary(units)).toEqual([
        ['insert project_states'],
        ['insert scene_states', 'insert scene_states', 'insert scene_states'],
        ['soft_delete project_states'],
        ['restore project_states'],
        ['purge project_states'],
      ])
      expect(units[1]!.changes.map((c) => c.row?.sceneIndex)).toEqual([0, 1, 2])
      expect(units[1]!.correlationId).toBeNull()
      expect(units[2]!.changes[0]).toMatchObject({
        rowVersion: 2,
        row: { isDeleted: true, deletedBy: 'tester' },
      })
      expect(units[3]!.changes[0]).toMatchObject({
        rowVersion: 3,
        row: { isDeleted: false, deletedAt: null },
      })
      expect(units[4]!.changes[0]).toMatchObject({ key: projectId, row: null, rowVersion: null })
    })

    it('delivers concurrent units in commit order: a row’s versions only grow', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'Contended' })
      const units = await collect(db, () =>
        Promise.all(
          Array.from({ length: 8 }, async (_, i) => {
            // Read-modify-write, again while another unit changed the row first.
            for (;;) {
              try {
                return await db.transaction(async (uow) => {
                  const current = (await uow.projectStates.getById(p.id))!
                  await uow.projectStates.update({ ...current, title: `Edit ${i} of ${current.title}` })
                })
              } catch (error) {
                if (!(error instanceof ConcurrencyError)) throw error
              }
            }
          }),
        ),
      )
      const versions = units.flatMap((u) => u.changes.map((c) => c.rowVersion))
      expect(versions).toEqual([2, 3, 4, 5, 6, 7, 8, 9])
      // Each unit's before value is the after value of the unit delivered before it.
      for (let i = 1; i < units.length; i++) {
        const [before] = units[i]!.changes[0]!.changes.title!
        expect(before).toBe(units[i - 1]!.changes[0]!.changes.title![1])
      }
    })

    it('survives a subscriber that throws: the write stands, others and later units are delivered', async () => {
      const { db } = ctx
      const errors: unknown[] = []
      const good: string[] = []
      const stopBad = db.changes.subscribe(
        () => {
          throw new Error('subscriber bug')
        },
        { onError: (error) => errors.push(error) },
      )
      const stopAsync = db.changes.subscribe(async () => Promise.reject(new Error('async bug')), {
        onError: (error) => errors.push(error),
      })
      const stopGood = db.changes.subscribe((u) => {
        good.push(...u.changes.map((c) => String(c.row?.title)))
      })
      try {
        const first = await db.projectStates.add({ title: 'One' })
        await db.projectStates.add({ title: 'Two' })
        await db.changes.settled()
        expect(good).toEqual(['One', 'Two'])
        expect(errors.map((e) => (e as Error).message)).toEqual([
          'subscriber bug',
          'async bug',
          'subscriber bug',
          'async bug',
        ])
        expect((await db.projectStates.getById(first.id))?.title).toBe('One')
      } finally {
        stopBad()
        stopAsync()
        stopGood()
      }
      // Without an error handler the failure becomes a process warning, never a crash.
      const warned = new Promise<Error>((resolve) => process.once('warning', resolve))
      const stop = db.changes.subscribe(() => {
        throw new Error('unhandled subscriber bug')
      })
      await db.projectStates.add({ title: 'Three' })
      await db.changes.settled()
      stop()
      expect((await warned).message).toContain('unhandled subscriber bug')
    })

    it('delivers after the writing call has returned to its caller, never inside it', async () => {
      const { db } = ctx
      const order: string[] = []
      const stop = db.changes.subscribe(() => {
        order.push('delivered')
      })
      await db.projectStates.add({ title: 'Order' })
      order.push('returned')
      await db.transaction(async (uow) => {
        await uow.projectStates.add({ title: 'Order 2' })
      })
      order.push('returned')
      await db.changes.settled()
      stop()
      // Each unit is delivered only after its call returned (and maybe after the next one's).
      expect(order.filter((o) => o === 'delivered')).toHaveLength(2)
      order.forEach((_, i) => {
        const upTo = order.slice(0, i + 1)
        expect(upTo.filter((o) => o === 'delivered').length).toBeLessThanOrEqual(
          upTo.filter((o) => o === 'returned').length,
        )
      })
    })

    it('stops delivering after unsubscribe; an async subscriber gets one unit at a time', async () => {
      const { db } = ctx
      const seen: string[] = []
      let running = 0
      let overlapped = false
      const stop = db.changes.subscribe(async (u) => {
        running++
        if (running > 1) overlapped = true
        await new Promise((resolve) => setImmediate(resolve))
        seen.push(String(u.changes[0]!.row?.title))
        running--
      })
      await Promise.all(['a', 'b', 'c'].map((title) => db.projectStates.add({ title })))
      await db.changes.settled()
      stop()
      await db.projectStates.add({ title: 'after stop' })
      await db.changes.settled()
      expect([...seen].sort()).toEqual(['a', 'b', 'c'])
      expect(overlapped).toBe(false)
    })
  })

  describe.skipIf(!d.available)(`${d.label}: change feed and secrets`, () => {
    it('never carries a sensitive value in plaintext, and close() delivers what committed first', async () => {
      const target = await d.create()
      const secret = 'sk-live-FEED-PLAINTEXT-93b1'
      const db = await openDatabase({ url: target.url, secretKey: randomBytes(32) })
      try {
        await db.migrate()
        const seen: CommittedChanges[] = []
        db.changes.subscribe((u) => {
          seen.push(u)
        })
        await db.configurations.set('openai.key', secret, { category: 'ai', isSensitive: true })
        await db.configurations.set('openai.key', `${secret}-2`, { isSensitive: true })
        await db.close()
        expect(seen).toHaveLength(2)
        expect(JSON.stringify(seen)).not.toContain(secret)
        expect(seen[1]!.changes[0]!.changes.value).toEqual(['[redacted]', '[redacted]'])
      } finally {
        await db.close()
        await target.drop()
      }
    })
  })
}
