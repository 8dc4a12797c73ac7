import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type Kysely,
  type QueryResult,
} from 'kysely'
import { createHash } from 'node:crypto'
import type pg from 'pg'
import {
  kyselyOn,
  runInTransaction,
  type AuraDriver,
  type AuraTransaction,
  type KyselyCompiler,
} from '../driver.js'
import type { QueryObserver } from '../query-log.js'

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

/** Runs a statement through the query log when one is configured. */
function observed<R>(
  observer: QueryObserver | undefined,
  query: CompiledQuery,
  run: () => Promise<QueryResult<R>>,
): Promise<QueryResult<R>> {
  return observer ? observer.observe(query, run) : run()
}

/**
 * Runs transaction control (a plain text, never prepared: BEGIN and COMMIT are not plannable)
 * on `client`, through the query log like every other statement.
 */
function control(
  client: pg.PoolClient,
  observer: QueryObserver | undefined,
  text: string,
): Promise<pg.QueryResult> {
  if (!observer) return client.query(text)
  let raw: pg.QueryResult | undefined
  return observer
    .observe(CompiledQuery.raw(text), async () => {
      raw = await client.query(text)
      return toResult(raw)
    })
    .then(() => raw!)
}

/** Bounded so that ad-hoc query shapes cannot grow memory without limit. */
const STATEMENT_NAMES = 2000

/**
 * Names of prepared statements, one per SQL text: pg parses a named statement once per
 * connection and from then on sends only Bind and Execute, so the server skips parsing and
 * planning from scratch. The name is a hash of the text (a name must always mean one text on
 * a connection) and of the schema generation: a prepared `select *` fails once a migration
 * changed the table's columns ("cached plan must not change result type"), so after a
 * migration of this process new names are prepared.
 */
class StatementNames {
  readonly #names = new Map<string, string>()
  #generation = 0

  of(sql: string): string {
    let name = this.#names.get(sql)
    if (name === undefined) {
      name = `aura_${this.#generation}_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`
      if (this.#names.size >= STATEMENT_NAMES) this.#names.clear()
      this.#names.set(sql, name)
    }
    return name
  }

  schemaChanged(): void {
    this.#generation++
    this.#names.clear()
  }

  config(query: CompiledQuery): pg.QueryConfig {
    return { name: this.of(query.sql), text: query.sql, values: query.parameters as unknown[] }
  }
}

/** Aura Data's driver over a pg pool: statements on any pooled connection, transactions on one. */
export class PostgresAuraDriver implements AuraDriver {
  readonly #pool: pg.Pool
  readonly #names = new StatementNames()
  readonly #observer: QueryObserver | undefined

  constructor(pool: pg.Pool, observer?: QueryObserver) {
    this.#pool = pool
    this.#observer = observer
  }

  execute<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return observed(this.#observer, query, async () =>
      toResult<R>(await this.#pool.query(this.#names.config(query))),
    )
  }

  /** Call after the schema changed: statements prepared before are not reused. */
  schemaChanged(): void {
    this.#names.schemaChanged()
  }

  async begin(): Promise<AuraTransaction> {
    const client = await this.#pool.connect()
    try {
      await control(client, this.#observer, 'begin')
    } catch (error) {
      // A connection that cannot even begin is not handed to the next caller.
      client.release(true)
      throw error
    }
    return new PostgresTransaction(client, this.#names, this.#observer)
  }

  transaction<T>(work: (tx: AuraTransaction) => Promise<T>): Promise<T> {
    return runInTransaction(this, work)
  }
}

/** A transaction on one pooled connection, returned to the pool when it ends. */
class PostgresTransaction implements AuraTransaction {
  #client: pg.PoolClient | undefined
  #kysely: Kysely<any> | undefined
  readonly #names: StatementNames
  readonly #observer: QueryObserver | undefined
  /** Statements of {@link defer}, sent with the next statement or the COMMIT. */
  #deferred: CompiledQuery[] = []

  constructor(client: pg.PoolClient, names: StatementNames, observer: QueryObserver | undefined) {
    this.#client = client
    this.#names = names
    this.#observer = observer
  }

  #open(): pg.PoolClient {
    if (!this.#client) throw new Error('The transaction has already ended')
    return this.#client
  }

  #run<R>(client: pg.PoolClient, query: CompiledQuery): Promise<QueryResult<R>> {
    return observed(this.#observer, query, async () =>
      toResult<R>(await client.query(this.#names.config(query))),
    )
  }

  /**
   * Writes the deferred statements to the connection (pg's pipeline mode sends each without
   * waiting for the previous answer); the statement the caller sends next goes out right
   * behind them, so all of them cost one round trip. Resolves, once they are answered, with the
   * first failure, or undefined: a statement after a failed one fails only because the
   * transaction is aborted, so the first failure is the one to report.
   */
  #sendDeferred(client: pg.PoolClient): Promise<{ error: unknown } | undefined> | undefined {
    if (this.#deferred.length === 0) return undefined
    const sent = this.#deferred.map((query) => this.#run(client, query))
    this.#deferred = []
    return Promise.allSettled(sent).then((results) => {
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      return failed ? { error: failed.reason as unknown } : undefined
    })
  }

  async execute<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const client = this.#open()
    const deferred = this.#sendDeferred(client)
    const result = this.#run<R>(client, query)
    if (deferred) {
      const failure = await deferred
      if (failure) {
        // The statement itself fails too (the transaction is aborted); its error says nothing new.
        result.catch(() => {})
        throw failure.error
      }
    }
    return result
  }

  async defer(query: CompiledQuery): Promise<void> {
    this.#open()
    this.#deferred.push(query)
  }

  get kysely(): Kysely<any> {
    return (this.#kysely ??= kyselyOn(postgresCompiler, this))
  }

  async commit(): Promise<void> {
    const client = this.#open()
    const deferred = this.#sendDeferred(client)
    let result: pg.QueryResult
    try {
      result = await control(client, this.#observer, 'commit')
    } catch (error) {
      // A refused COMMIT (serialization failure, deferred constraint) leaves the caller to roll back.
      await deferred
      throw error
    }
    const failure = await deferred
    // PostgreSQL completes the COMMIT of an aborted transaction (an earlier statement failed, or
    // a deferred one sent with the COMMIT) with a ROLLBACK tag: nothing was committed, and the
    // transaction is over.
    this.#end(false)
    if (failure) throw failure.error
    if (result.command === 'ROLLBACK') {
      throw new Error('PostgreSQL rolled the transaction back at COMMIT: an earlier statement of it failed')
    }
  }

  async rollback(): Promise<void> {
    const client = this.#client
    if (!client) return
    // Deferred statements of a transaction that is rolled back have nothing left to do.
    this.#deferred = []
    let broken = false
    try {
      await control(client, this.#observer, 'rollback')
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
    this.#deferred = []
    client?.release(broken)
  }
}
