import { AsyncLocalStorage } from 'node:async_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { CompiledQuery, type Compilable, type Kysely } from 'kysely'
import type { AuraDialect } from '../dialect/index.js'
import { connectionOf, runInTransaction, type AuraTransaction } from '../dialect/driver.js'
import type { TrackedAction } from '../domain/undo-actions.js'
import { UsageError } from '../errors.js'
import type { ChangeFeed, RowChange } from './change-feed.js'

/** A row as the driver returns it: snake_case columns, driver values. */
export type Row = Record<string, unknown>

/**
 * The state of one running transaction: everything a write needs besides its own arguments.
 * One clock reading per unit of work: every audit timestamp a unit writes is the same instant.
 */
export interface TxContext {
  /** Where the transaction's compiled statements run (see {@link txRows}). */
  readonly conn: AuraTransaction
  /** A Kysely whose builder queries run in the transaction (made on first use). */
  readonly db: Kysely<any>
  readonly now: Date
  readonly actor: string | null
  readonly correlationId: string | null
  /** Undo/redo tracking of built-in edits, when the unit asked for it (see `uow.trackActions`). */
  readonly tracking: ActionTracking | null
  /** Where the transaction's row changes go for the change feed; null while nobody subscribes. */
  readonly changes: RowChange[] | null
}

/** Where built-in edits are recorded for undo/redo (`uow.trackActions({ projectId, userId })`). */
export interface ActionTracking {
  readonly projectId: string
  readonly userId: string
  /** Called after each built-in edit with the forward and inverse operations. */
  record(tx: TxContext, action: TrackedAction): Promise<void>
}

/**
 * Records `action` when the unit tracks actions (`uow.trackActions`) for the project the edit
 * belongs to; edits of other projects are not part of that project's undo history.
 */
export async function trackEdit(
  tx: TxContext,
  projectId: string,
  action: TrackedAction | null,
): Promise<void> {
  if (!tx.tracking || action === null || tx.tracking.projectId !== projectId.toLowerCase()) return
  await tx.tracking.record(tx, action)
}

/** The same transaction without tracking: writes that undo, redo or restore must not record themselves. */
export function untracked(tx: TxContext): TxContext {
  return tx.tracking === null ? tx : { ...tx, tracking: null }
}

interface CachedShape {
  readonly sql: string
  /** For each compiled parameter, the index of the caller's value that fills it. */
  readonly order: readonly number[]
  /** Whether `order` is 0, 1, 2, …: the caller's values are the parameters as they are. */
  readonly inOrder: boolean
  /** The parts of Kysely's CompiledQuery that do not depend on the values, made once. */
  readonly template: CompiledQuery
}

/**
 * Compiled SQL per query shape. Kysely compiles a builder tree on every call; for the fixed
 * shapes of a repository (get by id, insert of a given set of columns, …) that work is the
 * same each time, so the SQL and the parameter order are computed once. The first call builds
 * the query with sentinel values and records which compiled parameter holds which value.
 */
export class QueryCache {
  readonly #shapes = new Map<string, CachedShape>()

