import { performance } from 'node:perf_hooks'
import type { StatementMetrics } from './statement-metrics.js'
import type {
  CompiledQuery,
  DatabaseConnection,
  Dialect,
  Driver,
  QueryCompiler,
  QueryResult,
  TransactionSettings,
} from 'kysely'

type CompileQuery = QueryCompiler['compileQuery']

/** One statement as {@link QueryLogOptions.log} receives it. */
export interface QueryLogEvent {
  readonly dialect: 'sqlite' | 'postgres'
  /** The SQL text, with placeholders (`?`, `$1`) where the values go. */
  readonly sql: string
  /** Wall time of the statement on the driver, in milliseconds (fractional). */
  readonly durationMs: number
  /** Rows returned, or rows changed by a write. */
  readonly rows: number
  /** The bound values: only with `logParameters: true` (they may hold user data and secrets). */
  readonly parameters?: readonly unknown[]
  /** The statement failed; its error is thrown to the caller as usual. */
  readonly failed: boolean
  /** At or above `slowQueryMs`. */
  readonly slow: boolean
}

/** The query-log options of `openDatabase`. */
export interface QueryLogOptions {
  /**
   * Receives statements: every one when `slowQueryMs` is not set, else only the slow ones. Must
   * not throw or block: it runs inline, after each statement.
   */
  readonly log?: (event: QueryLogEvent) => void
  /**
   * Log statements that take at least this many milliseconds (0: every statement, with its
   * duration). Without `log` they are written to stderr, one line each.
   */
  readonly slowQueryMs?: number
  /** Include the bound values in the events. Off by default: parameters are redacted. */
  readonly logParameters?: boolean
}

/** Times statements and reports them per {@link QueryLogOptions}. */
export class QueryObserver {
  readonly #dialect: 'sqlite' | 'postgres'
  /** Undefined when only the metrics are kept. */
  readonly #log: ((event: QueryLogEvent) => void) | undefined
  readonly #slowQueryMs: number | undefined
  readonly #parameters: boolean
  readonly #metrics: StatementMetrics | undefined

  private constructor(
    dialect: 'sqlite' | 'postgres',
    options: QueryLogOptions,
    metrics: StatementMetrics | undefined,
  ) {
    this.#dialect = dialect
    const logging = options.log !== undefined || options.slowQueryMs !== undefined
    this.#log = logging ? (options.log ?? writeSlowQuery) : undefined
    this.#slowQueryMs = options.slowQueryMs
    this.#parameters = options.logParameters ?? false
    this.#metrics = metrics
  }

  /**
   * An observer when the options ask for any logging or `metrics` is given, else undefined (no
   * timing at all).
   */
  static create(
    dialect: 'sqlite' | 'postgres',
    options: QueryLogOptions,
    metrics?: StatementMetrics,
  ): QueryObserver | undefined {
    return options.log === undefined && options.slowQueryMs === undefined && metrics === undefined
      ? undefined
      : new QueryObserver(dialect, options, metrics)
  }

  /** Runs a synchronous statement (better-sqlite3) and reports it. */
  observeSync<R>(query: CompiledQuery, run: () => QueryResult<R>): QueryResult<R> {
    const started = performance.now()
    let result: QueryResult<R> | undefined
    try {
      result = run()
      return result
    } finally {
      this.#report(query, started, result)
    }
  }

  /** Runs an asynchronous statement (pg) and reports it. */
  async observe<R>(query: CompiledQuery, run: () => Promise<QueryResult<R>>): Promise<QueryResult<R>> {
    const started = performance.now()
    let result: QueryResult<R> | undefined
    try {
      result = await run()
      return result
    } finally {
      this.#report(query, started, result)
    }
  }

  #report(query: CompiledQuery, started: number, result: QueryResult<unknown> | undefined): void {
    const durationMs = performance.now() - started
    this.#metrics?.record(query.sql, durationMs, result === undefined)
    if (!this.#log) return
    const slow = this.#slowQueryMs !== undefined && durationMs >= this.#slowQueryMs
    if (this.#slowQueryMs !== undefined && !slow) return
    const rows = result === undefined ? 0 : Number(result.numAffectedRows ?? result.rows.length)
    this.#log({
      dialect: this.#dialect,
      sql: query.sql,
      durationMs,
      rows,
      ...(this.#parameters ? { parameters: query.parameters } : {}),
      failed: result === undefined,
      slow,
    })
  }
}

/** The default sink of slow statements: one line on stderr, values never included. */
function writeSlowQuery(event: QueryLogEvent): void {
  const sql = event.sql.replace(/\s+/g, ' ').trim()
  process.stderr.write(
    `aura-data: ${event.slow ? 'slow ' : ''}query ${event.durationMs.toFixed(1)} ms, ${event.rows} row(s)${event.failed ? ', failed' : ''}: ${sql}\n`,
  )
}

/**
 * Wraps a Kysely dialect so that every statement its connections run (transaction control
 * included, since the driver runs BEGIN/COMMIT through the connection) goes through `observer`.
 * The wrapped connections are handed back to the inner driver's release, which expects its own.
 */
export function observeDialect(inner: Dialect, observer: QueryObserver): Dialect {
  return {
    createAdapter: () => inner.createAdapter(),
    createQueryCompiler: () => inner.createQueryCompiler(),
    createIntrospector: (db) => inner.createIntrospector(db),
    createDriver: () => new ObservedDriver(inner.createDriver(), observer),
  }
}

class ObservedDriver implements Driver {
  readonly #inner: Driver
  readonly #observer: QueryObserver
  readonly #originals = new WeakMap<DatabaseConnection, DatabaseConnection>()

  constructor(inner: Driver, observer: QueryObserver) {
    this.#inner = inner
    this.#observer = observer
  }

  init(): Promise<void> {
    return this.#inner.init()
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.#inner.acquireConnection()
    const observer = this.#observer
    const observed: DatabaseConnection = {
      executeQuery: (query) => observer.observe(query, () => connection.executeQuery(query)),
      streamQuery: (query, chunkSize) => connection.streamQuery(query, chunkSize),
    }
    this.#originals.set(observed, connection)
    return observed
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.#inner.beginTransaction(connection, settings)
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.commitTransaction(connection)
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.rollbackTransaction(connection)
  }

  savepoint(connection: DatabaseConnection, name: string, compile: CompileQuery): Promise<void> {
    return this.#inner.savepoint!(connection, name, compile)
  }

  rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: CompileQuery): Promise<void> {
    return this.#inner.rollbackToSavepoint!(connection, name, compile)
  }

  releaseSavepoint(connection: DatabaseConnection, name: string, compile: CompileQuery): Promise<void> {
    return this.#inner.releaseSavepoint!(connection, name, compile)
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection(this.#originals.get(connection) ?? connection)
  }

  destroy(): Promise<void> {
    return this.#inner.destroy()
  }
}
