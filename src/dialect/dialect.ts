import type { Driver, Kysely } from 'kysely'
import type { AuraConnection, AuraDriver, ErrorMapper } from './driver.js'
import type { HubAdministration } from './hub.js'
import type { Introspector } from './introspector.js'
import type { ScratchModel } from './schema-model.js'
import type { StatementStats } from './statement-metrics.js'
import type { DialectSql } from './sql-generation.js'

/** The dialect names, one token per database everywhere. */
export type DialectName = 'sqlite' | 'postgres'

/** Each dialect's name as printed for people. */
export const DIALECT_TITLES: Readonly<Record<DialectName, string>> = {
  sqlite: 'SQLite',
  postgres: 'PostgreSQL',
}

/** What a database can do; the core asks for capabilities, never for a dialect name. */
export interface DialectCapabilities {
  /** Session-scoped advisory locks released by the server when the connection dies (PostgreSQL). */
  readonly advisoryLock: boolean
  /** The database is one file on this machine (SQLite): file modes, WAL, file backups apply. */
  readonly fileBased: boolean
  /**
   * Writers serialise on one database-wide lock (SQLite's BEGIN IMMEDIATE): a transaction's reads
   * cannot go stale, so row locks (`FOR UPDATE`) are neither needed nor supported.
   */
  readonly singleWriter: boolean
}

/** Where a model is built: fresh scratch databases of one dialect (and server). */
export interface ModelTarget {
  readonly dialect: DialectName
  open(): ScratchModel | Promise<ScratchModel>
  /**
   * Where a table's full-text search lives in this dialect's schema, when it is an index that a
   * hand-written migration creates and the definitions only name (`fullTextSearch`): that
   * index's name (PostgreSQL's GIN expression index). Null where search lives in tables of its
   * own (SQLite FTS5), which models leave out.
   */
  searchIndexName(table: string): string | null
}

/** Holds the migration lock until released; see docs/migrations.md, "How the engine works". */
export interface MigrationLock {
  release(): Promise<void>
}

/**
 * How Aura Data reaches one database: its connections and transactions (the driver), the
 * Kysely instances that build and run queries there, scratch databases, the migration lock.
 */
export interface DialectConnection {
  /** Where Aura Data runs its compiled statements and transactions. */
  readonly driver: AuraDriver
  /**
   * Where reads outside a unit of work run: with read replicas, one that has replayed this
   * process's last commit, else the primary; otherwise the driver itself. `kysely` builds
   * queries that run there (`rowsIn` finds its connection).
   */
  readonly reader: { readonly connection: AuraConnection; readonly kysely: Kysely<any> }
  /**
   * A plain Kysely instance over this database (through Kysely's public `Driver` interface),
   * for migrations and tools that build and run queries in one go.
   */
  readonly kysely: Kysely<any>
  /**
   * A new, empty database of the same dialect and server (SQLite: in memory; PostgreSQL: a fresh
   * schema in the same database), to compute what the migrations produce. Its `close()`
   * removes it.
   */
  createScratch(): Promise<AuraDialect>
  /**
   * Takes the migration lock: waits while another live process holds it; takes over one left by a
   * crashed process. Throws MigrationError after `timeoutMs`.
   */
  acquireMigrationLock(holder: string, timeoutMs: number): Promise<MigrationLock>
  /**
   * Runs one migration step in one transaction, commit on return, rollback on throw.
   * SQLite: foreign-key enforcement is off for the step, so that a table rebuild (create the new
   * table, copy, drop the old one, rename) does not cascade its DROP into the child tables, and
   * `foreign_key_check` runs before the commit: a step that leaves a dangling reference fails
   * and is rolled back. PostgreSQL alters tables in place and checks constraints as it goes.
   */
  migrationTransaction<T>(work: (trx: Kysely<any>) => Promise<T>): Promise<T>
  /** The connections' state and the statement timings collected so far. */
  metrics(): DatabaseMetrics
  close(): Promise<void>
}

/**
 * The seam between Aura Data and one database. Everything that differs between SQLite and
 * PostgreSQL lives behind this interface, in `src/dialect/<name>/`; the rest of the code base
 * is dialect-free. It is made of roles, each an interface of its own and the same file in every
 * dialect's folder: the connection ({@link DialectConnection}; `<name>-driver.ts`: statements
 * and transactions), the SQL it speaks ({@link DialectSql}: value codecs, SQL fragments,
 * data-modifying CTEs), the error mapper (`<name>-errors.ts`), the introspector
 * (`<name>-introspect.ts`) and the backup (`<name>-backup.ts`).
 */
