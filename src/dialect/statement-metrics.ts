/** How one statement shape (its SQL text, placeholders where the values go) has been doing. */
export interface StatementStats {
  /** The SQL text with placeholders (`?`, `$1`): never a bound value. */
  readonly sql: string
  /** Runs since the database was opened, failed ones included. */
  readonly count: number
  /** Runs that failed. */
  readonly errors: number
  /** Median wall time on the driver, in milliseconds, over the shape's most recent runs (up to {@link RECENT_RUNS}). */
  readonly p50Ms: number
  /** 99th percentile of the same runs. */
  readonly p99Ms: number
  /** Total wall time of all runs, in milliseconds. */
  readonly totalMs: number
}

/** Runs per shape the percentiles are computed over: recent enough to show a change, enough for a p99. */
export const RECENT_RUNS = 512

/**
 * Shapes tracked; the rest are counted together under one entry, so that ad-hoc SQL cannot
 * grow memory without limit.
 */
const MAX_SHAPES = 500
const OTHER = '(other statements)'

class ShapeStats {
  count = 0
  errors = 0
  totalMs = 0
  readonly recent = new Float64Array(RECENT_RUNS)

  record(durationMs: number, failed: boolean): void {
    this.recent[this.count % RECENT_RUNS] = durationMs
    this.count++
    this.totalMs += durationMs
    if (failed) this.errors++
  }

  snapshot(sql: string): StatementStats {
    const sorted = this.recent.slice(0, Math.min(this.count, RECENT_RUNS)).sort()
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
    return {
      sql,
      count: this.count,
      errors: this.errors,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      totalMs: this.totalMs,
    }
  }
}

/** Counts and times statements per shape, in memory, for `db.metrics()`. */
export class StatementMetrics {
  readonly #shapes = new Map<string, ShapeStats>()

  record(sql: string, durationMs: number, failed: boolean): void {
    let shape = this.#shapes.get(sql)
    if (!shape) {
      const key = this.#shapes.size < MAX_SHAPES ? sql : OTHER
      shape = this.#shapes.get(key) ?? new ShapeStats()
      this.#shapes.set(key, shape)
    }
    shape.record(durationMs, failed)
  }

  /** Every shape, the most time-consuming first. */
  snapshot(): StatementStats[] {
    return [...this.#shapes].map(([sql, shape]) => shape.snapshot(sql)).sort((a, b) => b.totalMs - a.totalMs)
  }
}
