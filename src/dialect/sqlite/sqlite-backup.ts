import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { backupErrors } from '../../errors.js'
import { pausePoint } from '../../pause-point.js'
import { copyFileHashed, fsyncDir, removeDatabaseFiles, removeStaleTemps, tempPath } from '../backup-fs.js'
import { enterWal } from './sqlite-wal.js'
import { runSqliteJob } from './sqlite-worker.js'
import type {
  BackupContent,
  BackupProgress,
  DialectBackup,
  ExclusiveDatabase,
  ReplaceOptions,
  StagedBackup,
} from '../dialect.js'

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1')

/** The history table of the migration engine (src/migration/migrator.ts). */
const HISTORY_TABLE = 'aura_migrations'

/**
 * Pages copied per step of the online backup (4 MiB with 4 KiB pages): one progress report each.
 * Between steps the event loop runs, which matters where the copy runs on the application's
 * thread (an in-memory database, restore's safety backup); larger steps copy faster.
 */
const PAGES_PER_STEP = 1024

/** How long the backup's connection waits for a lock (a WAL recovery by another connection), as the dialect's. */
const SOURCE_BUSY_TIMEOUT_MS = 5_000

/** How many quick_check problems a message names. */
const PROBLEMS_SHOWN = 3

/**
 * SQLite backup and restore (the `backup` and `restore` commands of the README).
 *
 * - Backup: SQLite's online backup API (better-sqlite3 `db.backup()`), never a file copy. It runs
 *   on a connection of its own, on a worker thread (sqlite-worker.ts; so does the check of the
 *   copy), inside one read transaction: in WAL mode that pins a snapshot, so
 *   the copy is exactly the database as of one commit while writers go on committing. (Without
 *   the read transaction the backup API restarts from page 1 whenever another connection writes,
 *   and under a steady writer it would never finish.) The copy is switched to rollback-journal
 *   mode, so a backup is one self-contained file that opening read-only never writes beside.
 * - Restore: see {@link SqliteBackup.acquireExclusive}.
 */
export class SqliteBackup implements DialectBackup {
  readonly extension = '.db'
  readonly #path: string | null
  readonly #handle: Database.Database | null

  /**
   * @param source the database file, or (for an in-memory database, which no second
   *   connection can reach) the live handle itself
   */
  constructor(source: { path: string } | { handle: Database.Database }) {
    this.#path = 'path' in source ? resolve(source.path) : null
    this.#handle = 'handle' in source ? source.handle : null
  }

  defaultDir(): string {
    return this.#path ? join(dirname(this.#path), 'backups') : resolve('backups')
  }

