import { PostgresHub } from './postgres-hub.js'
import { postgresModelTarget } from './postgres-model.js'
import { postgresWritableCte } from './postgres-writable-cte.js'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { sql, type Kysely, type RawBuilder } from 'kysely'
import pg from 'pg'
import { MigrationError, redactUrl, toAuraDataError, usage, type AuraDataError } from '../../errors.js'
import type { ColumnKind, TableDef } from '../../schema/define.js'
import type {
  AuraDialect,
  DatabaseMetrics,
  DialectBackup,
  IntegrityCheckResult,
  MigrationLock,
} from '../dialect.js'
import type { SchemaSnapshot } from '../introspector.js'
import { kyselyOn, kyselyOverDriver } from '../driver.js'
import { QueryObserver, type QueryLogOptions } from '../query-log.js'
import { StatementMetrics } from '../statement-metrics.js'
import { PostgresBackup } from './postgres-backup.js'
import { checkPostgresIntegrity } from './postgres-integrity.js'
import { PostgresAuraDriver, postgresCompiler } from './postgres-driver.js'
import { isRetryablePostgresError, mapPostgresError } from './postgres-errors.js'
import { introspectPostgres } from './postgres-introspect.js'
import { DEFAULT_MAX_REPLICA_LAG_MS, Replica, ReplicaRouter } from './postgres-replicas.js'
import { parsePostgresTarget, type PostgresTarget } from './postgres-url.js'
import { Utf8TextBytes } from '../text-bytes.js'

/** Advisory-lock key of the migration engine ("AURA" in ASCII). */
const MIGRATION_LOCK_KEY = 0x41555241
const POLL_MS = 50

const INT8_OID = 20

/**
 * Type parsing per pool (not pg's global registry, which other code in the process may own):
 * `bigint` columns come back as JavaScript numbers. Aura Data's bigints are byte counts and
 * sequences, far below 2^53.
 */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value)
    return pg.types.getTypeParser(oid, format as 'text')
  },
}

const POSTGRES_TYPES: Record<ColumnKind, string> = {
  uuid: 'uuid',
  text: 'text',
  json: 'text',
  int: 'integer',
  bigint: 'bigint',
  real: 'double precision',
  bool: 'boolean',
  timestamp: 'timestamptz',
}

/** The PostgreSQL connection settings of `openDatabase({ postgres })`. */
export interface PostgresPoolOptions {
  /** Connections in the pool; 10 by default. */
  readonly poolSize?: number
  /** How long to wait for a connection (a new one, or a free one of a full pool) before a DeadlineError; default `deadlineMs`. */
  readonly connectionTimeoutMs?: number
  /** The server cancels a statement running longer than this (`statement_timeout`); default: the server's. */
  readonly statementTimeoutMs?: number
  /** `application_name`, shown in `pg_stat_activity` and the server log; default `aura-data`. */
  readonly applicationName?: string
  /**
   * The longest wait for any one answer of the server (a statement, BEGIN, COMMIT), measured on
   * this side; default 30000. A call that gets no answer in time fails with a DeadlineError and
   * its connection is discarded, so a stalled network costs this long, not as long as TCP waits.
   * Set it above your slowest statement. Getting a connection waits `connectionTimeoutMs`, by
   * default this same value.
   */
  readonly deadlineMs?: number
  /**
   * `'transaction'`: the URL is a transaction-pooling proxy (PgBouncer, Supavisor, RDS Proxy).
   * Statements are sent unnamed and no session setting is used; migrations, backups and
   * restores go to `directUrl`. Same as `aura_pooler=transaction` in the URL.
   */
  readonly pooler?: 'transaction' | false
  /** The server itself in pooler mode (default `AURA_DIRECT_DATABASE_URL`, or `aura_direct=host:port` in the URL). */
  readonly directUrl?: string
  /**
   * Streaming replicas (`postgres://` URLs) for reads outside a unit of work. A read goes to
   * one only when it has replayed this process's last commit, else to the primary; writes and
   * units always go to the primary. See docs/postgresql.md, "Read replicas".
   */
  readonly replicas?: readonly string[]
  /** A replica further behind than this (ms) is skipped by reads that need no commit of this process; default 10000. */
  readonly maxReplicaLagMs?: number
}

