import { SQLITE_MODEL } from './sqlite-model-target.js'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { sql, type Kysely, type RawBuilder } from 'kysely'
import {
  danglingReferences,
  IntegrityError,
  storageErrors,
  toAuraDataError,
  usage,
  type AuraDataError,
} from '../../errors.js'
import type { ColumnKind, TableDef } from '../../schema/define.js'
import type {
  AuraDialect,
  DatabaseMetrics,
  DialectBackup,
  IntegrityCheckResult,
  MigrationLock,
} from '../dialect.js'
import type { SchemaSnapshot } from '../introspector.js'
import { QueryObserver, type QueryLogOptions } from '../query-log.js'
import { StatementMetrics } from '../statement-metrics.js'
import { SqliteBackup } from './sqlite-backup.js'
import { checkSqliteIntegrity } from './sqlite-integrity.js'
import { SqliteAuraDriver } from './sqlite-driver.js'
import { mapSqliteError } from './sqlite-errors.js'
import { introspectSqlite } from './sqlite-introspect.js'
import { acquireSqliteMigrationLock } from './sqlite-lock.js'
import { enterWal } from './sqlite-wal.js'
import { Utf8TextBytes } from '../text-bytes.js'
import { decodeTimestamp } from './sqlite-timestamp.js'

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1')

/** At least 5 s (the README's promise): a writer waits this long for another one before BusyError. */
export const SQLITE_BUSY_TIMEOUT_MS = 5_000

export interface SqliteOptions {
  /** Absolute or relative file path, or `:memory:`. */
  readonly path: string
  readonly readonly?: boolean
  /** Create the file (and its directory) when missing; default true. False: a missing file is a UsageError. */
  readonly create?: boolean
  /** The query log and slow-query threshold (query-log.ts). */
  readonly queryLog?: QueryLogOptions
  /** Time every statement per shape for `db.metrics()` (off by default: a statement here is a function call). */
  readonly metrics?: boolean
}

/**
 * Opens a SQLite database file safely:
 * 1. refuses a file that exists, is not empty and does not start with the SQLite header
 *    (IntegrityError; the file is never written to);
 * 2. creates a missing directory with mode 0700 and a missing file with mode 0600 before SQLite
 *    touches it (SQLite creates its -wal/-shm files with the database file's mode);
 * 3. sets WAL, synchronous=FULL (an acknowledged commit survives power loss, not only a crash),
 *    foreign_keys=ON and the busy timeout, then reads the schema so corruption shows up now.
 * `readonly` opens without writing anything (no WAL switch, no file created); see
 * {@link openReadOnly} for a file in a directory that is not writable.
 */
export function openSqliteFile(options: SqliteOptions): Database.Database {
  const memory = options.path === ':memory:'
  const path = memory ? ':memory:' : resolve(options.path)
  try {
    if (!memory) {
      if (existsSync(path)) assertSqliteFile(path)
      else if (options.create === false || options.readonly) throw usage.databaseMissing(path)
      else {
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
        createPrivateFile(path)
      }
    }
  } catch (error) {
    throw fileError(path, error)
  }
  if (options.readonly && !memory) return openReadOnly(path)
  for (let attempt = 1; ; attempt++) {
    let db: Database.Database | undefined
    try {
      db = new Database(path, { timeout: SQLITE_BUSY_TIMEOUT_MS, fileMustExist: !memory })
      if (!memory) enterWal(db, SQLITE_BUSY_TIMEOUT_MS)
      return configure(db)
    } catch (error) {
      db?.close()
      // A restore swapped the file while this open waited for its lock: the handle holds the old,
      // unlinked file (SQLITE_READONLY_DBMOVED). The file now at the path is the one wanted.
      const moved = (error as { code?: unknown }).code === 'SQLITE_READONLY_DBMOVED'
      if (!moved || attempt >= OPEN_ATTEMPTS) throw openError(path, error)
    }
  }
}

/** Opens of a file that restore keeps replacing underneath, before DatabaseReplacedError. */
const OPEN_ATTEMPTS = 3