export interface AuraDialect extends DialectConnection, DialectSql, ErrorMapper, Introspector {
  readonly name: DialectName
  readonly capabilities: DialectCapabilities
  /** Where the database is, safe to print (no password). */
  readonly location: string
  /** The SQLite file path (absolute), or null for PostgreSQL and in-memory databases. */
  readonly filePath: string | null
  /**
   * Scratch databases of this dialect (and server) to build schema models in: what `aura-db
   * check` and `verify` compare the definitions and the migrations on.
   */
  readonly schemaModel: ModelTarget
  /** The administration of a team hub (sync), where the database can be one (PostgreSQL). */
  readonly hub: HubAdministration | null
  /** The backup and restore mechanics of this database (see `createBackup` and `restoreDatabase`). */
  backups(): DialectBackup
  /**
   * The database's own integrity checks of the live data (SQLite: `integrity_check` and
   * `foreign_key_check`; PostgreSQL: every foreign key re-checked), one result per check.
   */
  checkIntegrity(): Promise<readonly IntegrityCheckResult[]>
}

/** The connections of a PostgreSQL pool, as `db.metrics()` reports them. */
export interface ConnectionMetrics {
  /** Connections open now (idle and in use). */
  readonly open: number
  readonly idle: number
  /** Callers waiting for a free connection of a full pool. */
  readonly waiting: number
  /** The pool's limit (`poolSize`). */
  readonly max: number
  /** Connections made since the database was opened; more than `max` means reconnects. */
  readonly opened: number
  /** Connections lost while in use (ConnectionLostError), failed attempts to connect included. */
  readonly lost: number
  /** Round trips that missed the deadline (DeadlineError). */
  readonly deadlines: number
  /** COMMITs whose answer never came (CommitUnknownError). */
  readonly commitsUnknown: number
}

/** One read replica, as `db.metrics()` reports it. */
export interface ReplicaMetrics {
  /** Its URL, password redacted. */
  readonly location: string
  /** Reads it answered. */
  readonly reads: number
  /**
   * Times a read could not use it and went elsewhere: it had not yet replayed this process's
   * last commit, lagged past `maxReplicaLagMs`, was down, or failed the read.
   */
  readonly fallbacks: number
  /** How far its replay was behind when last asked, in ms (0 when it had replayed all it received); null before. */
  readonly lagMs: number | null
  /** It failed to answer when last tried; it is tried again after a few seconds. */
  readonly down: boolean
}

/** Where the reads outside a unit of work went, with read replicas configured. */
export interface ReadRoutingMetrics {
  /** Reads the primary answered because no replica could. */
  readonly primaryReads: number
  readonly replicas: readonly ReplicaMetrics[]
}

/** What `db.metrics()` returns: the state of the connections and statement timings, without values. */
export interface DatabaseMetrics {
  readonly dialect: DialectName
  /** PostgreSQL's pool; null on SQLite (one connection, no network). */
  readonly connections: ConnectionMetrics | null
  /**
   * Per statement shape: runs, failures, p50/p99 time. Collected on PostgreSQL always (a round
   * trip dwarfs the cost); on SQLite only with `openDatabase({ metrics: true })`, else null.
   */
  readonly statements: readonly StatementStats[] | null
  /** Read routing, present only when read replicas are configured (PostgreSQL `replicas`). */
  readonly replicas?: ReadRoutingMetrics
}

/** The outcome of one integrity check, as `aura-db verify` lists it. */
export interface IntegrityCheckResult {
  readonly name: string
  readonly ok: boolean
  /** What was found: a summary when fine, the named failures otherwise. */
  readonly detail: string
}

/** What a backup holds, as read back from the backup file itself. */
export interface BackupContent {
  /** `sqlite`, `pg_dump-custom` (pg_dump -Fc) or `aura-logical-v1` (the library's own export). */
  readonly format: string
  /** The applied migrations recorded in the backup, oldest first. */
  readonly migrations: readonly string[]
  /** Rows per table, history table included, by table name. */
  readonly rowCounts: Readonly<Record<string, number>>
}

/** Progress of a long backup or restore step: `done` of `total` units (pages, tables, rows). */
export interface BackupProgress {
  readonly done: number
  readonly total: number
  /** The same progress in bytes, where the dialect knows it (SQLite: pages × page size). */
  readonly doneBytes?: number
  readonly totalBytes?: number
}

