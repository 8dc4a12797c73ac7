import { setTimeout as sleep } from 'node:timers/promises'
import {
  checkOpenOptions,
  createDialect,
  defaultDatabaseUrl,
  prepareToOpen,
  type AuraDialect,
  type DatabaseMetrics,
  type PostgresPoolOptions,
  type QueryLogOptions,
} from './dialect/index.js'
import { configuredOptions } from './config.js'
import { loadSecretCipher, type SecretKeyInput, type ValueCipher } from './domain/secrets.js'
import { seedDatabase, type SeedProfile, type SeedResult } from './operations/seed.js'
import { MigrationError, usage, UsageError } from './errors.js'
import { Migrator, type MigrationRun, type MigrationStatus } from './migration/migrator.js'
import { createBackup, type BackupOptions, type BackupResult } from './operations/backup.js'
import type { TableDef } from './schema/define.js'
import { projectOwnershipOf } from './schema/project-ownership.js'
import { registerTables, schemaTables } from './schema/registry.js'
import type { ActionApplier } from './repository/action-logs-repository.js'
import {
  createRepositories,
  type Repositories,
  type RepositoryOptions,
  type TableRepository,
} from './repository/repositories.js'
import { ChangeFeed } from './repository/change-feed.js'
import {
  DatabaseSession,
  DEFAULT_RETRIES,
  insideTransaction,
  retryDelayMs,
  QueryCache,
  runTransactionCallback,
} from './repository/session.js'
import { UnitOfWork, type UnitOfWorkOptions } from './unit-of-work.js'

/** Options of {@link AuraDatabase.transaction}. */
export interface TransactionOptions extends UnitOfWorkOptions {
  /**
   * How many times to rerun the callback, in a new unit, when the unit failed in a way that
   * provably committed nothing: a serialization failure or deadlock (PostgreSQL 40001, 40P01),
   * a statement prepared before another process changed the table's columns, or a connection
   * lost before COMMIT was sent. Never after COMMIT was sent (CommitUnknownError), and never
   * after a missed deadline (DeadlineError: rerunning would multiply a stalled network's wait).
   * Default 4; 0 turns retries off. The waits between runs grow from about 50 ms to 2 s.
   */
  readonly retries?: number
}

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions extends QueryLogOptions {
  /**
   * `sqlite:<path>`, `sqlite::memory:` or `postgres://…`; default `AURA_DATABASE_URL`, else
   * `databaseUrl` of the config file, else `sqlite:./data/aura.db`.
   */
  readonly url?: string
  /**
   * The config file whose `databaseUrl`, `migrationsDir`, `postgres` and `slowQueryMs` apply
   * where this call and the environment give none, as for `aura-db` (README, "Command line").
   * Default: `AURA_CONFIG`, else `./aura.config.json` when there is one; `false` reads none.
   */
  readonly configFile?: string | false
  /** Default actor for audit fields; a unit of work may override it. */
  readonly actor?: string | null
  /**
   * The application's migrations folder, applied after the package's shipped migrations (set
   * `app`), as `--migrations-dir` of the CLI. A folder that is the package's `migrations/` or holds
   * its first migration (`20250101000000_InitialCreate.ts`) is a whole history that replaces the
   * package's instead. Default: `AURA_MIGRATIONS_DIR`, else `migrationsDir` of the config file,
   * else the package's migrations alone. See docs/migrations.md, "Migration sets".
   */
  readonly migrationsDir?: string
  /** Apply pending migrations while opening (off by default: migrating is a decision). */
  readonly migrate?: boolean
  /**
   * Create a missing database: the SQLite file (and its directory, mode 0700; the file 0600), or
   * the PostgreSQL database named in the URL (connecting to the server's `postgres` database; the
   * role needs CREATEDB). Default true; false makes a missing database a UsageError, for tools
   * that must only inspect.
   */
  readonly create?: boolean
  /**
   * SQLite: open the file for reading only, writing nothing to it or beside it, so that a file the
   * process may not write, or one on a read-only mount, can still be inspected (`aura-db status`,
   * `list`, `verify`). Every write is then a StorageError. Implies `create: false`. No effect on
   * PostgreSQL, where the server's permissions decide.
   */
  readonly readOnly?: boolean
  /**
   * The key that encrypts sensitive configuration values: 32 bytes, or their standard base64.
   * Default: the environment variable `AURA_SECRET_KEY` (base64), else `AURA_SECRET_KEY_FILE`.
   */
  readonly secretKey?: SecretKeyInput
  /** A file holding that key (its base64 text, or the 32 raw bytes), instead of `secretKey`. */
  readonly secretKeyFile?: string
  /**
   * SQLite: time every statement per shape for {@link AuraDatabase.metrics} (off by default: a
   * statement there is a function call, and timing it costs a noticeable share). PostgreSQL
   * always collects them.
   */
  readonly metrics?: boolean
  /** PostgreSQL: pool size, deadlines and timeouts, pooler mode, application name. No effect on SQLite. */
  readonly postgres?: PostgresPoolOptions
  /**
   * The application's table definitions: extensions of built-in tables (`extendTable`), which
   * the built-in repositories then read, write, validate, filter and audit with the new
   * fields, and tables of its own (`defineTable`), served by {@link AuraDatabase.table}. Their
   * columns come from the application's own migrations (docs/migrations.md).
   */
  readonly tables?: readonly TableDef[]
}