function configure(db: Database.Database): Database.Database {
  db.pragma('synchronous = FULL')
  db.pragma('foreign_keys = ON')
  db.prepare('select count(*) from sqlite_schema').get()
  return db
}

/** The error of a failed open: corruption named as such, the rest as the central mapping says. */
function openError(path: string, error: unknown): AuraDataError {
  const mapped = toAuraDataError(error, mapSqliteError)
  if (mapped instanceof IntegrityError) {
    return new IntegrityError(
      `${path} is not a usable SQLite database (corrupt or not a database); it was left untouched.`,
      { cause: error },
    )
  }
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string' && code.startsWith('SQLITE_CANTOPEN'))
    return storageErrors.cannotOpen(path, error)
  return mapped
}

/** A file-system error before SQLite opened anything (EACCES, EROFS, ENOTDIR, …), typed. */
function fileError(path: string, error: unknown): AuraDataError {
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'EROFS') return storageErrors.readOnly(error)
  if (code === 'EACCES' || code === 'EPERM' || code === 'ENOTDIR' || code === 'ENOENT' || code === 'EISDIR')
    return storageErrors.cannotOpen(path, error)
  return toAuraDataError(error, mapSqliteError)
}

/**
 * Opens a database file for reading only, writing nothing anywhere. A WAL database needs its
 * `-shm` file: SQLite creates it when it is missing, which fails in a directory the process may
 * not write (a read-only mount, another user's directory: SQLITE_READONLY_DIRECTORY or
 * SQLITE_CANTOPEN). When neither `-wal` nor `-shm` exists, every committed page is in the main
 * file, so the file's bytes are loaded instead and opened in memory, read-only, with the header's
 * WAL flag cleared (SQLite refuses a deserialized WAL database). better-sqlite3 is built without
 * URI file names, so `immutable=1` is not available for this.
 */
function openReadOnly(path: string): Database.Database {
  let db: Database.Database | undefined
  try {
    db = new Database(path, { timeout: SQLITE_BUSY_TIMEOUT_MS, readonly: true, fileMustExist: true })
    return configure(db)
  } catch (error) {
    db?.close()
    const code = String((error as { code?: unknown }).code ?? '')
    const cannotShare = code === 'SQLITE_READONLY_DIRECTORY' || code.startsWith('SQLITE_CANTOPEN')
    if (!cannotShare || existsSync(`${path}-wal`) || existsSync(`${path}-shm`)) throw openError(path, error)
  }
  let bytes: Buffer
  try {
    bytes = readFileSync(path)
  } catch (error) {
    throw fileError(path, error)
  }
  // Bytes 18 and 19 are the file format's write and read versions: 2 means WAL, 1 legacy.
  if (bytes.length >= 20 && bytes[18] === 2 && bytes[19] === 2) bytes[18] = bytes[19] = 1
  try {
    db = new Database(bytes, { readonly: true })
    return configure(db)
  } catch (error) {
    db?.close()
    throw openError(path, error)
  }
}

/**
 * Creates the SQLite file (and its directory) when it does not exist, with the modes and
 * pragmas of {@link openSqliteFile}. Returns whether it created it; `:memory:` never is.
 */
export function createSqliteDatabaseIfMissing(path: string): boolean {
  if (path === ':memory:' || existsSync(resolve(path))) return false
  openSqliteFile({ path }).close()
  return true
}

