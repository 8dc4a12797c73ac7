import type Database from 'better-sqlite3'

/**
 * Switches a SQLite connection to WAL. The switch takes an exclusive lock without consulting the
 * busy handler: two processes opening a new file at once (two `aura-db migrate` runs) make one
 * of them fail at once with SQLITE_BUSY, whatever the busy timeout (or with the journal already
 * deleted by the other, SQLITE_IOERR_DELETE_NOENT). So the switch is retried for
 * up to `timeoutMs`, synchronously, as the busy handler itself would wait.
 */
export function enterWal(db: Database.Database, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      db.pragma('journal_mode = WAL')
      return
    } catch (error) {
      const code = (error as { code?: unknown }).code
      // SQLITE_IOERR_DELETE_NOENT: another connection switched the same file at the same moment
      // and deleted the rollback journal this switch meant to delete (seen right after a restore,
      // whose own verification opens the file as another process does).
      const transient = code === 'SQLITE_BUSY' || code === 'SQLITE_IOERR_DELETE_NOENT'
      if (!transient || Date.now() > deadline) throw error
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10)
    }
  }
}