// The repositories are assigned in the constructor; the interface gives them their types.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type
export interface AuraDatabase extends Repositories {}

/**
 * An open Aura Data database: the facade over one dialect, its migration engine, transactions
 * and repositories. Repositories on the database run each call in its own transaction;
 * those of a unit of work share the unit's.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class AuraDatabase {
  /** @internal The dialect seam the CLI and operations drive; not part of the public API. */
  readonly dialect: AuraDialect
  readonly migrator: Migrator
  readonly defaultActor: string | null
  readonly #cache = new QueryCache()
  /**
   * The rows each unit of work (and each db-level write) changed, delivered to subscribers after
   * it commits, in commit order: see {@link ChangeFeed}.
   */
  readonly changes = new ChangeFeed()
  readonly #cipher: ValueCipher | null
  /** Undo/redo appliers of the app's own action types (`db.actionLogs.registerApplier`). */
  readonly #appliers = new Map<string, ActionApplier>()
  /** The application's registered definitions, by table name. */
  readonly #tables: ReadonlyMap<string, TableDef>
  /** The tables whose rows belong to a project, read once from the definitions. */
  readonly #projectChildren: readonly TableDef[]
  readonly #table: <T extends TableDef>(definition: T) => TableRepository<T>
  #closed = false
  #ready: Promise<void> | null = null

  /**
   * `cipher`: the secret-key cipher when the caller already loaded it; else it is loaded from the options.
   * @internal Open a database with {@link openDatabase}, which also checks the URL and creates the dialect.
   */
  constructor(dialect: AuraDialect, options: OpenDatabaseOptions, cipher?: ValueCipher | null) {
    this.dialect = dialect
    this.#cipher = cipher === undefined ? loadSecretCipher(options) : cipher
    this.defaultActor = options.actor ?? null
    this.#tables = registerTables(options.tables)
    this.#projectChildren = schemaTables(this.#tables).filter((table) => projectOwnershipOf(table) !== null)
    this.migrator = new Migrator(
      dialect,
      options.migrationsDir ? { migrationsDir: options.migrationsDir } : {},
    )
    const session = new DatabaseSession(
      dialect,
      this.#cache,
      this.defaultActor,
      () => this.ready(),
      this.changes,
    )
    const { table, ...repositories } = createRepositories(session, this.#repositoryOptions())
    Object.assign(this, repositories)
    this.#table = table
  }

  /**
   * The table definitions of this database: the built-in ones, with the application's
   * registered extensions in their place, and the application's own tables.
   * @internal What `verify` compares with the migrations.
   */
  schemaTables(): TableDef[] {
    return schemaTables(this.#tables)
  }

  /**
   * The repository of a table of the application's own, registered with
   * `openDatabase({ tables })`: the generic operations with validation, audit, and row version
   * and soft delete (`restore`, `purge`) as its features say. Each call runs in its own
   * transaction; `uow.table(definition)` shares a unit's. An unregistered table is a UsageError.
   *
   * @example
   * // Declared by the application, and registered with openDatabase({ tables: [clientNotes] }).
   * const clientNotes = defineTable({
   *   name: 'client_notes',
   *   primaryKey: 'id',
   *   keyGeneration: 'uuid',
   *   features: { audit: true, rowVersion: true, softDelete: false },
   *   columns: {
   *     id: c.uuid().withDefault(NEW_UUID),
   *     projectId: c.uuid().references('project_states', 'id', 'cascade'),
   *     body: c.text(500),
   *   },
   * })
   * const notes = db.table(clientNotes)
   * await notes.add({ projectId: project.id, body: 'Call back on Monday' })
   */
  table<T extends TableDef>(definition: T): TableRepository<T> {
    this.assertOpen()
    return this.#table(definition)
  }

  /**
   * Runs `fn` in one unit of work: commit when it returns, roll back when it throws.
   * A failure that provably committed nothing (a serialization failure or deadlock, a connection
   * lost before COMMIT was sent; see {@link TransactionOptions.retries}) reruns `fn` in a new
   * unit, a bounded number of times; `fn` must therefore not have effects outside the database.
   *
   * @example
   * await db.transaction(async (uow) => {
   *   const p = await uow.projectStates.add({ title: 'Launch video' })
   *   await uow.sceneStates.add({ projectId: p.id, sceneIndex: 0, scriptText: 'Hello' })
   * }, { actor: 'bob' })
   */
  async transaction<T>(fn: (uow: UnitOfWork) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const { retries = DEFAULT_RETRIES, ...unitOptions } = options
    if (!Number.isSafeInteger(retries) || retries < 0) throw usage.badRetries(retries)
    for (let attempt = 1; ; attempt++) {
      let uow: UnitOfWork | undefined
      try {
        uow = await this.beginUnitOfWork(unitOptions)
        const unit = uow
        const result = await runTransactionCallback(unit, () => fn(unit))
        await unit.commit()
        return result
      } catch (error) {
        if (uow?.isActive) await uow.rollback()
        // A poisoned unit's UsageError carries the failure that decides.
        const failure = error instanceof UsageError && error.cause !== undefined ? error.cause : error
        if (attempt > retries || !this.dialect.isRetryable(failure)) throw error
        await sleep(retryDelayMs(attempt))
      }
    }
  }

  /** Starts an explicit unit of work; the caller must `commit()` or `rollback()` it. */
  async beginUnitOfWork(options: UnitOfWorkOptions = {}): Promise<UnitOfWork> {
    // A second unit inside a db.transaction callback would wait for the first one's write lock
    // on SQLite (until the busy timeout) and escape its atomicity on PostgreSQL.
    if (insideTransaction()) throw usage.nestedUnitOfWork()
    await this.ready()
    return UnitOfWork.begin(
      this.dialect,
      this.#cache,
      this.changes,
      this.defaultActor,
      options,
      this.#repositoryOptions(),
    )
  }

  /**
   * Resolves when the database is open and has no pending migrations or drift; otherwise rejects
   * with an error naming them. Checked once, then remembered until the next migrate/rollback.
   */
  ready(): Promise<void> {
    this.assertOpen()
    if (!this.#ready) {
      const check = this.#mapped(this.migrator.status()).then((status) => {
        if (status.drift.length > 0) {
          throw new MigrationError(
            `Applied migrations drifted from their files: ${status.drift.map((d) => d.name).join(', ')}. Run \`aura-db status\`.`,
          )
        }
        if (status.pending.length > 0) throw usage.pendingMigrations(status.pending)
      })
      this.#ready = check
      check.catch(() => {
        if (this.#ready === check) this.#ready = null
      })
    }
    return this.#ready
  }

  /** The promise with any error it rejects with turned into an AuraDataError (the central mapping). */
  async #mapped<T>(work: Promise<T>): Promise<T> {
    try {
      return await work
    } catch (error) {
      throw this.dialect.mapError(error)
    }
  }

  #repositoryOptions(): RepositoryOptions {
    return {
      cipher: this.#cipher,
      appliers: this.#appliers,
      tables: this.#tables,
      projectChildren: this.#projectChildren,
    }
  }

  /**
   * Inserts the seed data in one transaction, only what is missing: running it again changes
   * nothing. Returns how many rows it inserted per table. `profile`: `development` (default) the
   * sample data (a user setup, projects, templates, exports) and the configuration defaults; `production` only
   * the configuration defaults.
   *
   * @example
   * const { inserted } = await db.seed()
   * await db.seed({ profile: 'production' })
   */
  seed(options: { profile?: SeedProfile } = {}): Promise<SeedResult> {
    return this.#mapped(seedDatabase(this, options.profile))
  }

  /** Applies pending migrations (docs/migrations.md); throws the MigrationError of a failed step. */
  async migrate(options: { to?: string } = {}): Promise<MigrationRun> {
    this.assertOpen()
    this.#ready = null
    const run = await this.#mapped(this.migrator.migrate(options))
    if (run.error) throw run.error
    return run
  }

  /** Reverts migrations newest first: after `to`, all for `0`, the newest one by default. */
  async rollback(options: { to?: string | 0 } = {}): Promise<MigrationRun> {
    this.assertOpen()
    this.#ready = null
    const run = await this.#mapped(this.migrator.rollback(options))
    if (run.error) throw run.error
    return run
  }

  /** Current, applied and pending migrations and any drift. */
  status(): Promise<MigrationStatus> {
    this.assertOpen()
    return this.#mapped(this.migrator.status())
  }

  /**
   * Takes a verified online backup while the application keeps writing (README,
   * "Command line"): temporary name, flush, verify, sha256 manifest, rename, then retention.
   *
   * @example
   * const { file, pruned } = await db.backup({ dir: './backups', keep: 5 })
   */
  backup(options: BackupOptions = {}): Promise<BackupResult> {
    this.assertOpen()
    return this.#mapped(createBackup(this.dialect, options))
  }

  /**
   * How the database is doing, in this process: PostgreSQL's pool (open, idle, waiting,
   * connections made, lost, deadlines missed, commits of unknown outcome) and, per statement
   * shape (SQL with placeholders, never values), runs, failures and p50/p99 time.
   *
   * @example
   * const { connections, statements } = db.metrics()
   * console.log(connections?.waiting, statements?.[0]?.p99Ms)
   */
  metrics(): DatabaseMetrics {
    this.assertOpen()
    return this.dialect.metrics()
  }

  /** Closes the connection(s). Further use is a UsageError. */
  async close(): Promise<void> {
    if (this.#closed) return
    // Subscribers get the units that committed before the close, and may still read meanwhile.
    await this.changes.settled()
    if (this.#closed) return
    this.#closed = true
    await this.dialect.close()
  }

  /** @internal */
  assertOpen(): void {
    if (this.#closed) throw usage.closed()
  }
}

/**
 * Opens (creating when missing) a database.
 *
 * @example
 * const db = await openDatabase({ url: 'sqlite:./data/aura.db', actor: 'alice' })
 * await db.migrate()
 * await db.close()
 */
export async function openDatabase(explicit: OpenDatabaseOptions = {}): Promise<AuraDatabase> {
  const options = configuredOptions(explicit)
  // The key and the definitions are checked before anything is opened: a bad one leaves no
  // connection behind.
  registerTables(options.tables)
  const cipher = loadSecretCipher(options)
  const url = options.url ?? defaultDatabaseUrl()
  checkOpenOptions(url, options.postgres)
  const create = options.readOnly ? false : (options.create ?? true)
  if (create) await prepareToOpen(url, options.postgres)
  const dialect = createDialect(url, {
    create,
    readOnly: options.readOnly ?? false,
    queryLog: {
      ...(options.log ? { log: options.log } : {}),
      ...(options.slowQueryMs === undefined ? {} : { slowQueryMs: options.slowQueryMs }),
      ...(options.logParameters === undefined ? {} : { logParameters: options.logParameters }),
    },
    ...(options.postgres ? { postgres: options.postgres } : {}),
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
  })
  const db = new AuraDatabase(dialect, options, cipher)
  try {
    if (options.migrate) await db.migrate()
  } catch (error) {
    await db.close()
    throw error
  }
  return db
}
