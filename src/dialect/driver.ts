import {
  CompiledQuery,
  Kysely,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
} from 'kysely'
import type { AuraDataError } from '../errors.js'

/** A row as the driver returns it: snake_case columns, driver values. */
export type DriverRow = Record<string, unknown>

/**
 * Where Aura Data runs its compiled statements: the database (each statement on its own) or one
 * open transaction. Kysely only compiles them; executing is this seam's, per dialect in
 * `src/dialect/<name>/<name>-driver.ts`.
 */
export interface AuraConnection {
  /** Runs one compiled statement: its rows, and for a write the number of rows it affected. */
  execute<R = DriverRow>(query: CompiledQuery): Promise<QueryResult<R>>
}

/** An open transaction of an {@link AuraDriver}: every statement on one connection, until commit or rollback. */
export interface AuraTransaction extends AuraConnection {
  /**
   * A Kysely whose builder queries (`.execute()`) run in this transaction, for code that builds
   * and runs a query in one go. Made on first use: most transactions never need it.
   */
  readonly kysely: Kysely<any>
  /**
   * Runs a write whose result nobody reads (an audit entry whose content depends on a row read
   * by the statement before), in this transaction, in order, but without a round trip of its
   * own: PostgreSQL sends it together with the transaction's next statement or its COMMIT
   * (pipelined), and a failure of it is the error of that statement or of the commit (which then
   * rolls back). SQLite runs it at once: a statement is a function call there.
   */
  defer(query: CompiledQuery): Promise<void>
  /**
   * Commits. When the database refuses (disk full, serialization failure, an earlier statement
   * failed), the error is thrown and the transaction must still be rolled back.
   */
  commit(): Promise<void>
  /** Rolls back, and lets go of the connection even when the rollback itself fails. */
  rollback(): Promise<void>
}

/** The execution side of a dialect: statements on the database, and transactions. */
export interface AuraDriver extends AuraConnection {
  /** Starts a transaction (SQLite: BEGIN IMMEDIATE, after this process's other writers). */
  begin(): Promise<AuraTransaction>
}

/** Driver errors as Aura Data's typed errors. */
export interface ErrorMapper {
  /**
   * Any error as an AuraDataError: a driver error mapped by its code (never by message), an
   * AuraDataError as it is, anything else a DatabaseError (`toAuraDataError` in src/errors.ts).
   */
  mapError(error: unknown): AuraDataError
  /** A transient failure that a whole transaction may simply be retried on (PostgreSQL 40001, 40P01). */
  isRetryable(error: unknown): boolean
}

/**
 * `begin`, `work`, then commit (by `commit`, when the caller commits its own way), or roll back
 * when `work` (or the commit) throws.
 */
export async function runInTransaction<T>(
  driver: Pick<AuraDriver, 'begin'>,
  work: (tx: AuraTransaction) => Promise<T>,
  commit: (tx: AuraTransaction) => Promise<void> = (tx) => tx.commit(),
): Promise<T> {
  const tx = await driver.begin()
  let result: T
  try {
    result = await work(tx)
    await commit(tx)
  } catch (error) {
    // As Kysely's own `transaction()`: a failed COMMIT is rolled back too, which releases the
    // connection (a COMMIT that SQLite refused leaves the transaction open).
    await tx.rollback()
    throw error
  }
  return result
}

/** The compiling parts of a Kysely dialect: adapter, query compiler, introspector. */
export type KyselyCompiler = Omit<Dialect, 'createDriver'>

/** The connections the Kyselys of {@link kyselyOn} run on. */
const connections = new WeakMap<Kysely<any>, AuraConnection>()

/**
 * A Kysely (the given dialect's compiler) whose every query runs on `connection`, through
 * Kysely's public `Driver` interface. Transactions are the connection's business: a
 * transaction started on this Kysely is refused.
 */
export function kyselyOn(compiler: KyselyCompiler, connection: AuraConnection): Kysely<any> {
  const adapter: DatabaseConnection = {
    executeQuery: (query) => connection.execute(query),
    // eslint-disable-next-line require-yield
    async *streamQuery() {
      throw new Error('Streaming is not used by Aura Data')
    },
  }
  const refuse = async () => {
    throw new Error('A transaction cannot be started inside an Aura Data transaction')
  }
  const driver: Driver = {
    async init() {},
    async acquireConnection() {
      return adapter
    },
    async releaseConnection() {},
    beginTransaction: refuse,
    commitTransaction: refuse,
    rollbackTransaction: refuse,
    async destroy() {},
  }
  const kysely = new Kysely<any>({
    dialect: {
      createDriver: () => driver,
      createAdapter: () => compiler.createAdapter(),
      createQueryCompiler: () => compiler.createQueryCompiler(),
      createIntrospector: (db) => compiler.createIntrospector(db),
    },
  })
  connections.set(kysely, connection)
  return kysely
}

/** A Kysely connection over the seam: its statements run in its open transaction, else on the driver. */
class SeamConnection implements DatabaseConnection {
  transaction: AuraTransaction | undefined

  constructor(readonly driver: AuraDriver) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return (this.transaction ?? this.driver).execute<R>(query)
  }

  // eslint-disable-next-line require-yield
  async *streamQuery(): AsyncIterableIterator<QueryResult<never>> {
    throw new Error('Streaming is not used by Aura Data')
  }
}

/**
 * A full Kysely (transactions included) whose every statement runs through `driver`: the
 * dialect's own Kysely, for migrations and tools, takes the same path as the repositories, with
 * the same connection handling, deadlines and query log.
 */
export function kyselyOverDriver(compiler: KyselyCompiler, auraDriver: AuraDriver): Kysely<any> {
  const inTransaction = (connection: DatabaseConnection): AuraTransaction => {
    const transaction = (connection as SeamConnection).transaction
    if (!transaction) throw new Error('No transaction is open on this connection')
    return transaction
  }
  const raw = (connection: DatabaseConnection, text: string) =>
    inTransaction(connection)
      .execute(CompiledQuery.raw(text))
      .then(() => {})
  const driver: Driver = {
    async init() {},
    async acquireConnection() {
      return new SeamConnection(auraDriver)
    },
    async releaseConnection() {},
    async beginTransaction(connection) {
      ;(connection as SeamConnection).transaction = await auraDriver.begin()
    },
    async commitTransaction(connection) {
      // Kept open when the COMMIT fails: Kysely then rolls back, which lets go of it.
      await inTransaction(connection).commit()
      ;(connection as SeamConnection).transaction = undefined
    },
    async rollbackTransaction(connection) {
      const transaction = (connection as SeamConnection).transaction
      ;(connection as SeamConnection).transaction = undefined
      await transaction?.rollback()
    },
    savepoint: (connection, name) => raw(connection, `savepoint "${name}"`),
    rollbackToSavepoint: (connection, name) => raw(connection, `rollback to savepoint "${name}"`),
    releaseSavepoint: (connection, name) => raw(connection, `release savepoint "${name}"`),
    async destroy() {},
  }
  return new Kysely<any>({
    dialect: {
      createDriver: () => driver,
      createAdapter: () => compiler.createAdapter(),
      createQueryCompiler: () => compiler.createQueryCompiler(),
      createIntrospector: (db) => compiler.createIntrospector(db),
    },
  })
}

/**
 * The seam connection a Kysely of {@link kyselyOn} runs its queries on (a transaction's);
 * undefined for any other Kysely.
 */
export function connectionOf(kysely: Kysely<any>): AuraConnection | undefined {
  return connections.get(kysely)
}
