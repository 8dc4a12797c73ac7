import { AsyncLocalStorage } from 'node:async_hooks'
import { CompiledQuery, type Compilable, type Kysely } from 'kysely'
import type { AuraDialect } from '../dialect/index.js'
import { UsageError } from '../errors.js'

/** A row as the driver returns it: snake_case columns, driver values. */
export type Row = Record<string, unknown>

/**
 * The state of one running transaction: everything a write needs besides its own arguments.
 * One clock reading per unit of work: every audit timestamp a unit writes is the same instant.
 */
export interface TxContext {
  readonly db: Kysely<any>
  readonly now: Date
  readonly actor: string | null
  readonly correlationId: string | null
  /** Undo/redo tracking of built-in edits, when the unit asked for it (see `uow.trackActions`). */
  readonly tracking: ActionTracking | null
}

/** Where built-in edits are recorded for undo/redo (`uow.trackActions({ projectId, userId })`). */
export interface ActionTracking {
  readonly projectId: string
  readonly userId: string
  /** Called after each built-in edit with the forward and inverse operations. */
  record(tx: TxContext, action: TrackedAction): Promise<void>
}

/** One built-in edit, described well enough to apply it again or invert it. */
export interface TrackedAction {
  readonly actionType: string
  readonly description: string
  readonly affectedIds: readonly string[]
  readonly payload: unknown
  readonly inversePayload: unknown
}

interface CachedShape {
  readonly sql: string
  /** For each compiled parameter, the index of the caller's value that fills it. */
  readonly order: readonly number[]
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
      const order = compiled.parameters.map((p) => sentinels.indexOf(p as string))
      if (order.some((i) => i < 0)) {
        // A value was not given through `v(i)`: this shape cannot be cached; compile per call.
        return build((i) => values[i]).compile()
      }
      shape = { sql: compiled.sql, order }
      if (this.#shapes.size < 2000) this.#shapes.set(key, shape)
    }
    return CompiledQuery.raw(
      shape.sql,
      shape.order.map((i) => values[i]),
    )
  }
}

/** Marks the async context of a `db.transaction` callback, to catch db-level calls made inside it. */
export const activeTransaction = new AsyncLocalStorage<object>()

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
}

/** Executes a compiled query and returns its rows. */
export async function queryRows(db: Kysely<any>, query: CompiledQuery): Promise<Row[]> {
  return (await db.executeQuery<Row>(query)).rows
}

/** Executes a compiled statement and returns the number of affected rows. */
export async function execute(db: Kysely<any>, query: CompiledQuery): Promise<number> {
  return Number((await db.executeQuery(query)).numAffectedRows ?? 0n)
}

/** The session of the database object: reads run directly; each write is its own transaction. */
export class DatabaseSession implements Session {
  constructor(
    readonly dialect: AuraDialect,
    readonly cache: QueryCache,
    readonly defaultActor: string | null,
    /** Resolves when the database is open and fully migrated; rejects with the reason otherwise. */
    readonly ready: () => Promise<void>,
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
    if (activeTransaction.getStore()) {
      throw new UsageError(
        'A db-level repository was called inside db.transaction(); use the repositories of the unit ' +
          '(the callback argument), or the call would run outside the transaction (and wait for it on SQLite).',
      )
    }
  }

  async read<T>(fn: (db: Kysely<any>) => Promise<T>): Promise<T> {
    const waiting = this.#guard()
    if (waiting) await waiting
    try {
      return await fn(this.dialect.kysely)
    } catch (error) {
      throw this.dialect.mapError(error)
    }
  }

  async write<T>(fn: (tx: TxContext) => Promise<T>): Promise<T> {
    const waiting = this.#guard()
    if (waiting) await waiting
    try {
      // A controlled transaction rather than `transaction().execute(fn)`: the dialect's Kysely
      // may give its statements a faster path (SQLite runs them directly on the held handle).
      const trx = await this.dialect.kysely.startTransaction().execute()
      try {
        const result = await fn({
          db: trx,
          now: new Date(),
          actor: this.defaultActor,
          correlationId: null,
          tracking: null,
        })
        await trx.commit().execute()
        return result
      } catch (error) {
        // As Kysely's own `transaction()`: a failed COMMIT is rolled back too, which releases
        // the connection (a COMMIT that SQLite refused leaves the transaction open).
        if (!trx.isCommitted && !trx.isRolledBack) await trx.rollback().execute()
        throw error
      }
    } catch (error) {
      throw this.dialect.mapError(error)
    }
  }
}
