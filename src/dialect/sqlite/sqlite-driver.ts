import type { Database, Statement } from 'better-sqlite3'
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
} from 'kysely'

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
  #locked: Promise<void> | undefined
  #unlock: (() => void) | undefined

  constructor(db: Database) {
    this.#db = db
    this.#connection = new SqliteAuraConnection(db)
  }

  async init(): Promise<void> {}

  /** One handle, so one user at a time: a transaction keeps it until commit or rollback. */
  async acquireConnection(): Promise<DatabaseConnection> {
    while (this.#locked) await this.#locked
    this.#locked = new Promise((resolve) => (this.#unlock = resolve))
    return this.#connection
  }

  async releaseConnection(): Promise<void> {
    const unlock = this.#unlock
    this.#locked = undefined
    this.#unlock = undefined
    unlock?.()
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'))
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'))
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    // A failed COMMIT (or SQLITE_FULL, SQLITE_IOERR) may already have rolled back.
    if (this.#db.inTransaction) await connection.executeQuery(CompiledQuery.raw('rollback'))
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

/** Bounded so that ad-hoc query shapes cannot grow memory without limit. */
const STATEMENT_CACHE_SIZE = 500

class SqliteAuraConnection implements DatabaseConnection {
  readonly #db: Database
  readonly #statements = new Map<string, Statement>()

  constructor(db: Database) {
    this.#db = db
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
  constructor(readonly db: Database) {}
  createDriver(): Driver {
    return new SqliteAuraDriver(this.db)
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