/** The default of {@link PostgresPoolOptions.deadlineMs}. */
export const DEFAULT_DEADLINE_MS = 30_000

export interface PostgresOptions {
  /** Where to connect, Aura Data's URL parameters read (see parsePostgresTarget). */
  readonly target: PostgresTarget
  /** Pool size; 10 by default (wins over `pool.poolSize`). */
  readonly max?: number
  readonly pool?: PostgresPoolOptions
  /** The query log and slow-query threshold (query-log.ts). */
  readonly queryLog?: QueryLogOptions
  /** A schema to work in instead of the connection's default; dropped by `close()` (scratch databases). */
  readonly scratchSchema?: string
}

/** Values computed by expressions (count(*), max()) may still arrive as strings. */
function decodeNumber(value: unknown): unknown {
  if (value === null || value === undefined) return null
  return typeof value === 'string' ? Number(value) : value
}

function decodeTimestamp(value: unknown): unknown {
  if (value === null || value === undefined) return null
  return value instanceof Date ? value : new Date(value as string)
}
/** The PostgreSQL side of the dialect seam: a pg pool behind Kysely's PostgresDialect. */
export class PostgresAuraDialect implements AuraDialect {
  readonly name = 'postgres' as const
  readonly capabilities = {
    advisoryLock: true,
    fileBased: false,
    singleWriter: false,
  }
  readonly writableCte = postgresWritableCte
  readonly schemaModel = postgresModelTarget(this)
  readonly hub: PostgresHub
  readonly location: string
  readonly filePath = null
  readonly driver: PostgresAuraDriver
  readonly kysely: Kysely<any>
  readonly reader: AuraDialect['reader']
  readonly #options: PostgresOptions
  readonly #pool: pg.Pool
  readonly #replicaPools: pg.Pool[] = []
  readonly #router: ReplicaRouter | null
  readonly #statements = new StatementMetrics()

  constructor(options: PostgresOptions) {
    this.#options = options
    const { target } = options
    this.location = redactUrl(target.connectionString)
    const settings = options.pool ?? {}
    const deadlineMs = settings.deadlineMs ?? DEFAULT_DEADLINE_MS
    const pool = this.#createPool(target.connectionString, deadlineMs)
    this.#pool = pool
    const observer = QueryObserver.create('postgres', options.queryLog ?? {}, this.#statements)
    const driverOptions = {
      deadlineMs,
      connectTimeoutMs: settings.connectionTimeoutMs ?? deadlineMs,
      pooler: target.pooler,
      observer,
    }
    const replicas = (settings.replicas ?? []).map((url) => {
      const replica = parsePostgresTarget(url)
      const replicaPool = this.#createPool(replica.connectionString, deadlineMs)
      this.#replicaPools.push(replicaPool)
      const driver = new PostgresAuraDriver(replicaPool, { ...driverOptions, pooler: replica.pooler })
      return new Replica(redactUrl(replica.connectionString), driver)
    })
    this.#router =
      replicas.length === 0
        ? null
        : new ReplicaRouter(
            // Bound late: the router needs the primary's driver, which reports commits to it.
            { execute: (query) => this.driver.execute(query) },
            replicas,
            settings.maxReplicaLagMs ?? DEFAULT_MAX_REPLICA_LAG_MS,
          )
    const router = this.#router
    this.driver = new PostgresAuraDriver(pool, {
      ...driverOptions,
      ...(router ? { onCommitLsn: (lsn: string | null) => router.committed(lsn) } : {}),
    })
    // Migrations and tools run on a Kysely over the same driver: the same connection handling,
    // deadlines and query log as every other statement.
    this.kysely = kyselyOverDriver(postgresCompiler, this.driver)
    this.hub = new PostgresHub(this.kysely)
    this.reader = router
      ? { connection: router, kysely: kyselyOn(postgresCompiler, router) }
      : { connection: this.driver, kysely: this.kysely }
  }

  /** A pool with Aura Data's connection settings: the primary's, and each replica's. */
  #createPool(connectionString: string, deadlineMs: number): pg.Pool {
    const options = this.#options
    const { target } = options
    const settings = options.pool ?? {}
    const pool = new pg.Pool({
      connectionString,
      max: options.max ?? settings.poolSize ?? 10,
      application_name: settings.applicationName ?? 'aura-data',
      // The driver gives up waiting at connectTimeoutMs (a DeadlineError); the pool's own limit,
      // a little later, ends the attempt itself, so a connection stuck in its handshake does not
      // hold a pool slot for as long as TCP waits.
      connectionTimeoutMillis: (settings.connectionTimeoutMs ?? deadlineMs) + 500,
      // The kernel's probes find a peer that vanished (a cut cable, a crashed host) on idle
      // pooled connections too, where no deadline runs.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      // A pooler refuses startup parameters it does not know (`statement_timeout` among them);
      // set the timeout on the role there instead (docs/postgresql.md).
      ...(settings.statementTimeoutMs === undefined || target.pooler
        ? {}
        : { statement_timeout: settings.statementTimeoutMs }),
      types,
      // A transaction sends a statement whose result nobody waits for (an audit entry) together
      // with the next one (see PostgresTransaction.defer): pg writes queries without waiting for
      // the previous answer only in pipeline mode. Code that awaits each query behaves as without it.
      pipeline: true,
      ...(options.scratchSchema ? { options: `-c search_path=${options.scratchSchema}` } : {}),
    })
    // pg emits 'error' on the pool when the server ends an idle connection (restart,
    // pg_terminate_backend, a forced DROP DATABASE while `end()` is still closing it); without a
    // listener that is an uncaught exception. pg has already dropped the client: nothing to do.
    pool.on('error', () => {})
    return pool
  }

