import type { Database, Statement } from 'better-sqlite3'
import {
  Command,
  CompiledQuery,
  ControlledTransaction,
  Kysely,
  SingleConnectionProvider,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type Compilable,
  type ConnectionProvider,
  type ControlledTransactionBuilder,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type KyselyConfig,
  type QueryId,
  type QueryResult,
} from 'kysely'
import type { QueryObserver } from '../query-log.js'

/**
 * An async mutex whose waiters give up after `timeoutMs` with an error carrying SQLite's own
 * `SQLITE_BUSY` code, so it maps to BusyError like a busy database does. Waiters are served in
 * arrival order. Taking a free lock starts no timer: that is every read outside a transaction,
 * so the uncontended path must cost next to nothing.
 */
class AsyncMutex {
  #held = false
  readonly #waiters: (() => void)[] = []

  /** Whether someone holds the lock (a transaction of this handle, or a query running through Kysely). */
  get held(): boolean {
    return this.#held
  }

  /** Takes the lock if it is free; returns its releaser, or undefined when someone holds it. */
  tryLock(): (() => void) | undefined {
    if (this.#held) return undefined
    this.#held = true
    return this.#releaser()
  }

  async lock(timeoutMs: number): Promise<() => void> {
    const free = this.tryLock()
    if (free) return free
    return new Promise((resolve, reject) => {
      const grant = () => {
        clearTimeout(timer)
        resolve(this.#releaser())
      }
      const timer = setTimeout(() => {
        const at = this.#waiters.indexOf(grant)
        if (at >= 0) this.#waiters.splice(at, 1)
        reject(
          Object.assign(new Error('Timed out waiting for another unit of work of this process'), {
            code: 'SQLITE_BUSY',
          }),
        )
      }, timeoutMs)
      this.#waiters.push(grant)
    })
  }

  /** Releases once: hands the lock straight to the next waiter, or frees it. */
  #releaser(): () => void {
    let released = false
    return () => {
      if (released) return
      released = true
      const next = this.#waiters.shift()
      if (next) next()
      else this.#held = false
    }
  }
}

/**
 * Write locks of this process, one per database file. better-sqlite3 is synchronous: a second
 * handle of the same process that hits the file's write lock spins in SQLite's busy handler and
 * blocks the event loop, so the holder can never finish. Writers of one process therefore queue
 * here, asynchronously, before BEGIN IMMEDIATE; other processes still meet the file lock.
 */
const fileWriteLocks = new Map<string, AsyncMutex>()

const BEGIN = CompiledQuery.raw('begin immediate')
const COMMIT = CompiledQuery.raw('commit')
const ROLLBACK = CompiledQuery.raw('rollback')

/**
 * Kysely driver over one better-sqlite3 handle.
 *
 * It differs from Kysely's own SqliteDriver in two ways that matter:
 * 1. Transactions start with `BEGIN IMMEDIATE`. A plain `BEGIN` is deferred: it takes the write
 *    lock only at the first write, and if another connection wrote meanwhile the upgrade fails
 *    with SQLITE_BUSY immediately, without waiting for the busy timeout. IMMEDIATE waits.
 * 2. Prepared statements are cached by SQL text. Preparing is most of the cost of a point query
 *    on SQLite; the repositories reuse the same SQL shapes over and over.
 */
export class SqliteAuraDriver implements Driver {
  readonly #db: Database
  readonly #connection: SqliteAuraConnection
  readonly #handleLock = new AsyncMutex()
  readonly #fileLock: AsyncMutex | null
  readonly #timeoutMs: number
  #releaseHandle: (() => void) | undefined
  #releaseFile: (() => void) | undefined

  constructor(db: Database, timeoutMs: number, observer?: QueryObserver) {
    this.#db = db
    this.#connection = new SqliteAuraConnection(db, observer)
    this.#timeoutMs = timeoutMs
    if (db.memory) this.#fileLock = null
    else {
      let lock = fileWriteLocks.get(db.name)
      if (!lock) fileWriteLocks.set(db.name, (lock = new AsyncMutex()))
      this.#fileLock = lock
    }
  }

  #destroyed = false

  async init(): Promise<void> {}

