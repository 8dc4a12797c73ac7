import pg from 'pg'
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

// A serialization failure needs snapshot isolation on PostgreSQL; SQLite serialises writers.
describe.skipIf(!postgres.available)('postgres: db.transaction retries serialization failures', () => {
  const ctx = useMigratedDatabase(postgres)

  it('reruns the unit whose update met a concurrent committed update (40001); both changes are kept', async () => {
    // Every new session of this test's own database runs serializable, so the server itself
    // raises 40001 for the second of two units that read and then update the same row.
    const admin = new pg.Client({ connectionString: ctx.target.url })
    await admin.connect()
    const name = new URL(ctx.target.url).pathname.slice(1)
    await admin.query(`alter database "${name}" set default_transaction_isolation = 'serializable'`)
    await admin.end()
    const db = await openDatabase({ url: ctx.target.url })
    try {
      const project = await db.projectStates.add({ title: 'Shared', description: '' })
      const bothRead = barrier(2)
      let calls = 0
      const append = (label: string) =>
        db.transaction(async (uow) => {
          calls++
          const current = (await uow.projectStates.getById(project.id))!
          await bothRead()
          await uow.projectStates.update({
            id: project.id,
            rowVersion: current.rowVersion,
            description: `${current.description ?? ''}${label}`,
          })
        })
      // The barrier counts arrivals, so only the first runs of the two units wait at it: a
      // rerun passes through at once.
      await Promise.all([append('a'), append('b')])
      expect(calls).toBe(3)
      const row = await db.projectStates.getById(project.id)
      expect(row?.rowVersion).toBe(3)
      expect([...(row?.description ?? '')].sort().join('')).toBe('ab')
    } finally {
      await db.close()
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