  /** The file's real path (its directory's, when the file does not exist yet): symlinks resolved. */
  sourceIdentity(): string {
    if (!this.#path) return 'sqlite::memory:'
    const dir = dirname(this.#path)
    return `sqlite:${join(existsSync(dir) ? realpathSync(dir) : dir, basename(this.#path))}`
  }

  async backupTo(file: string, onProgress?: (progress: BackupProgress) => void): Promise<void> {
    if (this.#handle) return copyDatabase(this.#handle, file, onProgress)
    const path = this.#path!
    if (!existsSync(path)) throw backupErrors.noDatabase(path)
    if (statSync(path).size > 0 && !hasSqliteHeader(path))
      throw backupErrors.unreadableDatabase(path, 'not a SQLite database')
    const source = new Database(path, { timeout: SOURCE_BUSY_TIMEOUT_MS, fileMustExist: true })
    try {
      // In rollback-journal mode the copy's read transaction would block every writer until the
      // copy ends; in WAL mode writers go on. Aura databases are WAL already; this covers a file
      // that was just restored and not opened since. WAL mode stays with the file.
      enterWal(source, SOURCE_BUSY_TIMEOUT_MS)
    } finally {
      source.close()
    }
    await runSqliteJob(
      {
        job: 'copy',
        source: path,
        file,
        pagesPerStep: PAGES_PER_STEP,
        busyTimeoutMs: SOURCE_BUSY_TIMEOUT_MS,
      },
      onProgress,
    )
  }

  inspect(file: string): Promise<BackupContent> {
    return inspectSqliteFile(file)
  }

  /**
   * Copies the backup beside the database file (the same directory, hence the same file system,
   * so the swap is one atomic rename), hashing the copied bytes. Verification then reads this
   * copy, which is exactly what gets swapped in, and the backup itself is never opened.
   */
  async stage(file: string): Promise<StagedBackup> {
    const path = this.#requirePath()
    const dir = dirname(path)
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    // A restore killed before its swap leaves its staging copy (as large as the database) here.
    removeStaleTemps(dir)
    const staged = tempPath(dir, this.extension)
    const { sha256, sizeBytes } = await copyFileHashed(file, staged)
    return {
      path: staged,
      sha256,
      sizeBytes,
      async discard() {
        removeDatabaseFiles(staged)
      },
    }
  }

  /**
   * Takes the database file for a restore.
   *
   * How "another process has it open" is detected: a new connection with
   * `locking_mode=EXCLUSIVE` and a busy timeout of 0 runs `BEGIN EXCLUSIVE`. In WAL mode every
   * open connection, even an idle one, holds a shared lock on the WAL index for as long as it is
   * open, so the exclusive lock is refused (SQLITE_BUSY) while anyone else has the database
   * open, reader or writer. Once granted, exclusive locking mode keeps the lock until this
   * connection closes: nobody can read or write the old file from then on, and the safety backup
   * is taken through this very connection, so it is the last state before the swap.
   */
  async acquireExclusive(): Promise<ExclusiveDatabase> {
    const path = this.#requirePath()
    if (!existsSync(path)) return new SqliteMissingDatabase(path)
    if (statSync(path).size > 0 && !hasSqliteHeader(path)) {
      throw backupErrors.unreadableDatabase(path, 'not a SQLite database')
    }
    let lock: Database.Database | undefined
    try {
      lock = new Database(path, { timeout: 0, fileMustExist: true })
      lock.pragma('locking_mode = EXCLUSIVE')
      lock.exec('begin exclusive')
      lock.exec('commit')
    } catch (error) {
      lock?.close()
      const code = (error as { code?: string }).code ?? ''
      if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
        throw backupErrors.inUse(path, 'its lock is held; an open connection or a transaction in progress')
      }
      throw backupErrors.unreadableDatabase(path, (error as Error).message)
    }
    return new SqliteExclusiveDatabase(path, lock)
  }

  #requirePath(): string {
    if (!this.#path) throw backupErrors.inMemory()
    return this.#path
  }
}

/** The online backup from `source` into the existing empty file `file`, then rollback-journal mode. */
async function copyDatabase(
  source: Database.Database,
  file: string,
  onProgress?: (progress: BackupProgress) => void,
): Promise<void> {
  const pageSize = source.pragma('page_size', { simple: true }) as number
  const report = (done: number, total: number) =>
    onProgress?.({ done, total, doneBytes: done * pageSize, totalBytes: total * pageSize })
  const result = await source.backup(file, {
    progress({ totalPages, remainingPages }) {
      report(totalPages - remainingPages, totalPages)
      return PAGES_PER_STEP
    },
  })
  report(result.totalPages, result.totalPages)
  const copy = new Database(file, { fileMustExist: true })
  try {
    copy.pragma('journal_mode = DELETE')
  } finally {
    copy.close()
  }
}

function hasSqliteHeader(path: string): boolean {
  return readHeader(path).subarray(0, SQLITE_HEADER.length).equals(SQLITE_HEADER)
}

function readHeader(path: string): Buffer {
  const header = Buffer.alloc(100)
  const fd = openSync(path, 'r')
  try {
    const read = readSync(fd, header, 0, header.length, 0)
    return header.subarray(0, read)
  } finally {
    closeSync(fd)
  }
}

/**
 * Checks a SQLite backup without writing to it and reads its history and row counts:
 * 1. not empty, starts with the SQLite header;
 * 2. not shorter than the size its header records (a truncated copy);
 * 3. opens read-only and passes `PRAGMA quick_check`;
 * 4. its migration history is readable.
 *
 * Why quick_check and not integrity_check: quick_check reads every page of the file once and
 * checks all that makes it a valid, complete database (every b-tree page well-formed and in
 * order, every page in use exactly once or on the freelist, none missing past the end, NOT NULL
 * and CHECK constraints). What it leaves out is matching each index entry against its row (and
 * UNIQUE), which costs a lookup per row: 1.5 s against 0.27 s on a 390 MB database, most of a
 * backup's time. The online backup API copies pages verbatim from one consistent snapshot, so the
 * copy's indexes agree with its rows exactly as much as the source's do, and `aura-db verify`
 * runs integrity_check on the live database, where such a mismatch would come from.
 */
export async function inspectSqliteFile(file: string): Promise<BackupContent> {
  const size = statSync(file).size
  if (size === 0) throw backupErrors.empty(file)
  const header = readHeader(file)
  if (header.length < 100 || !header.subarray(0, SQLITE_HEADER.length).equals(SQLITE_HEADER)) {
    throw backupErrors.notSqlite(file)
  }
  const rawPageSize = header.readUInt16BE(16)
  const pageSize = rawPageSize === 1 ? 65_536 : rawPageSize
  const pageCount = header.readUInt32BE(28)
  // The header's page count is trustworthy only when its "version-valid-for" equals the change counter.
  if (pageCount > 0 && header.readUInt32BE(92) === header.readUInt32BE(24) && size < pageCount * pageSize) {
    throw backupErrors.truncated(file, size, pageCount * pageSize)
  }
  const facts = await runSqliteJob({ job: 'inspect', file, historyTable: HISTORY_TABLE })
  if ('failed' in facts) {
    if (facts.failed === 'history') throw backupErrors.historyUnreadable(file, facts.message)
    throw backupErrors.corrupt(file, facts.message)
  }
  const { problems, migrations, rowCounts } = facts
  if (problems.length !== 1 || problems[0] !== 'ok') {
    throw backupErrors.integrityCheck(file, problems.slice(0, PROBLEMS_SHOWN))
  }
  return { format: 'sqlite', migrations, rowCounts }
}

/** The database file held with an exclusive lock for a restore. */
class SqliteExclusiveDatabase implements ExclusiveDatabase {
  readonly exists = true
  readonly #path: string
  #lock: Database.Database | null

  constructor(path: string, lock: Database.Database) {
    this.#path = path
    this.#lock = lock
  }

  async backupTo(file: string, onProgress?: (progress: BackupProgress) => void): Promise<void> {
    await copyDatabase(this.#held(), file, onProgress)
  }

  /**
   * The swap, with the lock still held:
   * 1. leave WAL mode (rollback journal, then MEMORY): the old file no longer uses any
   *    `-wal`/`-shm`/`-journal` file, and closing this connection later deletes nothing by name
   *    (which would otherwise hit the files of the restored database);
   * 2. remove the stale `-wal`, `-shm` and `-journal` files: SQLite would apply a leftover WAL
   *    to the restored file;
   * 3. take the staged copy's exclusive lock (a lock belongs to the file, so it moves with it);
   * 4. rename the staged copy (same directory) over the database: atomic;
   * 5. flush the directory, then close the lock connection (on the old, now unlinked file);
   * 6. `verify` the swapped-in file under its exclusive lock: a process that opens the database
   *    meanwhile waits, so nothing written after the swap can fail the check of what was restored.
   */
  async replaceWith(staged: StagedBackup, options: Pick<ReplaceOptions, 'verify'> = {}): Promise<void> {
    const lock = this.#held()
    lock.pragma('journal_mode = DELETE')
    lock.pragma('journal_mode = MEMORY')
    for (const suffix of ['-wal', '-shm', '-journal']) rmSync(this.#path + suffix, { force: true })
    const swapped = holdExclusively(staged.path)
    try {
      await pausePoint('restore:swap')
      renameSync(staged.path, this.#path)
      fsyncDir(dirname(this.#path))
      await this.release()
      await options.verify?.(kyselyOn(swapped))
    } finally {
      releaseExclusive(swapped)
    }
  }

  async release(): Promise<void> {
    this.#lock?.close()
    this.#lock = null
  }

  #held(): Database.Database {
    if (!this.#lock) throw new Error('The exclusive lock was already released')
    return this.#lock
  }
}

/**
 * A connection to `path` holding its exclusive lock (rollback-journal mode: then the lock keeps
 * readers out too), so that no one reads or writes the file until {@link releaseExclusive}.
 */
function holdExclusively(path: string): Database.Database {
  // A staged copy in a private place: no one else has it open, there is nothing to wait for.
  const db = new Database(path)
  try {
    db.pragma('journal_mode = DELETE')
    db.exec('begin exclusive')
  } catch (error) {
    db.close()
    throw error
  }
  return db
}

function releaseExclusive(db: Database.Database): void {
  if (db.inTransaction) db.exec('rollback')
  db.close()
}

/** A Kysely that reads through `db` (inside its open transaction). */
function kyselyOn(db: Database.Database): Kysely<any> {
  return new Kysely<any>({ dialect: new SqliteDialect({ database: db }) })
}

/** Restoring where no database file exists yet: nothing to lock, nothing to save. */
class SqliteMissingDatabase implements ExclusiveDatabase {
  readonly exists = false
  constructor(readonly path: string) {}

  async backupTo(): Promise<void> {
    throw backupErrors.noDatabase(this.path)
  }

  async replaceWith(staged: StagedBackup, options: Pick<ReplaceOptions, 'verify'> = {}): Promise<void> {
    for (const suffix of ['-wal', '-shm', '-journal']) rmSync(this.path + suffix, { force: true })
    const swapped = holdExclusively(staged.path)
    try {
      renameSync(staged.path, this.path)
      fsyncDir(dirname(this.path))
      await options.verify?.(kyselyOn(swapped))
    } finally {
      releaseExclusive(swapped)
    }
  }

  async release(): Promise<void> {}
}
