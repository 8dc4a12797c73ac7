/**
 * One operation compared: the SQL check, then the measurement, as a result line.
 */
import { measure, type MeasureOptions, type Timing } from './harness.js'
import { RATIO_TARGETS, type BenchOperation } from './operations.js'
import { assertSameStatements, type ExecutedStatement } from './sql-capture.js'

/** One line of the results. */
export interface OperationResult {
  readonly operation: string
  readonly kind: 'read' | 'write'
  readonly library: Timing
  readonly raw: Timing
  /** Library ops/s ÷ raw ops/s. */
  readonly ratio: number
  /** The plain-Kysely peer (null where the operation has none). */
  readonly kysely: Timing | null
  /** Library ops/s ÷ plain-Kysely ops/s (null without a peer). */
  readonly kyselyRatio: number | null
  /** Whether the peer runs the library's statements or does the same job its own way. */
  readonly kyselyComparison: 'statements' | 'job' | null
  /** How many statements one call of the peer executes. */
  readonly kyselyStatements: number | null
  /** The spec's ratio target (SQLite only; PostgreSQL numbers are absolute). */
  readonly ratioTarget: number | null
  /** Whether `ratio` reaches `ratioTarget` (null without a target). */
  readonly ratioMet: boolean | null
  /**
   * The original design's absolute target divided by 100, as a p99 in microseconds, where the
   * operation has one. The design states it for the full data set; it is judged at every size.
   */
  readonly p99TargetUs: number | null
  /** Whether the library's p99 is within `p99TargetUs` (null without a target). */
  readonly p99Met: boolean | null
  /** How many statements one call executes (checked identical on both sides). */
  readonly statements: number
  /** The query plan of a read's statement on this database, one line per plan node. */
  readonly plan?: readonly string[]
}

/** Explains one executed statement on the benchmark database: the plan's lines. */
export type Explain = (statement: ExecutedStatement) => Promise<string[]>

/** A dialect's part of the results. */
export interface DialectResults {
  readonly dialect: 'sqlite' | 'postgres'
  readonly skipped?: string
  readonly operations: readonly OperationResult[]
  /** Applying the whole migration set to an empty database, in milliseconds (median and worst of 5). */
  readonly migrateFromEmptyMs?: { readonly p50: number; readonly max: number }
  /** An online backup of the benchmark database against a plain file copy of it (SQLite). */
  readonly backup?: BackupResult
}

/**
 * quality.md, "backup": throughput at least 0.5× a plain file copy of the same database with a
 * writer running, and the writer's p99 commit latency at most 2× its idle value.
 */
export interface BackupResult {
  readonly sizeBytes: number
  /** `copyFileSync` of the database file and an fsync of the copy, MB/s. */
  readonly copyMBps: number
  /** `db.backup()` (verified, with its manifest) with nothing else running, MB/s. */
  readonly quietBackupMBps: number
  /** The same backup up to its verification (the online copy alone), MB/s. */
  readonly quietCopyPhaseMBps: number
  /** `db.backup()` (verified, with its manifest) while a writer commits, MB/s. */
  readonly backupMBps: number
  /** backupMBps ÷ copyMBps; target ≥ 0.5. */
  readonly throughputRatio: number
  /** The writer's commit latency p99 without and during the backup, µs. */
  readonly writerIdleP99Us: number
  readonly writerDuringBackupP99Us: number
  /** during ÷ idle; target ≤ 2. */
  readonly latencyRatio: number
  /**
   * The writer's p99 from asking for its turn to the end of the commit, µs: includes the time
   * the backup's synchronous work holds the event loop.
   */
  readonly writerIdleTurnP99Us: number
  readonly writerDuringBackupTurnP99Us: number
  /** Commits the writer made while the backup ran. */
  readonly commitsDuringBackup: number
  /** The writer's p99 commit latency during a plain copy of the file and its fsync, µs: the disk's share. */
  readonly writerDuringCopyP99Us: number
}

/**
 * Captures one call of each side, refuses a library/raw pair that runs different SQL (and a
 * peer that should run the same statements but does not), then measures all sides together.
 */
export async function runOperation(
  op: BenchOperation,
  capture: (fn: () => unknown) => Promise<ExecutedStatement[]>,
  timing: MeasureOptions,
  ratioTarget: boolean,
  explain: Explain,
): Promise<OperationResult> {
  const libraryStatements = await capture(() => op.library(0))
  const raw = await capture(() => op.raw(0))
  assertSameStatements(op.name, libraryStatements, raw)
  const peer = op.kysely ?? null
  const peerStatements = peer ? await capture(() => peer.fn(0)) : null
  if (peer?.compare === 'statements') assertSameStatements(`${op.name} (plain Kysely)`, peerStatements!, raw)
  const [libraryTiming, rawTiming, kysely] = await measure([op.library, op.raw, ...(peer ? [peer.fn] : [])], {
    ...timing,
    ...(op.maxCalls === undefined ? {} : { maxCalls: op.maxCalls }),
  })
  const per = (a: Timing, b: Timing) => (b.opsPerSec > 0 ? a.opsPerSec / b.opsPerSec : 0)
  const ratio = per(libraryTiming!, rawTiming!)
  const target = ratioTarget ? RATIO_TARGETS[op.kind] : null
  const p99TargetUs = op.p99TargetUs ?? null
  return {
    operation: op.name,
    kind: op.kind,
    library: libraryTiming!,
    raw: rawTiming!,
    ratio,
    kysely: kysely ?? null,
    kyselyRatio: kysely ? per(libraryTiming!, kysely) : null,
    kyselyComparison: peer?.compare ?? null,
    kyselyStatements: peerStatements?.length ?? null,
    ratioTarget: target,
    ratioMet: target === null ? null : ratio >= target,
    p99TargetUs,
    p99Met: p99TargetUs === null ? null : libraryTiming!.p99Us <= p99TargetUs,
    statements: libraryStatements.length,
    ...(op.kind === 'read' && libraryStatements.length === 1
      ? { plan: await explain(libraryStatements[0]!) }
      : {}),
  }
}

/** One progress line per measured operation, printed on stderr while the run goes on. */
export function progressLine(dialect: string, r: OperationResult): string {
  const n = (x: number) => Math.round(x).toLocaleString('en')
  const peer = r.kysely ? `, plain Kysely ${n(r.kysely.opsPerSec)} (${r.kyselyRatio!.toFixed(2)}×)` : ''
  return `${dialect}: ${r.operation}: ${n(r.library.opsPerSec)} ops/s, raw ${n(r.raw.opsPerSec)} (${r.ratio.toFixed(2)}×)${peer}`
}
