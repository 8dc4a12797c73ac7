import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Database } from 'better-sqlite3'
import { MigrationError } from '../../errors.js'
import type { MigrationLock } from '../dialect.js'

/** A lock row outlives its holder by at most this long even where liveness cannot be checked. */
const LOCK_TTL_MS = 10 * 60_000
const POLL_MS = 50

interface LockRow {
  holder: string
  pid: number
  hostname: string
  expires_at: string
}

/**
 * The SQLite migration lock: a row in `aura_migration_lock` naming the holder (pid and host) and
 * an expiry, written under `BEGIN IMMEDIATE` so that two runners cannot both see it free.
 * A row whose holder process is gone (same host, pid not alive) or whose expiry passed is taken
 * over, so a runner killed with SIGKILL never blocks the next one.
 */
export async function acquireSqliteMigrationLock(
  db: Database,
  holder: string,
  timeoutMs: number,
): Promise<MigrationLock> {
  db.exec(`create table if not exists aura_migration_lock (
    id integer primary key check (id = 1),
    holder text not null,
    pid integer not null,
    hostname text not null,
    expires_at text not null
  )`)
  const deadline = Date.now() + timeoutMs
  const host = hostname()
  const tryTake = db.transaction((): LockRow | null => {
    const row = db
      .prepare('select holder, pid, hostname, expires_at from aura_migration_lock where id = 1')
      .get() as LockRow | undefined
    if (row && !isStale(row, host)) return row
    db.prepare(
      `insert into aura_migration_lock (id, holder, pid, hostname, expires_at) values (1, ?, ?, ?, ?)
       on conflict (id) do update set holder = excluded.holder, pid = excluded.pid,
         hostname = excluded.hostname, expires_at = excluded.expires_at`,
    ).run(holder, process.pid, host, new Date(Date.now() + LOCK_TTL_MS).toISOString())
    return null
  })
  for (;;) {
    // better-sqlite3's transaction() issues a deferred BEGIN; `.immediate` takes the write lock first.
    const current = takeOrBusy(tryTake.immediate)
    if (current === null) break
    if (Date.now() > deadline) {
      const who =
        current === 'busy'
          ? 'Another migration runner'
          : `Another migration runner (pid ${current.pid} on ${current.hostname})`
      throw new MigrationError(`${who} holds the migration lock; gave up after ${timeoutMs} ms.`)
    }
    await sleep(POLL_MS)
  }
  return {
    async release() {
      if (db.open) db.prepare('delete from aura_migration_lock where id = 1 and holder = ?').run(holder)
    },
  }
}

/**
 * Runs one attempt to take the lock. A runner inside a migration transaction holds SQLite's write
 * lock for as long as the migration runs, which can outlast the busy timeout: SQLITE_BUSY then
 * means "held", and the caller keeps waiting until its own deadline.
 */
function takeOrBusy(attempt: () => LockRow | null): LockRow | null | 'busy' {
  try {
    return attempt()
  } catch (error) {
    if ((error as { code?: unknown }).code === 'SQLITE_BUSY') return 'busy'
    throw error
  }
}

function isStale(row: LockRow, host: string): boolean {
  if (Date.parse(row.expires_at) < Date.now()) return true
  if (row.hostname !== host) return false
  try {
    process.kill(row.pid, 0)
    return false
  } catch (error) {
    // EPERM means the process exists but belongs to someone else: alive.
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
}
