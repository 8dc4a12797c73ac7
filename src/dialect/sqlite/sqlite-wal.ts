import type Database from 'better-sqlite3'

/**
 * Switches a SQLite connection to WAL. The switch takes an exclusive lock without consulting the
 * busy handler: two processes opening a new file at once (two `aura-db migrate` runs) make one
 * of them fail at once with SQLITE_BUSY, whatever the busy timeout. So the switch is retried for
 * up to `timeoutMs`, synchronously, as the busy handler itself would wait.
 */
export function enterWal(db: Database.Database, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      db.pragma('journal_mode = WAL')
      return
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw error
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10)
    }
  }
}
