import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, UsageError, type AuraDatabase, type ReadRoutingMetrics } from '../src/index.js'
import { clusterUnavailable, PgCluster } from './pg-cluster.js'

/**
 * Read replicas with read-your-writes, against a real streaming replica (`pg_basebackup -R`)
 * of a primary of the test's own, both on ports of their own (the shared server is never
 * touched). The replica starts with `recovery_min_apply_delay = 1h`: it receives every commit at
 * once and replays none, so it is behind for as long as the test wants, without relying on
 * timing; the delay is then set to 0 for it to catch up. Routing is asserted by db.metrics()'
 * counters, never by how long anything took.
 */
const unavailable = clusterUnavailable()
if (unavailable) {
  if (process.env.AURA_REQUIRE_FAULTS === '1') throw new Error(`${unavailable} (AURA_REQUIRE_FAULTS=1)`)
  const bar = '!'.repeat(78)
  console.warn(`\n${bar}\n!! THE POSTGRESQL READ REPLICA TESTS ARE SKIPPED: ${unavailable}\n${bar}\n`)
}

/** Bounded polling: `check` until it returns true, at most `tries` times 100 ms apart. */
async function until(check: () => Promise<boolean>, tries = 600): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('gave up waiting')
}

describe('read replica options are checked before anything opens', () => {
  it('replicas on SQLite are a UsageError', async () => {
    await expect(
      openDatabase({
        url: 'sqlite::memory:',
        configFile: false,
        postgres: { replicas: ['postgres://x@h/db'] },
      }),
    ).rejects.toBeInstanceOf(UsageError)
  })

  it('a replica that is not a postgres:// URL, or a bad lag bound, is a UsageError', async () => {
    const url = 'postgres://nobody@127.0.0.1:1/none'
    await expect(
      openDatabase({ url, configFile: false, create: false, postgres: { replicas: ['sqlite:x.db'] } }),
    ).rejects.toBeInstanceOf(UsageError)
    await expect(
      openDatabase({
        url,
        configFile: false,
        create: false,
        postgres: { replicas: [url], maxReplicaLagMs: -1 },
      }),
    ).rejects.toBeInstanceOf(UsageError)
  })
})