/** A backup copied (or checked) where the swap takes it from, with the hash of exactly those bytes. */
export interface StagedBackup {
  readonly path: string
  readonly sha256: string
  readonly sizeBytes: number
  /** Removes the staged copy (nothing for a backup that was not copied). */
  discard(): Promise<void>
}

/** How {@link ExclusiveDatabase.replaceWith} replaces the database. */
export interface ReplaceOptions {
  /**
   * The SQL that recreates the schema at the backup's migrations, for a backup format that holds
   * data only (the logical export).
   */
  readonly schemaScript: (migrations: readonly string[]) => Promise<string>
  readonly onProgress?: (progress: BackupProgress) => void
  /**
   * Checks the swapped-in database through `db` while it is still held, where the dialect can
   * (SQLite: under the new file's exclusive lock); a throw fails the restore. A dialect that
   * cannot leaves it uncalled, and the caller checks after the release instead.
   */
  readonly verify?: (db: Kysely<any>) => Promise<void>
}

/**
 * The database held for a restore: no other process has it open (SQLite: this handle holds the
 * exclusive lock; PostgreSQL: no other session was connected).
 */
export interface ExclusiveDatabase {
  /** False when there is no database yet (a SQLite file that does not exist): nothing to save. */
  readonly exists: boolean
  /** A consistent backup of the held database into `file` (an existing empty file), for the safety backup. */
  backupTo(file: string, onProgress?: (progress: BackupProgress) => void): Promise<void>
  /**
   * Replaces the whole database with the staged backup, atomically: either everything is
   * replaced or nothing is. `schemaScript` gives the SQL that recreates the schema at the
   * backup's migrations, for a backup format that holds data only (the logical export).
   */
  replaceWith(staged: StagedBackup, options: ReplaceOptions): Promise<void>
  /** Lets go of the database; safe to call more than once. */
  release(): Promise<void>
}

/**
 * The backup side of the dialect seam (`src/dialect/<name>/<name>-backup.ts`). It opens nothing
 * until asked: a restore must work on a database that is missing or too damaged to open.
 */
export interface DialectBackup {
  /** The file extension of this dialect's backups: `.db` (SQLite) or `.dump` (PostgreSQL). */
  readonly extension: string
  /** `backups/` next to the SQLite file; `./backups` for PostgreSQL. */
  defaultDir(): string
  /**
   * Which database this is, as recorded in every backup's manifest (`source`): retention only
   * counts and prunes backups of the same source, and restore refuses another one's backup
   * unless forced. SQLite: `sqlite:<real path of the file>`; PostgreSQL:
   * `postgres://<host>:<port>/<database>` (no user, no password).
   */
  sourceIdentity(): string
  /** A consistent online backup of the whole database into `file` (an existing empty file); writers keep working. */
  backupTo(file: string, onProgress?: (progress: BackupProgress) => void): Promise<void>
  /** Checks a backup file without writing to it and reads what it holds; a BackupError names the problem. */
  inspect(file: string): Promise<BackupContent>
  /** Makes `file` ready for {@link ExclusiveDatabase.replaceWith}, hashing exactly the bytes that will be used. */
  stage(file: string): Promise<StagedBackup>
  /** Takes the database for a restore; a BackupError when another process has it open. */
  acquireExclusive(): Promise<ExclusiveDatabase>
}

/** One migration's compiled statements, for a SQL script. */
export interface ScriptMigration {
  readonly name: string
  /** The migration set (`aura-data`, `app`) recorded in the history's `migration_set`. */
  readonly set: string
  readonly checksum: string
  readonly direction: 'up' | 'down'
  /** Statements with every parameter inlined as a literal. */
  readonly statements: readonly string[]
}

/**
 * What a dialect needs to turn migrations into a SQL script without a database: its compiler
 * (through a Kysely built over a recording driver), literal quoting and the script's framing.
 */
export interface ScriptDialect {
  readonly name: DialectName
  /** A Kysely with this dialect's adapter and compiler over `driver` (which never touches a database). */
  createKysely(driver: Driver): Kysely<any>
  /** The statement with its placeholders replaced by literals of `parameters`. */
  inline(sql: string, parameters: readonly unknown[]): string
  /** The whole script: history table, each migration guarded or framed, history rows. */
  render(migrations: readonly ScriptMigration[]): string
}