  /** The server itself, for what needs a session of its own; a UsageError in pooler mode without one. */
  #direct(what: string): string {
    const direct = this.#options.target.directConnectionString
    if (direct === null) throw usage.poolerNeedsDirect(what)
    return direct
  }

  columnType(kind: ColumnKind, maxLength?: number): string {
    if (kind === 'text' && maxLength) return `varchar(${maxLength})`
    return POSTGRES_TYPES[kind]
  }

  encode(_kind: ColumnKind, value: unknown): unknown {
    // pg sends a Buffer in binary format, which for text is its UTF-8 bytes (see Utf8TextBytes).
    if (value instanceof Utf8TextBytes) return value.bytes
    return value ?? null
  }

  decode(kind: ColumnKind, value: unknown): unknown {
    const decoder = this.decoderOf(kind)
    return decoder ? decoder(value) : (value ?? null)
  }

  decoderOf(kind: ColumnKind): ((value: unknown) => unknown) | null {
    if (kind === 'bigint' || kind === 'int') return decodeNumber
    if (kind === 'timestamp') return decodeTimestamp
    return null
  }

  /** The plain comparison: PostgreSQL plans with the statistics autovacuum keeps. */
  notDeletedCondition(column: string, flag: unknown): RawBuilder<boolean> {
    return sql<boolean>`${sql.ref(column)} = ${flag}`
  }

  mapError(error: unknown): AuraDataError {
    return toAuraDataError(error, mapPostgresError)
  }

  isRetryable(error: unknown): boolean {
    return isRetryablePostgresError(error)
  }

  /** A JavaScript array: pg sends it as one array literal, each element quoted and escaped. */
  encodeList(_kind: ColumnKind, values: readonly unknown[]): unknown {
    return values
  }

  /** `= any($1::<type>[])`: one parameter of the column's array type. */
  inList(column: string, kind: ColumnKind, list: unknown): RawBuilder<boolean> {
    return sql<boolean>`${sql.ref(column)} = any(cast(${list} as ${sql.raw(`${POSTGRES_TYPES[kind]}[]`)}))`
  }

  literalMatch(op: 'contains' | 'startsWith', column: string, value: unknown): RawBuilder<boolean> {
    const col = sql.ref(column)
    return op === 'contains'
      ? sql<boolean>`strpos(${col}, ${value}) > 0`
      : sql<boolean>`starts_with(${col}, ${value})`
  }

  /**
   * Matches through the GIN expression index `ix_<table>_search`: the expression below is the
   * indexed one, character for character in meaning (same function, configuration and pattern
   * as literals), or PostgreSQL would not use the index. Each word becomes a prefix lexeme
   * (`word:*`), joined with `&`; words hold only letters and digits, so tsquery syntax in the
   * user's text is never interpreted.
   */
  fullTextMatch(table: TableDef, words: readonly string[]): RawBuilder<boolean> {
    const query = words.map((word) => `${word}:*`).join(' & ')
    // The very expression of the index (`c1 || ' ' || c2 …`), or the planner cannot use it.
    const text = sql.join(
      (table.fullTextSearch ?? []).map((column: string) => sql.ref(`${table.name}.${column}`)),
      sql` || ' ' || `,
    )
    return sql<boolean>`to_tsvector('simple', regexp_replace(${text}, '[^[:alnum:]]+', ' ', 'g')) @@ to_tsquery('simple', ${query})`
  }

  /** `translate` folds A–Z only, as SQLite's `lower()` does (PostgreSQL's `lower()` folds more). */
  tagListMatch(column: string, tag: string): RawBuilder<boolean> {
    return sql<boolean>`strpos(',' || translate(${sql.ref(column)}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') || ',', ${`,${tag},`}) > 0`
  }

  async hasTable(name: string): Promise<boolean> {
    const result = await sql<{ exists: boolean }>`select to_regclass(${name}) is not null as exists`.execute(
      this.kysely,
    )
    return result.rows[0]?.exists === true
  }

  async columnNames(table: string): Promise<string[]> {
    const { rows } = await sql<{ name: string }>`select column_name as name from information_schema.columns
      where table_schema = current_schema() and table_name = ${table} order by ordinal_position`.execute(
      this.kysely,
    )
    return rows.map((row) => row.name)
  }

  introspect(): Promise<SchemaSnapshot> {
    return introspectPostgres(this.kysely)
  }

  /**
   * A session-level advisory lock on a dedicated connection: the server releases it when that
   * connection ends, so a runner killed with SIGKILL can never leave it stale.
   */
  async acquireMigrationLock(_holder: string, timeoutMs: number): Promise<MigrationLock> {
    const client = new pg.Client({ connectionString: this.#direct('Migrations') })
    // The lock's connection is held across the whole run: a server that goes away meanwhile
    // must fail the run, not the process (an 'error' without a listener is thrown).
    client.on('error', () => {})
    await client.connect()
    const deadline = Date.now() + timeoutMs
    try {
      for (;;) {
        const result = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [
          MIGRATION_LOCK_KEY,
        ])
        if (result.rows[0]?.locked) break
        if (Date.now() > deadline) {
          throw new MigrationError(
            `Another migration runner holds the migration lock; gave up after ${timeoutMs} ms.`,
          )
        }
        await sleep(POLL_MS)
      }
    } catch (error) {
      await client.end()
      throw error
    }
    return {
      async release() {
        try {
          await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY])
        } finally {
          await client.end()
        }
      },
    }
  }

  async createScratch(): Promise<AuraDialect> {
    const direct = this.#direct('Scratch schemas')
    const schema = `aura_scratch_${randomBytes(8).toString('hex')}`
    await sql`create schema ${sql.id(schema)}`.execute(this.kysely)
    return new PostgresAuraDialect({
      target: { connectionString: direct, pooler: false, directConnectionString: direct },
      max: 2,
      scratchSchema: schema,
    })
  }

  metrics(): DatabaseMetrics {
    return {
      dialect: 'postgres',
      connections: this.driver.connectionMetrics(),
      statements: this.#statements.snapshot(),
      ...(this.#router ? { replicas: this.#router.metrics() } : {}),
    }
  }

  checkIntegrity(): Promise<readonly IntegrityCheckResult[]> {
    return checkPostgresIntegrity(this.kysely)
  }

  backups(): DialectBackup {
    return new PostgresBackup({ connectionString: this.#direct('Backups and restores') })
  }

  async migrationTransaction<T>(work: (trx: Kysely<any>) => Promise<T>): Promise<T> {
    try {
      return await this.kysely.transaction().execute(work)
    } finally {
      this.driver.schemaChanged()
      this.#router?.schemaChanged()
    }
  }

  async close(): Promise<void> {
    try {
      if (this.#options.scratchSchema) {
        await sql`drop schema if exists ${sql.id(this.#options.scratchSchema)} cascade`.execute(this.kysely)
      }
    } finally {
      for (const pool of [this.#pool, ...this.#replicaPools]) if (!pool.ended) await pool.end()
    }
  }
}
