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
import { kyselyOn, type AuraDriver, type AuraTransaction, type KyselyCompiler } from '../driver.js'
import type { QueryObserver } from '../query-log.js'
import { CommitUnknownError } from '../../errors.js'
import { ConnectionCounters, PostgresConnection, type ConnectionSettings } from './postgres-connection.js'
import type { ConnectionMetrics } from '../dialect.js'
import { isStalePreparedStatement } from './postgres-errors.js'

/** The compiling parts of Kysely's PostgreSQL dialect. */
export const postgresCompiler: KyselyCompiler = {
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
 * on `connection`, through the query log like every other statement.
 */
function control(
  connection: PostgresConnection,
  observer: QueryObserver | undefined,
  text: 'begin' | 'commit' | 'rollback',
): Promise<pg.QueryResult> {
  const stage = text === 'begin' ? 'BEGIN' : 'a statement'
  if (!observer) return connection.query(text, stage)
  let raw: pg.QueryResult | undefined
  return observer
    .observe(CompiledQuery.raw(text), async () => {
      raw = await connection.query(text, stage)
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
  /** Pooler mode: every statement unnamed (see PostgresDriverOptions.pooler). */
  readonly #unnamed: boolean
  #generation = 0

  constructor(unnamed: boolean) {
    this.#unnamed = unnamed
  }

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
    const values = query.parameters as unknown[]
    if (this.#unnamed) return { text: query.sql, values }
    return { name: this.of(query.sql), text: query.sql, values }
  }
}

/** How the driver uses its connections. */
export interface PostgresDriverOptions {
  /** The longest wait for any one answer of the server, in milliseconds (see PostgresConnection). */
  readonly deadlineMs: number
  /** The longest wait for a connection: a new one, or a free one of a full pool. */
  readonly connectTimeoutMs: number
  /**
   * Behind a transaction-pooling proxy (PgBouncer, Supavisor, RDS Proxy): statements are sent
   * unnamed, since the next transaction may run on another server connection that never saw
   * a named statement prepared (or already has one of that name).
   */
  readonly pooler: boolean
  readonly observer?: QueryObserver | undefined
  /**
   * Told the primary's WAL position after each commit of this process (null when it could not
   * be read), for read replicas to prove they have replayed it (see postgres-replicas.ts).
   * Unset without replicas: then nothing extra is sent.
   */
  readonly onCommitLsn?: ((lsn: string | null) => void) | undefined
}

/**
 * The WAL position at or after the end of a commit just answered: the insert position, not
 * the write position, which with `synchronous_commit = off` may still lie before the commit
 * record. Other sessions' WAL may put it a little further: then a replica waits a little longer.
 */
const LSN_QUERY = 'select pg_current_wal_insert_lsn()::text as lsn'

/** The LSN of an answer to LSN_QUERY. */
function lsnOf(result: pg.QueryResult): string | null {
  const lsn: unknown = result.rows[0]?.lsn
  return typeof lsn === 'string' ? lsn : null
}

/** Aura Data's driver over a pg pool: statements on any pooled connection, transactions on one. */
export class PostgresAuraDriver implements AuraDriver {
  readonly #pool: pg.Pool
  readonly #names: StatementNames
  readonly #observer: QueryObserver | undefined
  readonly #settings: ConnectionSettings
  readonly #onCommitLsn: ((lsn: string | null) => void) | undefined
  /** Connections made since the pool was created. */
  #opened = 0

  constructor(pool: pg.Pool, options: PostgresDriverOptions) {
    this.#pool = pool
    this.#names = new StatementNames(options.pooler)
    this.#observer = options.observer
    this.#onCommitLsn = options.onCommitLsn
    this.#settings = {
      deadlineMs: options.deadlineMs,
      connectTimeoutMs: options.connectTimeoutMs,
      counters: new ConnectionCounters(),
    }
    pool.on('connect', () => this.#opened++)
  }

  /** The pool's state and the outages its connections met. */
  connectionMetrics(): ConnectionMetrics {
    const { counters } = this.#settings
    return {
      open: this.#pool.totalCount,
      idle: this.#pool.idleCount,
      waiting: this.#pool.waitingCount,
      max: this.#pool.options.max,
      opened: this.#opened,
      lost: counters.lost,
      deadlines: counters.deadlines,
      commitsUnknown: counters.commitsUnknown,
    }
  }

  execute<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return observed(this.#observer, query, async () => {
      const connection = await PostgresConnection.take(this.#pool, this.#settings)
      try {
        let result: pg.QueryResult
        try {
          result = await connection.query(this.#names.config(query))
        } catch (error) {
          // A statement outside a transaction can simply be prepared again (nothing to roll back).
          if (!isStalePreparedStatement(error)) throw error
          this.#names.schemaChanged()
          result = await connection.query(this.#names.config(query))
        }
        // A write outside a transaction (a tool's) commits on its own: replicas must see it too.
        if (this.#onCommitLsn && result.command !== 'SELECT') {
          this.#onCommitLsn(await connection.query(LSN_QUERY).then(lsnOf, () => null))
        }
        return toResult<R>(result)
      } finally {
        connection.release()
      }
    })
  }

  /** Call after the schema changed: statements prepared before are not reused. */
  schemaChanged(): void {
    this.#names.schemaChanged()
  }

  async begin(): Promise<AuraTransaction> {
    const connection = await PostgresConnection.take(this.#pool, this.#settings)
    try {
      await control(connection, this.#observer, 'begin')
    } catch (error) {
      // A connection that cannot even begin is not handed to the next caller.
      connection.release()
      throw error
    }
    return new PostgresTransaction(connection, this.#names, this.#observer, this.#onCommitLsn)
  }
}

/** A transaction on one pooled connection, returned to the pool (or discarded) when it ends. */
class PostgresTransaction implements AuraTransaction {
  #connection: PostgresConnection | undefined
  #kysely: Kysely<any> | undefined
  readonly #names: StatementNames
  readonly #observer: QueryObserver | undefined
  readonly #onCommitLsn: ((lsn: string | null) => void) | undefined
  /** Statements of {@link defer}, sent with the next statement or the COMMIT. */
  #deferred: CompiledQuery[] = []

  constructor(
    connection: PostgresConnection,
    names: StatementNames,
    observer: QueryObserver | undefined,
    onCommitLsn: ((lsn: string | null) => void) | undefined,
  ) {
    this.#connection = connection
    this.#names = names
    this.#observer = observer
    this.#onCommitLsn = onCommitLsn
  }

  #open(): PostgresConnection {
    if (!this.#connection) throw new Error('The transaction has already ended')
    return this.#connection
  }

  #run<R>(connection: PostgresConnection, query: CompiledQuery): Promise<QueryResult<R>> {
    return observed(this.#observer, query, async () => {
      try {
        return toResult<R>(await connection.query(this.#names.config(query)))
      } catch (error) {
        // The transaction is aborted; the statement runs under a new name in the retried unit.
        if (isStalePreparedStatement(error)) this.#names.schemaChanged()
        throw error
      }
    })
  }

  /**
   * Writes the deferred statements to the connection (pg's pipeline mode sends each without
   * waiting for the previous answer); the statement the caller sends next goes out right
   * behind them, so all of them cost one round trip. Resolves, once they are answered, with the
   * first failure, or undefined: a statement after a failed one fails only because the
   * transaction is aborted, so the first failure is the one to report.
   */
  #sendDeferred(connection: PostgresConnection): Promise<{ error: unknown } | undefined> | undefined {
    if (this.#deferred.length === 0) return undefined
    const sent = this.#deferred.map((query) => this.#run(connection, query))
    this.#deferred = []
    return Promise.allSettled(sent).then((results) => {
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      return failed ? { error: failed.reason as unknown } : undefined
    })
  }

  async execute<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const connection = this.#open()
    const deferred = this.#sendDeferred(connection)
    const result = this.#run<R>(connection, query)
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

  /**
   * Commits. A refused COMMIT (serialization failure, deferred constraint) is thrown as the
   * server said it, and the caller rolls back. A connection lost, or a deadline missed, once
   * COMMIT was sent is a CommitUnknownError: the server may have committed before it went.
   */
  async commit(): Promise<void> {
    const connection = this.#open()
    const deferred = this.#sendDeferred(connection)
    let result: pg.QueryResult
    const committing = control(connection, this.#observer, 'commit')
    // Pipelined right behind the COMMIT, on the same connection: its answer comes with the
    // COMMIT's, no round trip of its own.
    const position = this.#onCommitLsn ? connection.query(LSN_QUERY).then(lsnOf, () => null) : undefined
    try {
      result = await committing
    } catch (error) {
      await deferred
      await position
      if (!connection.broken) throw error
      connection.commitUnknown()
      this.#end()
      // It may have committed: replicas must prove they have everything the primary has now.
      this.#onCommitLsn?.(null)
      throw new CommitUnknownError(
        'The connection to the PostgreSQL server was lost after COMMIT was sent: the unit may or may not ' +
          'have been committed. Read the data back before repeating it.',
        { cause: error },
      )
    }
    const failure = await deferred
    const lsn = await position
    // PostgreSQL completes the COMMIT of an aborted transaction (an earlier statement failed, or
    // a deferred one sent with the COMMIT) with a ROLLBACK tag: nothing was committed, and the
    // transaction is over.
    this.#end()
    if (failure) throw failure.error
    if (result.command === 'ROLLBACK') {
      throw new Error('PostgreSQL rolled the transaction back at COMMIT: an earlier statement of it failed')
    }
    this.#onCommitLsn?.(lsn ?? null)
  }

  /**
   * Rolls back and lets go of the connection. Never throws: a connection that cannot roll back
   * is dead or stalled, and the server discards the transaction of a connection that goes away,
   * so ending the connection is the rollback (and the caller's first error stays the one it sees).
   */
  async rollback(): Promise<void> {
    const connection = this.#connection
    if (!connection) return
    // Deferred statements of a transaction that is rolled back have nothing left to do.
    this.#deferred = []
    if (!connection.broken)
      await control(connection, this.#observer, 'rollback').catch(() => connection.discard())
    this.#end()
  }

  #end(): void {
    const connection = this.#connection
    this.#connection = undefined
    this.#deferred = []
    connection?.release()
  }
}
