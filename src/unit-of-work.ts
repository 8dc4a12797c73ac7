import { randomUUID } from 'node:crypto'
import type { AuraDialect } from './dialect/index.js'
import type { AuraTransaction } from './dialect/driver.js'
import { usage } from './errors.js'
import {
  LazyRepositories,
  REPOSITORY_NAMES,
  type Repositories,
  type RepositoryOptions,
  type TableRepository,
} from './repository/repositories.js'
import type { TableDef } from './schema/define.js'
import type { TrackActionsOptions } from './repository/action-logs-repository.js'
import type { ChangeFeed, RowChange } from './repository/change-feed.js'
import {
  txContextOf,
  type ActionTracking,
  type QueryCache,
  type Session,
  type TxContext,
} from './repository/session.js'

/** Options of a unit of work. */
export interface UnitOfWorkOptions {
  /** Who acts: fills created_by / modified_by / deleted_by and the audit entries. */
  readonly actor?: string | null
  /** Groups the unit's audit entries; a random UUID by default. */
  readonly correlationId?: string
}

type State = 'active' | 'committed' | 'rolled back'

const REPOSITORIES = Symbol('repositories')
const POISONING = Symbol('poisoning')
/** The unit's repositories as its callers see them (see `[POISONING]`), one per repository. */
const GUARDED = new WeakMap<object, object>()

/**
 * A unit of work: one database transaction shared by all its repositories, one clock reading
 * for all its audit timestamps, one actor. Commit on success, roll back on failure.
 *
 * One rule for failures, on both dialects: **an operation of the unit that throws poisons it**,
 * whatever the error (bad input refused before any SQL included). `commit()` then rolls back
 * and refuses with a UsageError whose `cause` is the first failure, so nothing of the unit is
 * written; `rollback()` stays safe to call. Why every failure: on PostgreSQL a failed statement
 * aborts the transaction (a COMMIT would silently roll back), a multi-row operation may have
 * half-run, and a unit that commits only some of the caller's intended writes is the data loss
 * a unit of work exists to prevent.
 */
// The repositories are assigned in the constructor; the interface gives them their types.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type
export interface UnitOfWork extends Repositories {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class UnitOfWork {
  readonly correlationId: string
  readonly #trx: AuraTransaction
  readonly #dialect: AuraDialect
  readonly #context: { now: Date; actor: string | null; tracking: ActionTracking | null }
  readonly #feed: ChangeFeed
  /** The unit's row changes, published when it commits; null while the feed has no subscriber. */
  readonly #changes: RowChange[] | null
  #state: State = 'active'
  #failure: unknown = null

