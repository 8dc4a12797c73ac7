import { CompiledQuery, type QueryResult } from 'kysely'
import type { AuraConnection } from '../driver.js'
import type { ReadRoutingMetrics, ReplicaMetrics } from '../dialect.js'
import type { PostgresAuraDriver } from './postgres-driver.js'

/** The default of `maxReplicaLagMs`. */
export const DEFAULT_MAX_REPLICA_LAG_MS = 10_000

/** How long a replica that was down, failed or lagged past the bound is left alone. */
const RETRY_AFTER_MS = 3000

/**
 * A status older than this is read again before a read that needs no particular commit: the
 * lag bound is about the present, not about the last time someone looked.
 */
const STATUS_FRESH_MS = 1000

/**
 * What a replica has replayed, and how far behind its primary it is. The lag counts only while
 * WAL it has received still waits to be replayed: an idle primary sends nothing, and the time
 * since the last replayed commit then says nothing about the replica. Null (unknown) while it
 * waits with no commit replayed since it started.
 */
const STATUS_QUERY =
  'select pg_last_wal_replay_lsn()::text as lsn, ' +
  'case when pg_last_wal_receive_lsn() is not distinct from pg_last_wal_replay_lsn() then 0 ' +
  'else extract(epoch from now() - pg_last_xact_replay_timestamp()) * 1000 end::float8 as lag_ms'

/** A WAL position (`16/B374D848`) as a number, to compare. */
export function parseLsn(text: string): bigint {
  const [high, low] = text.split('/')
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`)
}

/** One replica: its own driver (pool, deadlines, typed errors) and what is known of it. */
export class Replica {
  readonly location: string
  readonly driver: PostgresAuraDriver
  /** The replay position last read from it. */
  #replayed: bigint | null = null
  #lagMs: number | null = null
  #checkedAt = 0
  #down = false
  /** Until when it is skipped (down, failed, or lagging past the bound). */
  #skipUntil = 0
  /** The status query in flight: concurrent reads share one. */
  #checking: Promise<void> | null = null
  reads = 0
  fallbacks = 0

  constructor(location: string, driver: PostgresAuraDriver) {
    this.location = location
    this.driver = driver
  }

  /** Whether it may answer a read that must see position `needed` (null: no commit of this process yet). */
  async usable(needed: bigint | null, maxLagMs: number): Promise<boolean> {
    if (Date.now() < this.#skipUntil) return false
    // Proven by what it said before: positions only grow.
    if (needed !== null && this.#replayed !== null && this.#replayed >= needed) return true
    if (needed !== null || Date.now() - this.#checkedAt > STATUS_FRESH_MS) await this.#check()
    if (this.#down) return false
    if (needed === null) {
      if (this.#lagMs !== null && this.#lagMs <= maxLagMs) return true
      this.#skipUntil = Date.now() + RETRY_AFTER_MS
      return false
    }
    return this.#replayed !== null && this.#replayed >= needed
  }

  #check(): Promise<void> {
    this.#checking ??= this.driver
      .execute<{ lsn: string | null; lag_ms: number | null }>(CompiledQuery.raw(STATUS_QUERY))
      .then(
        ({ rows }) => {
          const row = rows[0]
          this.#down = false
          this.#checkedAt = Date.now()
          // Null: not a replica (not in recovery); it can never prove a commit of ours.
          this.#replayed = row?.lsn ? parseLsn(row.lsn) : null
          this.#lagMs = row?.lsn ? row.lag_ms : null
        },
        () => this.failed(),
      )
      .finally(() => {
        this.#checking = null
      })
    return this.#checking
  }

  /** It did not answer (or answered with an error the primary did not give): skipped for a while. */
  failed(): void {
    this.#down = true
    this.#skipUntil = Date.now() + RETRY_AFTER_MS
  }

  metrics(): ReplicaMetrics {
    return {
      location: this.location,
      reads: this.reads,
      fallbacks: this.fallbacks,
      lagMs: this.#lagMs,
      down: this.#down,
    }
  }
}

/**
 * Routes reads outside a unit of work: to a replica that has replayed this process's last
 * commit (read-your-writes), else to the primary. Units and writes never come here. A replica's
 * failure never fails a read: the primary answers it instead.
 */
export class ReplicaRouter implements AuraConnection {
  readonly #primary: AuraConnection
  readonly #replicas: readonly Replica[]
  readonly #maxLagMs: number
  /** This process's last commit on the primary: null before the first. */
  #lastCommit: bigint | null = null
  /** A commit whose position is unknown (its answer was lost): resolved by asking the primary. */
  #unknownCommit = false
  #next = 0
  primaryReads = 0

  constructor(primary: AuraConnection, replicas: readonly Replica[], maxLagMs: number) {
    this.#primary = primary
    this.#replicas = replicas
    this.#maxLagMs = maxLagMs
  }

  /** Records a commit of this process; null when its WAL position could not be read. */
  committed(lsn: string | null): void {
    if (lsn === null) {
      this.#unknownCommit = true
      return
    }
    const position = parseLsn(lsn)
    if (this.#lastCommit === null || position > this.#lastCommit) this.#lastCommit = position
  }

  async #needed(): Promise<bigint | null> {
    if (this.#unknownCommit) {
      // The primary's position now is at or after the commit whose answer was lost.
      const { rows } = await this.#primary.execute<{ lsn: string }>(
        CompiledQuery.raw('select pg_current_wal_insert_lsn()::text as lsn'),
      )
      this.#unknownCommit = false
      if (rows[0]) this.committed(rows[0].lsn)
    }
    return this.#lastCommit
  }

  /** A replica that may answer now, taking turns; null for the primary. */
  async #pick(): Promise<Replica | null> {
    const needed = await this.#needed()
    const count = this.#replicas.length
    const start = this.#next++ % count
    for (let i = 0; i < count; i++) {
      const replica = this.#replicas[(start + i) % count]!
      if (await replica.usable(needed, this.#maxLagMs)) return replica
      replica.fallbacks++
    }
    return null
  }

  async execute<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const replica = await this.#pick()
    if (!replica) {
      this.primaryReads++
      return this.#primary.execute<R>(query)
    }
    try {
      const result = await replica.driver.execute<R>(query)
      replica.reads++
      return result
    } catch {
      // The primary decides: when it fails the same way the statement itself is at fault, and
      // its error is the caller's; when it answers, the replica was, and is left alone a while.
      replica.fallbacks++
      this.primaryReads++
      const result = await this.#primary.execute<R>(query)
      replica.failed()
      return result
    }
  }

  /** Call after the schema changed: each replica's prepared statements are not reused. */
  schemaChanged(): void {
    for (const replica of this.#replicas) replica.driver.schemaChanged()
  }

  metrics(): ReadRoutingMetrics {
    return { primaryReads: this.primaryReads, replicas: this.#replicas.map((r) => r.metrics()) }
  }
}
