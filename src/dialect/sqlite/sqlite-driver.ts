import type { Database, Statement } from 'better-sqlite3'
import {
  CompiledQuery,
  Kysely,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
} from 'kysely'
import { kyselyOn, type AuraDriver, type AuraTransaction, type KyselyCompiler } from '../driver.js'
import type { QueryObserver } from '../query-log.js'
import { SqliteFileIdentity } from './sqlite-file-identity.js'

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

/** The compiling parts of Kysely's SQLite dialect. */
const sqliteCompiler: KyselyCompiler = {
  createAdapter: () => new SqliteAdapter(),
  createQueryCompiler: () => new SqliteQueryCompiler(),
  createIntrospector: (db) => new SqliteIntrospector(db),
}

/**
 * The driver of one better-sqlite3 handle: Aura Data's execution seam ({@link AuraDriver}), and
 * Kysely's public `Driver` for {@link kysely}, the full Kysely instance of migrations and tools.
 * Both sides take the same handle lock, so a transaction of one side holds off the other.
 *
 * It differs from Kysely's own SqliteDriver in the ways that matter:
 * 1. Transactions start with `BEGIN IMMEDIATE`. A plain `BEGIN` is deferred: it takes the write
 *    lock only at the first write, and if another connection wrote meanwhile the upgrade fails
 *    with SQLITE_BUSY immediately, without waiting for the busy timeout. IMMEDIATE waits.
 * 2. Prepared statements are cached by SQL text. Preparing is most of the cost of a point query
 *    on SQLite; the repositories reuse the same SQL shapes over and over.
 * 3. better-sqlite3 is synchronous, and the seam side runs a statement at once when nothing has
 *    to be waited for: Kysely's executor (connection provider, runtime driver, about ten
 *    promises) costs more than the point query it runs. The synchronous calls stay in here;
 *    callers see promises.
 */
export class SqliteAuraDriver implements Driver, AuraDriver {
  readonly #db: Database
  readonly #statements: SqliteStatements
  readonly #handleLock = new AsyncMutex()
  readonly #fileLock: AsyncMutex | null
  readonly #timeoutMs: number
  /** The releasers of the handle and file lock that the Kysely side holds. */
  #releaseHandle: (() => void) | undefined
  #releaseFile: (() => void) | undefined
  /** A plain Kysely over this driver, for builder queries outside transactions and for migrations. */
  readonly kysely: Kysely<any>
  /** The file the handle opened; null in memory. Checked by every write transaction. */
  readonly #file: SqliteFileIdentity | null

  constructor(db: Database, timeoutMs: number, observer?: QueryObserver) {
    this.#db = db
    this.#statements = new SqliteStatements(db, observer)
    this.#timeoutMs = timeoutMs
    this.#file = db.memory ? null : new SqliteFileIdentity(db.name)
    if (db.memory) this.#fileLock = null
    else {
      let lock = fileWriteLocks.get(db.name)
      if (!lock) fileWriteLocks.set(db.name, (lock = new AsyncMutex()))
      this.#fileLock = lock
    }
    this.kysely = new Kysely<any>({ dialect: { ...sqliteCompiler, createDriver: () => this } })
  }

  // ---- Aura Data's seam ------------------------------------------------------------------

  /**
   * Runs a statement outside any transaction: at once when the handle is free (no transaction
   * of this handle is open, nothing is queued for it), else after the transaction that holds it.
   */
  execute<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.#handleLock.held) return this.#executeQueued(query)
    try {
      return Promise.resolve(this.#statements.run<R>(query))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  async #executeQueued<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const release = await this.#handleLock.lock(this.#timeoutMs)
    try {
      return this.#statements.run<R>(query)
    } finally {
      release()
    }
  }

  /**
   * Takes the handle, then this process's write lock of the file, then BEGIN IMMEDIATE: at once
   * when neither lock is taken, else in arrival order (each wait bounded by the busy timeout).
   */
  begin(): Promise<AuraTransaction> {
    if (!this.#handleLock.held && !this.#fileLock?.held) {
      try {
        return Promise.resolve(this.#beginHolding(this.#handleLock.tryLock()!, this.#fileLock?.tryLock()))
      } catch (error) {
        return Promise.reject(error)
      }
    }
    return this.#beginQueued()
  }

  async #beginQueued(): Promise<AuraTransaction> {
    const releaseHandle = await this.#handleLock.lock(this.#timeoutMs)
    let releaseFile: (() => void) | undefined
    try {
      releaseFile = await this.#fileLock?.lock(this.#timeoutMs)
    } catch (error) {
      releaseHandle()
      throw error
    }
    return this.#beginHolding(releaseHandle, releaseFile)
  }

  #beginHolding(releaseHandle: () => void, releaseFile: (() => void) | undefined): AuraTransaction {
    try {
      this.#statements.run(BEGIN)
      this.#assertFileUnchanged()
    } catch (error) {
      releaseFile?.()
      releaseHandle()
      throw error
    }
    return new SqliteTransaction(this.#db, this.#statements, releaseHandle, releaseFile, this.#file)
  }

  /** Ends the transaction just begun when the file was deleted or replaced under the handle. */
  #assertFileUnchanged(): void {
    try {
      this.#file?.assertUnchanged()
    } catch (error) {
      this.#statements.run(ROLLBACK)
      throw error
    }
  }