  compile(
    key: string,
    values: readonly unknown[],
    build: (v: (i: number) => any) => Compilable,
  ): CompiledQuery {
    let shape = this.#shapes.get(key)
    if (!shape) {
      const sentinels = values.map((_, i) => `\u0000aura-param-${i}\u0000`)
      const compiled = build((i) => sentinels[i]).compile()
      // A map, not `sentinels.indexOf`: that search per parameter made a shape with n
      // parameters cost n² comparisons to compile.
      const at = new Map(sentinels.map((sentinel, i) => [sentinel, i]))
      const order = compiled.parameters.map((p) => at.get(p as string) ?? -1)
      if (order.some((i) => i < 0)) {
        // A value was not given through `v(i)`: this shape cannot be cached; compile per call.
        return build((i) => values[i]).compile()
      }
      shape = {
        sql: compiled.sql,
        order,
        inOrder: order.length === values.length && order.every((at, i) => at === i),
        template: CompiledQuery.raw(compiled.sql),
      }
      if (this.#shapes.size < 2000) this.#shapes.set(key, shape)
    }
    // A plain object instead of `CompiledQuery.raw`, which freezes three objects and draws a
    // random query id per call. The id only routes results to Kysely plugins, and Aura Data's
    // Kysely instances have none, so one per shape serves every call.
    return {
      sql: shape.sql,
      query: shape.template.query,
      queryId: shape.template.queryId,
      parameters: shape.inOrder ? values : shape.order.map((i) => values[i]),
    }
  }
}

/** Marks the async context of a `db.transaction` callback, to catch db-level calls made inside it. */
const activeTransaction = new AsyncLocalStorage<{ readonly isActive: boolean }>()

/** `db.transaction` callbacks in flight, in the whole process. */
let callbacksRunning = 0

/**
 * Runs the callback of `db.transaction` in a context that {@link insideTransaction} recognises.
 *
 * On Node 20, AsyncLocalStorage propagates its store through async_hooks: once an instance is
 * enabled, every promise the process creates runs an init hook (a point read then cost a
 * third more). So the store is enabled only while some callback runs, and disabled when the
 * last one returns; stale stores of finished units are told apart by `isActive`.
 */
export async function runTransactionCallback<T>(
  unit: { readonly isActive: boolean },
  fn: () => Promise<T>,
): Promise<T> {
  callbacksRunning++
  try {
    return await activeTransaction.run(unit, fn)
  } finally {
    if (--callbacksRunning === 0) activeTransaction.disable()
  }
}

/** Whether the caller runs inside the callback of a `db.transaction` whose unit is still open. */
export function insideTransaction(): boolean {
  return activeTransaction.getStore()?.isActive === true
}

/**
 * How repositories reach the database: either the database itself (each call its own
 * transaction) or a unit of work (every call in the unit's transaction).
 */
export interface Session {
  readonly dialect: AuraDialect
  readonly cache: QueryCache
  /** Runs read queries. */
  read<T>(fn: (db: Kysely<any>) => Promise<T>): Promise<T>
  /** Runs a write in a transaction: the unit's, or a new one for this call. */
  write<T>(fn: (tx: TxContext) => Promise<T>): Promise<T>
  /**
   * The rows of the query `build` compiles (with the session's Kysely, which only compiles it
   * here), checked and mapped as in `read`.
   */
  rows(build: (db: Kysely<any>) => CompiledQuery): Promise<Row[]>
}

/** The transaction context of a transaction of the seam, at `now`. */
export function txContextOf(
  trx: AuraTransaction,
  now: Date,
  actor: string | null,
  correlationId: string | null,
  tracking: ActionTracking | null,
  changes: RowChange[] | null,
): TxContext {
  return {
    conn: trx,
    // A getter: the transaction's Kysely is made only when a builder query needs it.
    get db() {
      return trx.kysely
    },
    now,
    actor,
    correlationId,
    tracking,
    changes,
  }
}

/** The rows of a compiled query in a transaction. */
export async function txRows(tx: TxContext, query: CompiledQuery): Promise<Row[]> {
  return (await tx.conn.execute<Row>(query)).rows
}

/**
 * The rows of a query on `db`: the dialect's Kysely or the Kysely of one of its transactions run
 * it on their seam connection; any other Kysely (a migration's) runs it itself.
 */
export async function rowsIn(dialect: AuraDialect, db: Kysely<any>, query: CompiledQuery): Promise<Row[]> {
  const connection = db === dialect.kysely ? dialect.driver : connectionOf(db)
  return connection ? (await connection.execute<Row>(query)).rows : queryRows(db, query)
}

/** Executes a compiled query and returns its rows. */
export async function queryRows(db: Kysely<any>, query: CompiledQuery): Promise<Row[]> {
  return (await db.executeQuery<Row>(query)).rows
}

/** Executes a compiled statement and returns the number of affected rows. */
export async function execute(db: Kysely<any>, query: CompiledQuery): Promise<number> {
  return Number((await db.executeQuery(query)).numAffectedRows ?? 0n)
}

/** Reruns of a unit (a `db.transaction`, or one db-level call) that provably committed nothing. */
export const DEFAULT_RETRIES = 4

/** The wait before rerun number `attempt` (1-based): exponential, with jitter, at most 2 s. */
export function retryDelayMs(attempt: number): number {
  const ceiling = Math.min(2000, 50 * 2 ** (attempt - 1))
  return ceiling / 2 + (Math.random() * ceiling) / 2
}

/**
 * The session of the database object: reads run directly; each write is its own transaction.
 * A call that failed in a way that provably committed nothing (a connection lost before COMMIT,
 * a serialization failure, a statement prepared before another process's migration) runs again,
 * as `db.transaction` does: a single call has no effects outside the database.
 */
export class DatabaseSession implements Session {
  constructor(
    readonly dialect: AuraDialect,
    readonly cache: QueryCache,
    readonly defaultActor: string | null,
    /** Resolves when the database is open and fully migrated; rejects with the reason otherwise. */
    readonly ready: () => Promise<void>,
    readonly feed: ChangeFeed,
  ) {}

