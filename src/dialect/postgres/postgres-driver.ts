import {
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type CompiledQuery,
  type Kysely,
  type QueryResult,
} from 'kysely'
import type pg from 'pg'
import {
  kyselyOn,
  runInTransaction,
  type AuraDriver,
  type AuraTransaction,
  type KyselyCompiler,
} from '../driver.js'

/** The compiling parts of Kysely's PostgreSQL dialect. */
const postgresCompiler: KyselyCompiler = {
  createAdapter: () => new PostgresAdapter(),
  createQueryCompiler: () => new PostgresQueryCompiler(),
  createIntrospector: (db) => new PostgresIntrospector(db),
}

/** What Kysely's own PostgreSQL driver makes of a pg result: affected rows for writes only. */
function toResult<R>(result: pg.QueryResult): QueryResult<R> {
  const { command } = result
  const write = command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE'
  return {
    ...(write ? { numAffectedRows: BigInt(result.rowCount ?? 0) } : {}),
    rows: (result.rows ?? []) as R[],
  }
}

/** A compiled statement as pg takes it. */
function toConfig(query: CompiledQuery): pg.QueryConfig {
  return { text: query.sql, values: query.parameters as unknown[] }
}

/** Aura Data's driver over a pg pool: statements on any pooled connection, transactions on one. */
export class PostgresAuraDriver implements AuraDriver {
  readonly #pool: pg.Pool

  constructor(pool: pg.Pool) {
    this.#pool = pool
  }

  async execute<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return toResult<R>(await this.#pool.query(toConfig(query)))
  }

  async begin(): Promise<AuraTransaction> {
    const client = await this.#pool.connect()
    try {
      await client.query('begin')
    } catch (error) {
      // A connection that cannot even begin is not handed to the next caller.
      client.release(true)
      throw error
    }
    return new PostgresTransaction(client)
  }

  transaction<T>(work: (tx: AuraTransaction) => Promise<T>): Promise<T> {
    return runInTransaction(this, work)
  }
}

/** A transaction on one pooled connection, returned to the pool when it ends. */
class PostgresTransaction implements AuraTransaction {
  #client: pg.PoolClient | undefined
  #kysely: Kysely<any> | undefined

  constructor(client: pg.PoolClient) {
    this.#client = client
  }

  #open(): pg.PoolClient {
    if (!this.#client) throw new Error('The transaction has already ended')
    return this.#client
  }

  async execute<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return toResult<R>(await this.#open().query(toConfig(query)))
  }

  get kysely(): Kysely<any> {
    return (this.#kysely ??= kyselyOn(postgresCompiler, this))
  }

  async commit(): Promise<void> {
    const result = await this.#open().query('commit')
    // PostgreSQL completes the COMMIT of an aborted transaction (an earlier statement failed)
    // with a ROLLBACK tag: nothing was committed, and the transaction is over.
    if (result.command === 'ROLLBACK') {
      this.#end(false)
      throw new Error('PostgreSQL rolled the transaction back at COMMIT: an earlier statement of it failed')
    }
    this.#end(false)
  }

  async rollback(): Promise<void> {
    const client = this.#client
    if (!client) return
    let broken = false
    try {
      await client.query('rollback')
    } catch (error) {
      // A connection that cannot roll back (it died) must not go back into the pool.
      broken = true
      throw error
    } finally {
      this.#end(broken)
    }
  }

  #end(broken: boolean): void {
    const client = this.#client
    this.#client = undefined
    client?.release(broken)
  }
}
