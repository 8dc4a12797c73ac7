import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  AuraDataError,
  CommitUnknownError,
  ConnectionLostError,
  DeadlineError,
  openDatabase,
  type AuraDatabase,
} from '../src/index.js'
import { clusterUnavailable, FlakyRelay, PgCluster } from './pg-cluster.js'

/**
 * PostgreSQL outages, on a cluster of the test's own (its own port and directory; the shared
 * server is never stopped or its sessions killed): a crash, a fast restart, a terminated
 * session, a cut and a stalled network (through a relay on loopback). Under each: no raw driver
 * error reaches the caller, no acknowledged unit is lost or half-written, the same `db` works
 * again once the server is back, and no call outlives its deadline by more than a second. An
 * uncaught error (the process dying) fails the run: vitest reports it.
 */
const unavailable = clusterUnavailable()
if (unavailable) {
  if (process.env.AURA_REQUIRE_FAULTS === '1') throw new Error(`${unavailable} (AURA_REQUIRE_FAULTS=1)`)
  const bar = '!'.repeat(78)
  console.warn(`\n${bar}\n!! THE POSTGRESQL FAULT TESTS ARE SKIPPED: ${unavailable}\n${bar}\n`)
}

const DEADLINE_MS = 1500

/** An error the library may throw: typed, and never a raw driver error. */
function expectTyped(error: unknown): asserts error is AuraDataError {
  expect(error).toBeInstanceOf(AuraDataError)
}

async function caught(work: Promise<unknown>): Promise<unknown> {
  try {
    await work
  } catch (error) {
    return error
  }
  throw new Error('expected the call to fail')
}

