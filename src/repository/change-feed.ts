import type { AuraTransaction } from '../dialect/driver.js'
import type { AuditChanges } from './audit-writer.js'

/** What a write did to a row: the audit trail's vocabulary. */
export type RowAction = 'insert' | 'update' | 'soft_delete' | 'restore' | 'purge'

/** One row written by a committed unit. */
export interface RowChange {
  /** The table's name (`project_states`, …, or an application table). */
  readonly table: string
  /** The row's primary key, as text (as `audit_entries.row_id` holds it). */
  readonly key: string
  readonly action: RowAction
  /**
   * For an update, the fields it changed, each as `[before, after]`, sensitive values replaced as
   * in the audit trail. Empty for the other actions: an insert, a soft delete and a restore show
   * the row as they left it in `row`.
   */
  readonly changes: Readonly<AuditChanges>
  /**
   * The row as the write left it, as the repository returns it (`null` after a purge, and for a
   * content blob, whose content can be large: read it by its hash).
   */
  readonly row: Readonly<Record<string, unknown>> | null
  /** The row's version after the write; null after a purge and on tables without row versions. */
  readonly rowVersion: number | null
}

/** The rows one committed unit changed, in the order its writes were made. */
export interface CommittedChanges {
  /** The unit's correlation id (its audit entries carry it); null for a db-level call. */
  readonly correlationId: string | null
  /** Who acted (the unit's actor). */
  readonly actor: string | null
  /** The unit's clock reading: the `occurred_at` of its audit entries. */
  readonly at: Date
  readonly changes: readonly RowChange[]
}

/** A subscriber of {@link ChangeFeed}; an async one is awaited before it gets the next unit. */
export type ChangeListener = (committed: CommittedChanges) => void | Promise<void>

/** Options of {@link ChangeFeed.subscribe}. */
export interface SubscribeOptions {
  /**
   * Called when the listener throws (or its promise rejects). Default: a process warning. The
   * listener stays subscribed and gets the next units; nothing of the write is undone, since it
   * committed already.
   */
  readonly onError?: (error: unknown, committed: CommittedChanges) => void
}

interface Subscriber {
  readonly listener: ChangeListener
  readonly onError: NonNullable<SubscribeOptions['onError']>
}

/**
 * The change feed of one open database (`db.changes`): after a unit of work (or a db-level
 * write) commits, the rows it changed are delivered to every subscriber, unit by unit, in the
 * order the database committed them. Nothing of a unit that rolled back, failed, or whose
 * COMMIT had an unknown outcome is delivered.
 *
 * It is the feed of this process's writes through Aura Data: writes by other processes, by
 * plain SQL, by migrations, `restore` or `import ef` are not in it. Delivery is asynchronous: a
 * write returns when it committed, without waiting for subscribers; `settled()` waits for them.
 * Capture costs nothing while there is no subscriber: units that began then are not delivered.
 *
 * @example
 * const stop = db.changes.subscribe(({ actor, changes }) => {
 *   for (const change of changes) console.log(actor, change.action, change.table, change.key)
 * })
 * await db.projectStates.add({ title: 'Launch video' })
 * await db.changes.settled()
 * stop()
 */
export class ChangeFeed {
  #subscribers: readonly Subscriber[] = []
  /** Committed units waiting for delivery, oldest first. */
  readonly #queue: CommittedChanges[] = []
  /** The running delivery, while there is one. */
  #draining: Promise<void> | null = null
  /** Settles when the last COMMIT sent through {@link commit} has been answered. */
  #commits: Promise<void> = Promise.resolve()

  /**
   * Delivers every unit that commits from now on to `listener`; returns the function that stops
   * it (it then gets no further unit).
   */
  subscribe(listener: ChangeListener, options: SubscribeOptions = {}): () => void {
    if (typeof listener !== 'function') throw new TypeError('db.changes.subscribe expects a function')
    const subscriber: Subscriber = { listener, onError: options.onError ?? warn }
    this.#subscribers = [...this.#subscribers, subscriber]
    return () => {
      this.#subscribers = this.#subscribers.filter((s) => s !== subscriber)
    }
  }

  /** Resolves when every unit committed so far has been delivered to every subscriber. */
  async settled(): Promise<void> {
    while (this.#draining) await this.#draining
  }

  /**
   * Where a unit beginning now collects its changes: a fresh list while anyone subscribes,
   * null (capture off) otherwise.
   * @internal
   */
  collector(): RowChange[] | null {
    return this.#subscribers.length > 0 ? [] : null
  }

  /**
   * Commits a transaction that collected `unit`'s changes, then queues them for delivery.
   * Where several connections commit at once (`concurrent`: PostgreSQL), this process sends one
   * such COMMIT at a time: the answers to two COMMITs on two connections can arrive in either
   * order (through a pooler they did, 1 run in 15 of a test), so only this keeps the feed in the
   * database's commit order. Units that changed nothing commit outside this order.
   * @internal Called by the session and the unit of work.
   */
  async commit(trx: AuraTransaction, unit: CommittedChanges, concurrent: boolean): Promise<void> {
    if (unit.changes.length === 0) return trx.commit()
    if (!concurrent) {
      await trx.commit()
      this.#publish(unit)
      return
    }
    const previous = this.#commits
    let release!: () => void
    this.#commits = new Promise<void>((resolve) => (release = resolve))
    try {
      await previous
      await trx.commit()
      this.#publish(unit)
    } finally {
      release()
    }
  }

  /** Queues a unit that committed, for delivery after the ones before it. */
  #publish(committed: CommittedChanges): void {
    this.#queue.push(committed)
    this.#draining ??= this.#drain()
  }

  async #drain(): Promise<void> {
    // Deliveries start once the writer's own continuations have run (a macrotask later), never
    // inside its call.
    await new Promise<void>((resolve) => setImmediate(resolve))
    for (let next = this.#queue.shift(); next; next = this.#queue.shift()) {
      for (const subscriber of this.#subscribers) await deliver(subscriber, next)
    }
    this.#draining = null
  }
}

async function deliver(subscriber: Subscriber, committed: CommittedChanges): Promise<void> {
  try {
    await subscriber.listener(committed)
  } catch (error) {
    try {
      subscriber.onError(error, committed)
    } catch {
      // An error handler that throws has nowhere left to report to; the feed goes on.
    }
  }
}

function warn(error: unknown): void {
  const reason = error instanceof Error ? error.message : String(error)
  process.emitWarning(`a db.changes subscriber failed: ${reason}`, { type: 'AuraDataWarning' })
}