  // ---- Kysely's Driver, for `kysely` ------------------------------------------------------

  async init(): Promise<void> {}

  /** One handle, so one user at a time: a transaction keeps it until commit or rollback. */
  async acquireConnection(): Promise<DatabaseConnection> {
    this.#releaseHandle = await this.#handleLock.lock(this.#timeoutMs)
    return this.#statements
  }

  async releaseConnection(): Promise<void> {
    const release = this.#releaseHandle
    this.#releaseHandle = undefined
    release?.()
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    const releaseFile = await this.#fileLock?.lock(this.#timeoutMs)
    try {
      await connection.executeQuery(BEGIN)
      this.#assertFileUnchanged()
    } catch (error) {
      releaseFile?.()
      throw error
    }
    this.#releaseFile = releaseFile
  }

  async commitTransaction(): Promise<void> {
    try {
      this.#file?.assertUnchanged()
      this.#statements.run(COMMIT)
    } finally {
      // A failed COMMIT leaves the transaction open only when SQLite wants it retried; the
      // caller then rolls back, which releases the file lock below.
      if (!this.#db.inTransaction) this.#releaseFileLock()
    }
  }

  async rollbackTransaction(): Promise<void> {
    try {
      // A failed COMMIT (or SQLITE_FULL, SQLITE_IOERR) may already have rolled back.
      if (this.#db.inTransaction) this.#statements.run(ROLLBACK)
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
    if (this.#db.open) this.#db.close()
  }
}

/** A transaction of the seam: it holds the handle (and the file's write lock) until it ends. */
class SqliteTransaction implements AuraTransaction {
  readonly #db: Database
  readonly #statements: SqliteStatements
  #releaseHandle: (() => void) | undefined
  #releaseFile: (() => void) | undefined
  #kysely: Kysely<any> | undefined

  readonly #file: SqliteFileIdentity | null

  constructor(
    db: Database,
    statements: SqliteStatements,
    releaseHandle: () => void,
    releaseFile: (() => void) | undefined,
    file: SqliteFileIdentity | null,
  ) {
    this.#db = db
    this.#statements = statements
    this.#releaseHandle = releaseHandle
    this.#releaseFile = releaseFile
    this.#file = file
  }

  /** Runs at once: the transaction holds the handle, there is nothing to wait for. */
  execute<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (!this.#releaseHandle) return Promise.reject(new Error('The transaction has already ended'))
    try {
      return Promise.resolve(this.#statements.run<R>(query))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  get kysely(): Kysely<any> {
    return (this.#kysely ??= kyselyOn(sqliteCompiler, this))
  }

  /** Runs at once: a statement is a function call here, there is no round trip to share. */
  async defer(query: CompiledQuery): Promise<void> {
    await this.execute(query)
  }

  async commit(): Promise<void> {
    if (!this.#releaseHandle) throw new Error('The transaction has already ended')
    try {
      // Checked again at COMMIT: the file may have gone while the transaction ran.
      this.#file?.assertUnchanged()
      this.#statements.run(COMMIT)
    } catch (error) {
      // A failed COMMIT leaves the transaction open only when SQLite wants it retried: then
      // the caller rolls back, which ends it. Otherwise SQLite already rolled back.
      if (!this.#db.inTransaction) this.#end()
      throw error
    }
    this.#end()
  }

  async rollback(): Promise<void> {
    if (!this.#releaseHandle) return
    try {
      // A failed COMMIT (or SQLITE_FULL, SQLITE_IOERR) may already have rolled back.
      if (this.#db.inTransaction) this.#statements.run(ROLLBACK)
    } finally {
      this.#end()
    }
  }

  /** Lets go of the file's write lock, then of the handle (the next user may be queued on either). */
  #end(): void {
    const releaseFile = this.#releaseFile
    const releaseHandle = this.#releaseHandle
    this.#releaseFile = undefined
    this.#releaseHandle = undefined
    releaseFile?.()
    releaseHandle?.()
  }
}

/** Bounded so that ad-hoc query shapes cannot grow memory without limit. */
const STATEMENT_CACHE_SIZE = 500

/** The statements of one handle, prepared once per SQL text; also the Kysely side's connection. */
class SqliteStatements implements DatabaseConnection {
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
    return this.run<R>(compiledQuery)
  }

  /**
   * better-sqlite3 is synchronous: the whole statement runs here. Every path (the driver's
   * statements, transaction control, the Kysely side's) ends here, so this is where the query
   * log times statements.
   */
  run<R>(compiledQuery: CompiledQuery): QueryResult<R> {
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