/** Retries `work` for up to `ms` while it fails retryably (the server is starting). */
async function eventually<T>(work: () => Promise<T>, ms = 20_000): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    try {
      return await work()
    } catch (error) {
      expectTyped(error)
      if (!error.retryable || Date.now() > until) throw error
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

describe.skipIf(unavailable !== null)('postgres outages (a cluster of the test’s own)', () => {
  let cluster: PgCluster
  let relay: FlakyRelay
  let db: AuraDatabase
  let database: string
  let admin: pg.Client

  beforeAll(async () => {
    cluster = await PgCluster.create()
    database = 'faults'
    admin = new pg.Client({ connectionString: cluster.url() })
    admin.on('error', () => {})
    await admin.connect()
    await admin.query(`create database ${database}`)
    relay = await FlakyRelay.open(cluster.port)
    db = await openDatabase({
      url: `postgres://postgres@127.0.0.1:${relay.port}/${database}`,
      migrate: true,
      postgres: { deadlineMs: DEADLINE_MS, poolSize: 4 },
    })
  })

  afterAll(async () => {
    await db?.close().catch(() => {})
    await admin?.end().catch(() => {})
    await relay?.close()
    await cluster?.destroy()
  })

  async function reconnectAdmin(): Promise<void> {
    await admin.end().catch(() => {})
    admin = new pg.Client({ connectionString: cluster.url() })
    admin.on('error', () => {})
    await admin.connect()
  }

  async function titles(tag: string): Promise<string[]> {
    const rows = await db.projectStates.find({ title: { startsWith: tag } })
    return rows.map((p) => p.title).sort()
  }

  it('a session terminated in the middle of a unit fails it with ConnectionLostError, the original as cause; nothing of it is committed', async () => {
    const error = await caught(
      db.transaction(
        async (uow) => {
          await uow.projectStates.add({ title: 'terminated-1' })
          await admin.query(
            'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
            [database],
          )
          await uow.projectStates.add({ title: 'terminated-2' })
        },
        { retries: 0 },
      ),
    )
    expect(error).toBeInstanceOf(ConnectionLostError)
    expectTyped(error)
    expect(error.retryable).toBe(true)
    expect((error as { cause?: unknown }).cause).toBeDefined()
    expect(await titles('terminated-')).toEqual([])
  })

  it('db.transaction reruns a unit whose connection was lost before COMMIT, and it commits exactly once', async () => {
    let runs = 0
    await db.transaction(async (uow) => {
      runs++
      await uow.projectStates.add({ title: `rerun-${runs}` })
      if (runs === 1) {
        await admin.query(
          'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
          [database],
        )
        await uow.projectStates.add({ title: 'rerun-never' })
      }
    })
    expect(runs).toBe(2)
    expect(await titles('rerun-')).toEqual(['rerun-2'])
  })

  it('an explicit unit on a crashed server: typed errors, rollback() is safe, and the same db works once the server is back', async () => {
    const uow = await db.beginUnitOfWork()
    await uow.projectStates.add({ title: 'crash-lost' })
    await cluster.stop('immediate')
    const error = await caught(uow.projectStates.add({ title: 'crash-lost-2' }))
    expect(error).toBeInstanceOf(ConnectionLostError)
    await uow.rollback()
    // While the server is down: typed and retryable, never a raw ECONNREFUSED.
    const down = await caught(db.projectStates.add({ title: 'while-down' }))
    expectTyped(down)
    expect(down.retryable).toBe(true)
    await cluster.start()
    await reconnectAdmin()
    const back = await eventually(() => db.projectStates.add({ title: 'crash-after' }))
    expect(back.title).toBe('crash-after')
    expect(await titles('crash-')).toEqual(['crash-after'])
  })

  it('a fast restart between calls: the idle pooled connections are replaced, the next call works', async () => {
    await db.projectStates.add({ title: 'restart-before' })
    await cluster.stop('fast')
    await cluster.start()
    await reconnectAdmin()
    await eventually(() => db.projectStates.add({ title: 'restart-after' }))
    expect(await titles('restart-')).toEqual(['restart-after', 'restart-before'])
  })

  it('a cut network in the middle of a unit: ConnectionLostError, and the next unit works on a new connection', async () => {
    const error = await caught(
      db.transaction(
        async (uow) => {
          await uow.projectStates.add({ title: 'cut-1' })
          relay.cut()
          await uow.projectStates.add({ title: 'cut-2' })
        },
        { retries: 0 },
      ),
    )
    expect(error).toBeInstanceOf(ConnectionLostError)
    const after = await db.projectStates.add({ title: 'cut-after' })
    expect(after.title).toBe('cut-after')
    expect(await titles('cut-')).toEqual(['cut-after'])
  })

  it('a stalled network: calls fail with DeadlineError within the deadline plus a second, and work again when it flows', async () => {
    await db.projectStates.add({ title: 'stall-warm' })
    relay.stall()
    try {
      for (const call of [
        () => db.projectStates.find({ title: 'stall-warm' }),
        () => db.projectStates.add({ title: 'stall-write' }),
      ]) {
        const started = performance.now()
        const error = await caught(call())
        const took = performance.now() - started
        expect(error).toBeInstanceOf(DeadlineError)
        expect((error as DeadlineError).retryable).toBe(true)
        expect(took).toBeLessThan(DEADLINE_MS + 1000)
      }
    } finally {
      relay.resume()
    }
    // The stalled connections were discarded: a fresh one answers.
    const rows = await db.projectStates.find({ title: 'stall-warm' })
    expect(rows).toHaveLength(1)
    expect(await titles('stall-')).toEqual(['stall-warm'])
  })

  it('a network that stalls at COMMIT: CommitUnknownError, never retried by itself', async () => {
    let runs = 0
    const error = await caught(
      db.transaction(async (uow) => {
        runs++
        await uow.projectStates.add({ title: 'commit-stall' })
        relay.stall()
      }),
    )
    relay.resume()
    expect(error).toBeInstanceOf(CommitUnknownError)
    expectTyped(error)
    expect(error.retryable).toBe(false)
    expect(runs).toBe(1)
    // The relay dropped the COMMIT, so the server rolled the unit back when the connection went.
    expect(await titles('commit-stall')).toEqual([])
  })

  it('db.metrics() counts what happened: connections lost and made again, deadlines missed, a commit of unknown outcome', () => {
    const { connections } = db.metrics()
    expect(connections).not.toBeNull()
    expect(connections!.lost).toBeGreaterThanOrEqual(3)
    expect(connections!.deadlines).toBeGreaterThanOrEqual(2)
    expect(connections!.commitsUnknown).toBe(1)
    expect(connections!.opened).toBeGreaterThan(connections!.max)
  })
})