  private constructor(
    trx: AuraTransaction,
    dialect: AuraDialect,
    cache: QueryCache,
    feed: ChangeFeed,
    actor: string | null,
    options: UnitOfWorkOptions,
    repositoryOptions: RepositoryOptions,
  ) {
    this.#trx = trx
    this.#dialect = dialect
    this.#feed = feed
    this.#changes = feed.collector()
    this.correlationId = options.correlationId ?? randomUUID()
    this.#context = { now: new Date(), actor, tracking: null }
    // Arrow functions: the session's methods act on this unit, whoever calls them.
    const session: Session = {
      dialect,
      cache,
      read: async (fn) => {
        this.#assertActive()
        try {
          return await fn(this.#trx.kysely)
        } catch (error) {
          throw this.#fail(dialect.mapError(error))
        }
      },
      write: async (fn) => {
        this.#assertActive()
        try {
          return await fn(this.txContext())
        } catch (error) {
          throw this.#fail(dialect.mapError(error))
        }
      },
      rows: async (build) => {
        this.#assertActive()
        try {
          // The dialect's Kysely only compiles; the statement runs in the unit's transaction.
          return (await this.#trx.execute(build(dialect.kysely))).rows
        } catch (error) {
          throw this.#fail(dialect.mapError(error))
        }
      },
    }
    this[REPOSITORIES] = new LazyRepositories(session, repositoryOptions)
  }

  /** @internal The unit's repositories, built on first use (see the getters below the class). */
  readonly [REPOSITORIES]: LazyRepositories

  /**
   * The repository of a table of the application's own (see `AuraDatabase.table`), in this
   * unit's transaction.
   */
  table<T extends TableDef>(definition: T): TableRepository<T> {
    return guarded(this, this[REPOSITORIES].table(definition))
  }

  /** @internal Starts the transaction (BEGIN IMMEDIATE on SQLite) and returns the unit. */
  static async begin(
    dialect: AuraDialect,
    cache: QueryCache,
    feed: ChangeFeed,
    defaultActor: string | null,
    options: UnitOfWorkOptions,
    repositoryOptions: RepositoryOptions,
  ): Promise<UnitOfWork> {
    let trx: AuraTransaction
    try {
      trx = await dialect.driver.begin()
    } catch (error) {
      throw dialect.mapError(error)
    }
    const actor = options.actor === undefined ? defaultActor : options.actor
    return new UnitOfWork(trx, dialect, cache, feed, actor, options, repositoryOptions)
  }

  /**
   * The transaction state a write in this unit runs with.
   * @internal The repositories' seam, not part of the public API.
   */
  txContext(): TxContext {
    const { now, actor, tracking } = this.#context
    return txContextOf(this.#trx, now, actor, this.correlationId, tracking, this.#changes)
  }

  /** @internal Sets where built-in edits are recorded for undo/redo. */
  setTracking(tracking: ActionTracking | null): void {
    this.#assertActive()
    this.#context.tracking = tracking
  }

  /**
   * Records this unit's built-in edits of one project for undo/redo, as actions of `userId`:
   * project field updates and scene add/update/delete/reorder (`actionLogs.undo` /
   * `actionLogs.redo`). Each action is written in the unit's transaction, with the edit.
   * `null` stops recording.
   *
   * @example
   * await db.transaction(async (uow) => {
   *   uow.trackActions({ projectId: p.id, userId: 'alice' })
   *   await uow.projectStates.update({ ...p, title: 'New title' })
   * })
   * await db.actionLogs.undo(p.id, 'alice')
   */
  trackActions(options: TrackActionsOptions | null): void {
    this.setTracking(options === null ? null : this.actionLogs.tracker(options))
  }

  /**
   * Commits every write of the unit at once. If the database refuses the COMMIT, the unit is
   * rolled back and the mapped error thrown (a full disk: StorageError); nothing was committed.
   * A unit in which an operation failed is rolled back instead, with a UsageError.
   */
  async commit(): Promise<void> {
    this.#assertActive()
    if (this.#failure !== null) {
      await this.rollback()
      throw usage.unitPoisoned(this.#failure)
    }
    this.#state = 'committed'
    try {
      if (this.#changes) {
        const { now, actor } = this.#context
        const unit = { correlationId: this.correlationId, actor, at: now, changes: this.#changes }
        await this.#feed.commit(this.#trx, unit, !this.#dialect.capabilities.singleWriter)
      } else {
        await this.#trx.commit()
      }
    } catch (error) {
      // A COMMIT the database refused (disk full, I/O error, serialization failure) may leave
      // the transaction open (SQLite keeps it for a retry), and the connection stays taken until
      // a rollback: without one, this handle (SQLite) or pooled connection stays taken for good.
      this.#state = 'rolled back'
      await this.#trx.rollback().catch(() => {})
      throw this.#dialect.mapError(error)
    }
  }

  /**
   * Discards every write of the unit. Safe to call again, and after a failed commit (which
   * already rolled back): the unit stays rolled back. After a successful commit it is a
   * UsageError, since nothing can be undone then.
   */
  async rollback(): Promise<void> {
    if (this.#state === 'rolled back') return
    this.#assertActive()
    this.#state = 'rolled back'
    await this.#trx.rollback()
  }

  /** Whether the unit is still open. */
  get isActive(): boolean {
    return this.#state === 'active'
  }

  #assertActive(): void {
    if (this.#state !== 'active') throw usage.unitFinished(this.#state)
  }

  #fail(error: unknown): unknown {
    this.#failure ??= error
    return error
  }

  /**
   * `repository` with every method's failure recorded as this unit's: validation happens in the
   * repositories before they reach the session, so the session alone would miss it.
   * @internal
   */
  [POISONING]<T extends object>(repository: T): T {
    const fail = (error: unknown) => this.#fail(error)
    return new Proxy(repository, {
      get(target, key, receiver) {
        const value: unknown = Reflect.get(target, key, receiver)
        if (typeof value !== 'function') return value
        return function (this: unknown, ...args: unknown[]) {
          try {
            const result: unknown = Reflect.apply(value, target, args)
            return result instanceof Promise
              ? result.catch((error: unknown) => Promise.reject(fail(error)))
              : result
          } catch (error) {
            throw fail(error)
          }
        }
      },
    })
  }
}

// The repositories of a unit are getters on the prototype, so that constructing a unit builds
// none of them; each is built by the first call that uses it.
for (const name of REPOSITORY_NAMES) {
  Object.defineProperty(UnitOfWork.prototype, name, {
    get(this: UnitOfWork) {
      return guarded(this, this[REPOSITORIES][name])
    },
    configurable: true,
  })
}

/** The poisoning view of one of `unit`'s repositories, made once per repository. */
function guarded<T extends object>(unit: UnitOfWork, repository: T): T {
  let view = GUARDED.get(repository)
  if (!view) GUARDED.set(repository, (view = unit[POISONING](repository)))
  return view as T
}
