/**
 * Timing of one operation for the library, its raw reference and its plain-Kysely peer, in the
 * same process and the same run. The sides take turns in rounds (in order in odd rounds, in
 * reverse order in even ones) so that drift over the run (page cache, WAL growth, CPU
 * frequency) hits all alike;
 * a full garbage collection runs between rounds (with `--expose-gc`) so that one side does not
 * pay for the other's garbage.
 */

/** One call of an operation; `i` counts the side's calls and picks the target. May be async. */
export type OperationFn = (i: number) => unknown

/** How long to measure. */
export interface MeasureOptions {
  /** Untimed calls per side before the first round (JIT, statement caches, page cache). */
  readonly warmupMs: number
  /** Timed length of one side's turn. */
  readonly roundMs: number
  readonly rounds: number
  /** At most this many calls per side in total, warm-up included (operations that use up a pool). */
  readonly maxCalls?: number
}

/** The result for one side. */
export interface Timing {
  /** Timed calls. */
  readonly calls: number
  readonly opsPerSec: number
  /** Median latency of one call, in microseconds. */
  readonly p50Us: number
  readonly p99Us: number
}

const gc = (globalThis as { gc?: () => void }).gc

/** Whether garbage is collected between rounds (`node --expose-gc`, as `npm run bench` runs it). */
export const collectsGarbage = gc !== undefined

/** The value at quantile `q` (0..1) of ascending `sorted` values; 0 when there are none. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : 0
}

class Side {
  /** Call 0 is the suite's capture call (the SQL check); measured calls start at 1. */
  calls = 1
  timedCalls = 0
  timedMs = 0
  samples = new Float64Array(4096)

  constructor(
    readonly fn: OperationFn,
    readonly maxCalls: number,
  ) {}

  get exhausted(): boolean {
    return this.calls >= this.maxCalls
  }

  async run(ms: number, timed: boolean): Promise<void> {
    const fn = this.fn
    const deadline = performance.now() + ms
    for (;;) {
      if (this.exhausted) return
      const start = performance.now()
      if (start >= deadline) return
      const result = fn(this.calls++)
      if (result instanceof Promise) await result
      if (!timed) continue
      const elapsed = performance.now() - start
      this.timedMs += elapsed
      if (this.timedCalls === this.samples.length) {
        const grown = new Float64Array(this.samples.length * 2)
        grown.set(this.samples)
        this.samples = grown
      }
      this.samples[this.timedCalls++] = elapsed
    }
  }

  timing(): Timing {
    const sorted = this.samples.slice(0, this.timedCalls).sort()
    return {
      calls: this.timedCalls,
      opsPerSec: this.timedMs > 0 ? (this.timedCalls * 1000) / this.timedMs : 0,
      p50Us: quantile(sorted, 0.5) * 1000,
      p99Us: quantile(sorted, 0.99) * 1000,
    }
  }
}

/**
 * Measures each of `fns` (the sides of one operation): warm-up, then `rounds` alternating turns.
 * Returns, in the same order, each side's throughput (calls ÷ time spent inside the calls) and
 * latency percentiles.
 */
export async function measure(fns: readonly OperationFn[], options: MeasureOptions): Promise<Timing[]> {
  const max = options.maxCalls ?? Number.POSITIVE_INFINITY
  const sides = fns.map((fn) => new Side(fn, max))
  for (const side of sides) await side.run(options.warmupMs, false)
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse()
    for (const side of order) {
      gc?.()
      await side.run(options.roundMs, true)
    }
  }
  return sides.map((side) => side.timing())
}