/** Creates an empty file with mode 0600; another process creating it first is fine. */
function createPrivateFile(path: string): void {
  try {
    closeSync(openSync(path, 'wx', 0o600))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
}

function assertSqliteFile(path: string): void {
  const stat = statSync(path)
  if (!stat.isFile()) throw new IntegrityError(`${path} is not a regular file.`)
  if (stat.size === 0) return
  const header = Buffer.alloc(SQLITE_HEADER.length)
  const fd = openSync(path, 'r')
  try {
    readSync(fd, header, 0, header.length, 0)
  } finally {
    closeSync(fd)
  }
  if (!header.equals(SQLITE_HEADER)) {
    throw new IntegrityError(`${path} is not a SQLite database; it was left untouched.`)
  }
}

const SQLITE_TYPES: Record<ColumnKind, string> = {
  uuid: 'text',
  text: 'text',
  json: 'text',
  int: 'integer',
  bigint: 'integer',
  real: 'real',
  bool: 'integer',
  timestamp: 'text',
}

function decodeBool(value: unknown): boolean | null {
  if (value === null || value === undefined) return null
  return value === 1 || value === true
}

/** The SQLite side of the dialect seam. */
export class SqliteAuraDialect implements AuraDialect {
  readonly name = 'sqlite' as const
  readonly capabilities = { advisoryLock: false, fileBased: true, singleWriter: true }
  readonly writableCte = null
  readonly schemaModel = SQLITE_MODEL
  readonly hub = null
  readonly location: string
  readonly filePath: string | null
  readonly driver: SqliteAuraDriver
  readonly kysely: Kysely<any>
  /** The one connection: SQLite has no replicas. */
  readonly reader: AuraDialect['reader']
  readonly handle: Database.Database
  readonly #statements: StatementMetrics | undefined

  constructor(options: SqliteOptions) {
    this.handle = openSqliteFile(options)
    this.filePath = options.path === ':memory:' ? null : resolve(options.path)
    this.location = this.filePath ?? ':memory:'
    this.#statements = options.metrics ? new StatementMetrics() : undefined
    this.driver = new SqliteAuraDriver(
      this.handle,
      SQLITE_BUSY_TIMEOUT_MS,
      QueryObserver.create('sqlite', options.queryLog ?? {}, this.#statements),
    )
    this.kysely = this.driver.kysely
    this.reader = { connection: this.driver, kysely: this.kysely }
  }

  metrics(): DatabaseMetrics {
    return { dialect: 'sqlite', connections: null, statements: this.#statements?.snapshot() ?? null }
  }

  columnType(kind: ColumnKind): string {
    return SQLITE_TYPES[kind]
  }

  encode(kind: ColumnKind, value: unknown): unknown {
    if (value === null || value === undefined) return null
    switch (kind) {
      // ISO-8601 UTC with milliseconds: text order is time order.
      case 'timestamp':
        return (value as Date).toISOString()
      case 'bool':
        return value ? 1 : 0
      // SQLite compares text byte by byte: a UUID given in upper case (as the .NET app writes
      // them) must name the same row as its lower-case form, in keys, references and filters.
      // PostgreSQL's uuid type already ignores the case.
      case 'uuid':
        return typeof value === 'string' ? value.toLowerCase() : value
      default:
        return value instanceof Utf8TextBytes ? value.bytes.toString('utf8') : value
    }
  }

  decode(kind: ColumnKind, value: unknown): unknown {
    const decoder = this.decoderOf(kind)
    return decoder ? decoder(value) : (value ?? null)
  }

  decoderOf(kind: ColumnKind): ((value: unknown) => unknown) | null {
    if (kind === 'timestamp') return decodeTimestamp
    if (kind === 'bool') return decodeBool
    return null
  }

  /**
   * `+<column> = ?`: SQLite's unary plus makes the term unusable for an index. Without ANALYZE
   * statistics (Aura Data never runs it: it would write sqlite_stat1 into the user's file)
   * SQLite's planner rates an equality on any indexed column alike, so for
   * `status = ? and is_deleted = 0` it picked `ix_<table>_is_deleted`, which matches nearly every
   * row (a count by status read the whole table that way). With the plus, the filter's own
   * conditions choose the index and the flag is checked on the rows they find; with no other
   * condition the table is scanned in rowid order, which beats walking the flag's index.
   */
  notDeletedCondition(column: string, flag: unknown): RawBuilder<boolean> {
    return sql<boolean>`+${sql.ref(column)} = ${flag}`
  }

  mapError(error: unknown): AuraDataError {
    return toAuraDataError(error, mapSqliteError)
  }

  isRetryable(): boolean {
    // SQLite serialises writers with BEGIN IMMEDIATE and the busy timeout; nothing to retry blindly.
    return false
  }

  /** JSON text: the encoded values are text and numbers only (booleans are 1/0, timestamps text). */
  encodeList(_kind: ColumnKind, values: readonly unknown[]): unknown {
    return JSON.stringify(values)
  }

  /** `json_each` yields each element with its SQLite type: text stays text, numbers numbers. */
  inList(column: string, _kind: ColumnKind, list: unknown): RawBuilder<boolean> {
    return sql<boolean>`${sql.ref(column)} in (select value from json_each(${list}))`
  }

  literalMatch(op: 'contains' | 'startsWith', column: string, value: unknown): RawBuilder<boolean> {
    const col = sql.ref(column)
    return op === 'contains'
      ? sql<boolean>`instr(${col}, ${value}) > 0`
      : sql<boolean>`substr(${col}, 1, length(${value})) = ${value}`
  }

  /**
   * Matches through the FTS5 table `<table>_fts` (external content, rowid = the row's rowid).
   * Each word becomes a quoted prefix term (`"word"*`), so FTS5 query syntax (`OR`, `NEAR`,
   * `-`, `*`) in the user's text is never interpreted; terms separated by spaces must all match.
   */
  fullTextMatch(table: TableDef, words: readonly string[]): RawBuilder<boolean> {
    const fts = sql.table(`${table.name}_fts`)
    const query = words.map((word) => `"${word.replace(/"/g, '""')}"*`).join(' ')
    return sql<boolean>`${sql.ref(`${table.name}.rowid`)} in (select rowid from ${fts} where ${fts} match ${query})`
  }

  /** SQLite's `lower()` folds A–Z only, which is exactly the contract. */
  tagListMatch(column: string, tag: string): RawBuilder<boolean> {
    return sql<boolean>`instr(',' || lower(${sql.ref(column)}) || ',', ${`,${tag},`}) > 0`
  }

  async hasTable(name: string): Promise<boolean> {
    return (
      this.handle.prepare(`select 1 from sqlite_schema where type = 'table' and name = ?`).get(name) !==
      undefined
    )
  }

  async columnNames(table: string): Promise<string[]> {
    const rows = this.handle.prepare('select name from pragma_table_info(?)').all(table) as { name: string }[]
    return rows.map((row) => row.name)
  }

  async introspect(): Promise<SchemaSnapshot> {
    return introspectSqlite(this.handle)
  }

  async createScratch(): Promise<AuraDialect> {
    return new SqliteAuraDialect({ path: ':memory:' })
  }

  acquireMigrationLock(holder: string, timeoutMs: number): Promise<MigrationLock> {
    return acquireSqliteMigrationLock(this.handle, holder, timeoutMs)
  }

  async checkIntegrity(): Promise<readonly IntegrityCheckResult[]> {
    return checkSqliteIntegrity(this.handle)
  }

  /**
   * SQLite's documented procedure for schema changes ALTER TABLE cannot make
   * (https://www.sqlite.org/lang_altertable.html#otheralter): foreign keys off, outside the
   * transaction (the pragma is a no-op inside one), then the step, then `foreign_key_check`
   * before commit, then foreign keys on again. All on the one connection this handle holds.
   */
  migrationTransaction<T>(work: (trx: Kysely<any>) => Promise<T>): Promise<T> {
    return this.kysely.connection().execute(async (conn) => {
      await sql`pragma foreign_keys = off`.execute(conn)
      try {
        return await conn.transaction().execute(async (trx) => {
          const result = await work(trx)
          const { rows } = await sql<{ table: string; parent: string }>`pragma foreign_key_check`.execute(trx)
          if (rows.length > 0) throw danglingReferences(rows)
          return result
        })
      } finally {
        await sql`pragma foreign_keys = on`.execute(conn)
      }
    })
  }

  backups(): DialectBackup {
    // An in-memory database is reachable only through this handle.
    return new SqliteBackup(this.filePath ? { path: this.filePath } : { handle: this.handle })
  }

  async close(): Promise<void> {
    await this.kysely.destroy()
    // Kysely destroys only a driver it initialised: a database used only through the handle
    // (status, backup) would otherwise stay open, and a restore would see it as in use.
    if (this.handle.open) this.handle.close()
  }
}