  /** The `ready()` promise last seen resolved: while `ready()` returns it, there is nothing to wait for. */
  #resolvedReady: Promise<void> | null = null

  /**
   * Refuses a call when the database is closed or not ready, or when it comes from inside
   * `db.transaction()`. Returns a promise to await only until readiness was seen once: every
   * hop counts on a point query. Callers are async functions, so a throw here is a rejection.
   */
  #guard(): Promise<void> | undefined {
    const ready = this.ready()
    if (ready !== this.#resolvedReady) return this.#awaitReady(ready)
    this.#assertOutsideTransaction()
    return undefined
  }

  async #awaitReady(ready: Promise<void>): Promise<void> {
    await ready
    this.#resolvedReady = ready
    this.#assertOutsideTransaction()
  }

  #assertOutsideTransaction(): void {
    if (insideTransaction()) {
      throw new UsageError(
        'A db-level repository was called inside db.transaction(); use the repositories of the unit ' +
          '(the callback argument), or the call would run outside the transaction (and wait for it on SQLite).',
      )
    }
  }

  async read<T>(fn: (db: Kysely<any>) => Promise<T>): Promise<T> {
    const waiting = this.#guard()
    if (waiting) await waiting
    // The reader: a read replica that has this process's commits, where there are any.
    const { kysely } = this.dialect.reader
    try {
      return await fn(kysely)
    } catch (error) {
      const mapped = this.dialect.mapError(error)
      if (!this.dialect.isRetryable(mapped)) throw mapped
      return this.#again(() => fn(kysely))
    }
  }

  async rows(build: (db: Kysely<any>) => CompiledQuery): Promise<Row[]> {
    const waiting = this.#guard()
    if (waiting) await waiting
    const { connection, kysely } = this.dialect.reader
    const run = async () => (await connection.execute<Row>(build(kysely))).rows
    try {
      return await run()
    } catch (error) {
      const mapped = this.dialect.mapError(error)
      if (!this.dialect.isRetryable(mapped)) throw mapped
      return this.#again(run)
    }
  }

  async write<T>(fn: (tx: TxContext) => Promise<T>): Promise<T> {
    const waiting = this.#guard()
    if (waiting) await waiting
    try {
      return await this.#commitRun(fn)
    } catch (error) {
      const mapped = this.dialect.mapError(error)
      if (!this.dialect.isRetryable(mapped)) throw mapped
      return this.#again(() => this.#commitRun(fn))
    }
  }

  /** One run of a db-level write in a transaction of its own; its changes published once it committed. */
  async #commitRun<T>(fn: (tx: TxContext) => Promise<T>): Promise<T> {
    // Each run collects its own changes: only those of the run that committed are published.
    const changes = this.feed.collector()
    let now = new Date()
    return runInTransaction(
      this.dialect.driver,
      (trx) => {
        // The clock is read once the transaction holds its connection (and SQLite's write lock).
        now = new Date()
        return fn(txContextOf(trx, now, this.defaultActor, null, null, changes))
      },
      // A run that collects changes commits through the feed, which publishes them.
      changes
        ? (trx) =>
            this.feed.commit(
              trx,
              { correlationId: null, actor: this.defaultActor, at: now, changes },
              !this.dialect.capabilities.singleWriter,
            )
        : undefined,
    )
  }

  /**
   * The reruns of a call whose first run failed retryably (kept off the first run's path: the
   * point queries of SQLite pay for every await).
   */
  async #again<T>(run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await sleep(retryDelayMs(attempt))
      try {
        return await run()
      } catch (error) {
        const mapped = this.dialect.mapError(error)
        if (attempt >= DEFAULT_RETRIES || !this.dialect.isRetryable(mapped)) throw mapped
      }
    }
  }
}