  /**
   * Runs a query at once, synchronously, when the handle is free: no transaction of this handle
   * is open and no query is queued for it. That is exactly the moment when acquiring the handle
   * through Kysely would succeed without waiting, so the result is the same, minus the promise
   * layers. Returns undefined when the caller must take the normal, queued path.
   */
  tryExecuteNow<R>(query: CompiledQuery): QueryResult<R> | undefined {
    if (this.#destroyed || this.#handleLock.held || !this.#db.open) return undefined
    return this.#connection.executeSync<R>(query)
  }

  /**
   * Runs a query of the open transaction at once, synchronously, on the one connection. Only a
   * transaction of this handle may call it (it holds the handle): its queries need none of the
   * connection hand-over that Kysely's executor performs for each statement.
   */
  executeInTransaction<R>(query: CompiledQuery): QueryResult<R> {
    return this.#connection.executeSync<R>(query)
  }

  /** One handle, so one user at a time: a transaction keeps it until commit or rollback. */
  async acquireConnection(): Promise<DatabaseConnection> {
    this.#releaseHandle = await this.#handleLock.lock(this.#timeoutMs)
    return this.#connection
  }

  async releaseConnection(): Promise<void> {
    this.releaseNow()
  }

  /** {@link releaseConnection}, synchronously. */
  releaseNow(): void {
    const release = this.#releaseHandle
    this.#releaseHandle = undefined
    release?.()
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    const releaseFile = await this.#fileLock?.lock(this.#timeoutMs)
    try {
      await connection.executeQuery(BEGIN)
    } catch (error) {
      releaseFile?.()
      throw error
    }
    this.#releaseFile = releaseFile
  }

  /**
   * Acquires the handle and starts a transaction at once, synchronously, when neither the handle
   * nor this process's write lock of the file is taken: then {@link acquireConnection} and
   * {@link beginTransaction} would not wait either. Returns the connection, held until
   * {@link releaseNow}, or undefined when the caller must take the queued path.
   */
  tryBeginNow(): DatabaseConnection | undefined {
    if (this.#destroyed || !this.#db.open || this.#handleLock.held || this.#fileLock?.held) return undefined
    const releaseHandle = this.#handleLock.tryLock()!
    const releaseFile = this.#fileLock?.tryLock()
    try {
      this.#connection.executeSync(BEGIN)
    } catch (error) {
      releaseFile?.()
      releaseHandle()
      throw error
    }
    this.#releaseHandle = releaseHandle
    this.#releaseFile = releaseFile
    return this.#connection
  }

  async commitTransaction(): Promise<void> {
    this.commitNow()
  }

  /** COMMIT, synchronously (the connection is the one of this handle). */
  commitNow(): void {
    try {
      this.#connection.executeSync(COMMIT)
    } finally {
      // A failed COMMIT leaves the transaction open only when SQLite wants it retried; the
      // caller then rolls back, which releases the file lock below.
      if (!this.#db.inTransaction) this.#releaseFileLock()
    }
  }

  async rollbackTransaction(): Promise<void> {
    this.rollbackNow()
  }

  /** ROLLBACK, synchronously, unless SQLite already rolled back. */
  rollbackNow(): void {
    try {
      // A failed COMMIT (or SQLITE_FULL, SQLITE_IOERR) may already have rolled back.
      if (this.#db.inTransaction) this.#connection.executeSync(ROLLBACK)
    } finally {
      this.#releaseFileLock()
    }
  }

  #releaseFileLock(): void {
    const release = this.#releaseFile
    this.#releaseFile = undefined
    release?.()
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`savepoint "${name}"`))
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`rollback to "${name}"`))
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release "${name}"`))
  }

  async destroy(): Promise<void> {
    this.#destroyed = true
    if (this.#db.open) this.#db.close()
  }
}

/** Bounded so that ad-hoc query shapes cannot grow memory without limit. */
const STATEMENT_CACHE_SIZE = 500

class SqliteAuraConnection implements DatabaseConnection {
  readonly #db: Database
  readonly #statements = new Map<string, Statement>()
  readonly #observer: QueryObserver | undefined

  constructor(db: Database, observer?: QueryObserver) {
    this.#db = db
    this.#observer = observer
  }

  #prepare(sql: string): Statement {
    let stmt = this.#statements.get(sql)
    if (stmt) return stmt
    stmt = this.#db.prepare(sql)
    if (this.#statements.size >= STATEMENT_CACHE_SIZE) {
      const oldest = this.#statements.keys().next().value
      if (oldest !== undefined) this.#statements.delete(oldest)
    }
    this.#statements.set(sql, stmt)
    return stmt
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    return this.executeSync<R>(compiledQuery)
  }

  /**
   * better-sqlite3 is synchronous: the whole query runs here. Every path (Kysely's executor, the
   * direct ones, transaction control) ends here, so this is where the query log times statements.
   */
  executeSync<R>(compiledQuery: CompiledQuery): QueryResult<R> {
    return this.#observer
      ? this.#observer.observeSync(compiledQuery, () => this.#run<R>(compiledQuery))
      : this.#run<R>(compiledQuery)
  }

  #run<R>(compiledQuery: CompiledQuery): QueryResult<R> {
    const stmt = this.#prepare(compiledQuery.sql)
    const parameters = compiledQuery.parameters as unknown[]
    if (stmt.reader) return { rows: stmt.all(parameters) as R[] }
    const { changes, lastInsertRowid } = stmt.run(parameters)
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] }
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('Streaming is not used by Aura Data on SQLite')
  }
}

/** Kysely dialect that plugs {@link SqliteAuraDriver} in beside Kysely's own SQLite compiler. */
export class SqliteAuraKyselyDialect implements Dialect {
  /** The driver Kysely created from this dialect (Kysely creates exactly one, in its constructor). */
  driver: SqliteAuraDriver | undefined

  constructor(
    readonly db: Database,
    readonly timeoutMs: number,
    readonly observer?: QueryObserver,
  ) {}
  createDriver(): Driver {
    this.driver = new SqliteAuraDriver(this.db, this.timeoutMs, this.observer)
    return this.driver
  }
  createQueryCompiler() {
    return new SqliteQueryCompiler()
  }
  createAdapter() {
    return new SqliteAdapter()
  }
  createIntrospector(db: Kysely<any>) {
    return new SqliteIntrospector(db)
  }
}

/**
 * The Kysely instance of a SQLite database. A compiled query executed on it outside any
 * transaction skips Kysely's executor (connection provider, runtime driver, result plugins:
 * about ten promises) when the handle is free, and runs synchronously on the driver; otherwise
 * it takes Kysely's normal path and waits for the handle. Transactions are Kysely's own.
 *
 * @example
 * const kysely = new SqliteAuraKysely(handle, 5_000)
 * const { rows } = await kysely.executeQuery(CompiledQuery.raw('select 1 as one'))
 */
export class SqliteAuraKysely extends Kysely<any> {
  readonly #driver: SqliteAuraDriver
  /** The transactions {@link startTransaction} handed out: they hold the handle until they end. */
  readonly #transactions = new WeakSet<Kysely<any>>()

  readonly #config: KyselyConfig
  readonly #dialect: SqliteAuraKyselyDialect

  /** `observer`: the query log (see query-log.ts), when one was asked for. */
  constructor(db: Database, timeoutMs: number, observer?: QueryObserver) {
    const dialect = new SqliteAuraKyselyDialect(db, timeoutMs, observer)
    const config = { dialect }
    super(config)
    this.#config = config
    this.#dialect = dialect
    this.#driver = dialect.driver!
  }

  /**
   * Kysely's controlled transaction, whose compiled queries run directly on the handle it holds
   * (see {@link SqliteAuraDriver.executeInTransaction}) instead of through Kysely's executor:
   * a unit of work runs dozens of statements, and each one would otherwise cost about ten
   * promises for a query that better-sqlite3 runs synchronously. Builder queries keep Kysely's
   * path. Only `execute()` of the returned builder has the direct path; the unit of work sets no
   * isolation level.
   *
   * When nothing has to be waited for, the transaction also begins, commits and rolls back
   * directly (see {@link directTransaction}).
   */
  override startTransaction(): ControlledTransactionBuilder<any> {
    const builder = super.startTransaction()
    const start = builder.execute.bind(builder)
    const driver = this.#driver
    builder.execute = async () => {
      const connection = driver.tryBeginNow()
      const trx = connection ? this.directTransaction(connection) : await start()
      const viaKysely = trx.executeQuery.bind(trx)
      trx.executeQuery = (<R>(query: CompiledQuery<R> | Compilable<R>, queryId?: QueryId) => {
        if (!('sql' in query) || trx.isCommitted || trx.isRolledBack) return viaKysely(query, queryId)
        try {
          return Promise.resolve(driver.executeInTransaction<R>(query))
        } catch (error) {
          return Promise.reject(error)
        }
      }) as typeof trx.executeQuery
      this.#transactions.add(trx)
      return trx
    }
    return builder
  }

  /**
   * Kysely's controlled transaction over a connection {@link SqliteAuraDriver.tryBeginNow} has
   * already taken and begun. Kysely's own start, commit and rollback hand the connection over
   * through deferred promises and a per-transaction mutex: about 10 µs per transaction, twice
   * a raw BEGIN IMMEDIATE + COMMIT. Here the transaction state object is this method's, so
   * commit and rollback run synchronously on the driver and set it themselves; Kysely's
   * executor reads the same state, so statements after the end are refused as usual. While a
   * builder query of the transaction is still running, commit and rollback take Kysely's own
   * path, which waits for it. (Kysely's aborted-transaction handling concerns PostgreSQL only.)
   *
   * The ControlledTransaction constructor's properties are Kysely internals, not its public API:
   * package.json pins Kysely to the exact version this was written and tested against, and a
   * Kysely upgrade must re-run the suite (every SQLite transaction goes through here).
   */
  private directTransaction(connection: DatabaseConnection): ControlledTransaction<any> {
    const driver = this.#driver
    const state: { status: 'active' | 'committed' | 'rolled back' | 'aborted' } = { status: 'active' }
    const single = new SingleConnectionProvider(connection)
    let running = 0
    const provider: ConnectionProvider = {
      async provideConnection(consumer) {
        running++
        try {
          return await single.provideConnection(consumer)
        } finally {
          running--
        }
      },
    }
    const release = () => driver.releaseNow()
    const trx = new ControlledTransaction<any>({
      config: this.#config,
      dialect: this.#dialect,
      driver,
      executor: this.getExecutor().withConnectionProvider(provider),
      connection: { connection, release },
      transactionState: state,
    })
    const commitViaKysely = trx.commit.bind(trx)
    const rollbackViaKysely = trx.rollback.bind(trx)
    trx.commit = () =>
      new Command(async () => {
        if (state.status !== 'active' || running > 0) return commitViaKysely().execute()
        // A failed COMMIT keeps the connection, as on Kysely's path: the caller rolls back.
        driver.commitNow()
        state.status = 'committed'
        release()
      })
    trx.rollback = () =>
      new Command(async () => {
        if (state.status !== 'active' || running > 0) return rollbackViaKysely().execute()
        try {
          driver.rollbackNow()
        } finally {
          state.status = 'rolled back'
          release()
        }
      })
    return trx
  }

  /**
   * Runs a compiled query synchronously when that is what Kysely would do anyway, minus its
   * promises: on a still-open transaction of this instance (it holds the handle), or on this
   * instance while the handle is free. Returns undefined when the caller must take Kysely's path.
   */
  executeNow<R>(db: Kysely<any>, query: CompiledQuery): QueryResult<R> | undefined {
    if (db === this) return this.#driver.tryExecuteNow<R>(query)
    if (!this.#transactions.has(db)) return undefined
    const trx = db as ControlledTransaction<any>
    if (trx.isCommitted || trx.isRolledBack) return undefined
    return this.#driver.executeInTransaction<R>(query)
  }

  override async executeQuery<R>(
    query: CompiledQuery<R> | Compilable<R>,
    queryId?: QueryId,
  ): Promise<QueryResult<R>> {
    if ('sql' in query) {
      const result = this.#driver.tryExecuteNow<R>(query)
      if (result) return result
    }
    return super.executeQuery(query, queryId)
  }
}