describe.skipIf(unavailable !== null)(
  'read replicas (a primary and a streaming replica of the test’s own)',
  () => {
    const database = 'replicas'
    let primary: PgCluster
    let replica: PgCluster
    let db: AuraDatabase
    let admin: pg.Client

    beforeAll(async () => {
      primary = await PgCluster.create()
      admin = new pg.Client({ connectionString: primary.url() })
      admin.on('error', () => {})
      await admin.connect()
      await admin.query(`create database ${database}`)
      const setup = await openDatabase({ url: primary.url(database), configFile: false, migrate: true })
      await setup.close()
      replica = await primary.createReplica('1h')
      db = await openDatabase({
        url: primary.url(database),
        configFile: false,
        postgres: { replicas: [replica.url(database)], poolSize: 4, deadlineMs: 10_000 },
      })
    })

    afterAll(async () => {
      await db?.close().catch(() => {})
      await admin?.end().catch(() => {})
      await replica?.destroy()
      await primary?.destroy()
    })

    function routing(): ReadRoutingMetrics {
      const { replicas } = db.metrics()
      expect(replicas).toBeDefined()
      return replicas!
    }

    it('metrics list the replica by its location', () => {
      const { replicas } = routing()
      expect(replicas).toHaveLength(1)
      expect(replicas[0]!.location).toBe(replica.url(database))
    })

    it('a read right after a write, while the replica has not replayed it, goes to the primary and sees the write', async () => {
      const before = routing()
      const added = await db.projectStates.add({ title: 'ryw-delayed' })
      const read = await db.projectStates.getById(added.id)
      expect(read?.title).toBe('ryw-delayed')
      const found = await db.projectStates.find({ title: 'ryw-delayed' })
      expect(found).toHaveLength(1)
      const after = routing()
      expect(after.primaryReads).toBeGreaterThanOrEqual(before.primaryReads + 2)
      expect(after.replicas[0]!.reads).toBe(before.replicas[0]!.reads)
      expect(after.replicas[0]!.fallbacks).toBeGreaterThan(before.replicas[0]!.fallbacks)
      expect(after.replicas[0]!.down).toBe(false)
    })

    it('once the replica replayed the last commit, reads go to it', async () => {
      const added = await db.projectStates.add({ title: 'ryw-caught-up' })
      const { rows } = await admin.query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn')
      const target = rows[0]!.lsn
      await replica.setApplyDelay('0')
      const direct = new pg.Client({ connectionString: replica.url(database) })
      direct.on('error', () => {})
      await direct.connect()
      try {
        await until(async () => {
          const result = await direct.query<{ done: boolean }>(
            'select pg_last_wal_replay_lsn() >= $1::pg_lsn as done',
            [target],
          )
          return result.rows[0]?.done === true
        })
      } finally {
        await direct.end()
      }
      const before = routing().replicas[0]!.reads
      const read = await db.projectStates.getById(added.id)
      expect(read?.title).toBe('ryw-caught-up')
      const after = routing().replicas[0]!
      expect(after.reads).toBe(before + 1)
      expect(after.down).toBe(false)
      expect(after.lagMs).not.toBeNull()
    })

    it('before its first commit a process reads from a replica within the lag bound, and not from one past it', async () => {
      const fresh = await openDatabase({
        url: primary.url(database),
        configFile: false,
        postgres: { replicas: [replica.url(database)], poolSize: 2 },
      })
      try {
        const found = await fresh.projectStates.find({ title: 'ryw-caught-up' })
        expect(found).toHaveLength(1)
        expect(fresh.metrics().replicas!.replicas[0]!.reads).toBe(1)
      } finally {
        await fresh.close()
      }
      // Held back again: another process's commit reaches the replica but is not replayed, so its
      // lag (time since the last replayed commit) is past a bound of 1 ms.
      await replica.setApplyDelay('1h')
      await admin.query('create table lag_probe (id int)')
      const direct = new pg.Client({ connectionString: replica.url(database) })
      direct.on('error', () => {})
      await direct.connect()
      try {
        await until(async () => {
          const result = await direct.query<{ waiting: boolean }>(
            'select pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn() as waiting',
          )
          return result.rows[0]?.waiting === true
        })
      } finally {
        await direct.end()
      }
      const strict = await openDatabase({
        url: primary.url(database),
        configFile: false,
        postgres: { replicas: [replica.url(database)], poolSize: 2, maxReplicaLagMs: 1 },
      })
      try {
        const found = await strict.projectStates.find({ title: 'ryw-caught-up' })
        expect(found).toHaveLength(1)
        const { primaryReads, replicas } = strict.metrics().replicas!
        expect(primaryReads).toBe(1)
        expect(replicas[0]!.reads).toBe(0)
        expect(replicas[0]!.lagMs).toBeGreaterThan(1)
      } finally {
        await strict.close()
      }
    })

    it('writes and units of work never go to the replica', async () => {
      const before = routing()
      const added = await db.projectStates.add({ title: 'writes-primary' })
      await db.projectStates.update({ id: added.id, rowVersion: added.rowVersion, title: 'writes-primary-2' })
      await db.transaction(async (uow) => {
        const inUnit = await uow.projectStates.getById(added.id)
        expect(inUnit?.title).toBe('writes-primary-2')
        await uow.projectStates.add({ title: 'writes-unit' })
      })
      const uow = await db.beginUnitOfWork()
      await uow.projectStates.find({ title: { startsWith: 'writes-' } })
      await uow.rollback()
      // A write routed to a hot standby would have failed (read-only); the replica answered no read.
      expect(routing().replicas[0]!.reads).toBe(before.replicas[0]!.reads)
    })

    it('a replica that is down: reads still succeed on the primary, without an error', async () => {
      const added = await db.projectStates.add({ title: 'replica-down' })
      await replica.stop('fast')
      const before = routing()
      for (let i = 0; i < 3; i++) {
        const read = await db.projectStates.getById(added.id)
        expect(read?.title).toBe('replica-down')
      }
      const after = routing()
      expect(after.primaryReads).toBeGreaterThanOrEqual(before.primaryReads + 3)
      expect(after.replicas[0]!.reads).toBe(before.replicas[0]!.reads)
      expect(after.replicas[0]!.down).toBe(true)
    })
  },
)
