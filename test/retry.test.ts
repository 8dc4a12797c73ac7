import { describe, expect, it } from 'vitest'
import { BusyError, openDatabase } from '../src/index.js'
import { postgres, sqlite } from './dialects.js'
import { useMigratedDatabase } from './helpers.js'

function barrier(parties: number) {
  let arrived = 0
  let release!: () => void
  const all = new Promise<void>((r) => (release = r))
  return async () => {
    if (++arrived === parties) release()
    await all
  }
}

// A deadlock needs two concurrent write transactions; SQLite serialises writers, so it cannot
// deadlock: this behaviour exists on PostgreSQL only.
describe.skipIf(!postgres.available)('postgres: db.transaction retries deadlocks', () => {
  const ctx = useMigratedDatabase(postgres)

  it('reruns the unit that the server chose as deadlock victim; both units commit', async () => {
    const { db } = ctx
    const a = await db.projectStates.add({ title: 'A' })
    const b = await db.projectStates.add({ title: 'B' })
    const bothLocked = barrier(2)
    let calls = 0
    // updateStatus reads the current row under a row lock, so a rerun sees the winner's commit.
    const swap = (first: typeof a, second: typeof b, label: string) =>
      db.transaction(async (uow) => {
        calls++
        await uow.projectStates.updateStatus(first.id, 'InProgress', `${label} first`)
        await bothLocked()
        await uow.projectStates.updateStatus(second.id, 'InProgress', `${label} second`)
      })
    await Promise.all([swap(a, b, 'left'), swap(b, a, 'right')])
    expect(calls).toBe(3)
    for (const p of [a, b]) {
      const row = await db.projectStates.getById(p.id)
      expect(row?.rowVersion).toBe(3)
      expect(row?.status).toBe('InProgress')
    }
  })
})

describe('sqlite: a writer that holds the lock past the busy timeout', () => {
  const ctx = useMigratedDatabase(sqlite)

  it('makes a writer of another connection fail with a retryable BusyError, not hang', async () => {
    const other = await openDatabase({ url: ctx.target.url })
    const holder = await ctx.db.beginUnitOfWork()
    try {
      await holder.projectStates.add({ title: 'holding the write lock' })
      const error = await other.projectStates.add({ title: 'blocked' }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(BusyError)
      expect((error as BusyError).retryable).toBe(true)
    } finally {
      await holder.rollback()
      await other.close()
    }
    expect(await ctx.db.projectStates.count({ title: 'blocked' })).toBe(0)
  })
})
