/**
 * `npm run bench`: Aura Data against the raw-driver limit (quality.md, "Performance").
 *
 *   node --expose-gc dist/bench/run.js [--tiny | --full] [--no-postgres] [--out FILE]
 *
 * 1. Builds a realistic database (default 20,000 projects / 200,000 scenes; `--full` 100,000 /
 *    1,000,000 with 100,000 exports and 10,000 templates; `--tiny` a few hundred rows, seconds,
 *    for the test suite) in a scratch directory, through the raw driver.
 * 2. For each operation, checks that the library and the raw reference execute the same SQL,
 *    then times both in alternating rounds in this process.
 * 3. Does the same on PostgreSQL when the server is reachable (`AURA_BENCH_POSTGRES_URL`, else
 *    `AURA_TEST_POSTGRES_URL`, else postgres://postgres@127.0.0.1:5432/postgres), in a scratch
 *    database that is dropped afterwards.
 * 4. Prints a table (operation, ops/s, p50, p99, ratio to raw) and writes
 *    `bench/results/latest.json` (or `--out`).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { openDatabase } from '../src/index.js'
import { packageRoot } from '../src/paths.js'
import { generateDataset, SIZES, type DatasetSize } from './dataset.js'
import { runOperation, type DialectResults, type OperationResult } from './compare.js'
import { collectsGarbage, type MeasureOptions } from './harness.js'
import { runPostgres } from './postgres-suite.js'
import { captureSqlite } from './sql-capture.js'
import { buildSqliteDatabase, openSqliteSuite } from './sqlite-suite.js'

type Mode = keyof typeof SIZES

/** Timing settings per mode: the tiny mode only proves that everything still runs. */
const TIMING: Record<Mode, MeasureOptions> = {
  tiny: { warmupMs: 20, roundMs: 25, rounds: 2 },
  default: { warmupMs: 300, roundMs: 350, rounds: 8 },
  full: { warmupMs: 500, roundMs: 500, rounds: 8 },
}

/** Parses the command line. */
function parseArgs(argv: readonly string[]): { mode: Mode; postgres: boolean; out: string } {
  let mode: Mode = 'default'
  let postgres = true
  let out = join(packageRoot(), 'bench', 'results', 'latest.json')
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--tiny') mode = 'tiny'
    else if (arg === '--full') mode = 'full'
    else if (arg === '--no-postgres') postgres = false
    else if (arg === '--out' && argv[i + 1]) out = resolve(argv[++i]!)
    else
      throw new Error(
        `Unknown argument ${String(arg)}. Usage: run.js [--tiny | --full] [--no-postgres] [--out FILE]`,
      )
  }
  return { mode, postgres, out }
}

async function runSqlite(mode: Mode, size: DatasetSize, dir: string): Promise<DialectResults> {
  const file = join(dir, 'bench.db')
  const dataset = generateDataset(size)
  const started = performance.now()
  await buildSqliteDatabase(file, dataset.tables)
  log(`sqlite: built ${describeSize(size)} in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  const suite = await openSqliteSuite(file, dataset.index)
  const operations: OperationResult[] = []
  try {
    for (const op of suite.operations) {
      const result = await runOperation(op, (fn) => captureSqlite(suite.raw, fn), TIMING[mode], true)
      operations.push(result)
      log(`sqlite: ${formatRow(result).join('  ')}`)
    }
  } finally {
    await suite.close()
  }
  return { dialect: 'sqlite', operations, migrateFromEmptyMs: await timeMigrations(dir) }
}

/** The whole migration set applied to a new, empty database file, five times. */
async function timeMigrations(dir: string): Promise<{ p50: number; max: number }> {
  const times: number[] = []
  for (let i = 0; i < 5; i++) {
    const file = join(dir, `migrate-${i}.db`)
    const db = await openDatabase({ url: `sqlite:${file}` })
    const started = performance.now()
    await db.migrate()
    times.push(performance.now() - started)
    await db.close()
  }
  times.sort((a, b) => a - b)
  return { p50: times[2]!, max: times[4]! }
}

function describeSize(size: DatasetSize): string {
  const projects = size.projects + size.spareProjects
  return (
    `${projects.toLocaleString('en')} projects, ${(projects * size.scenesPerProject).toLocaleString('en')} scenes, ` +
    `${size.exports.toLocaleString('en')} exports, ${size.templates.toLocaleString('en')} templates`
  )
}

const HEADER = [
  'operation',
  'library ops/s',
  'p50 µs',
  'p99 µs',
  'raw ops/s',
  'raw p50',
  'raw p99',
  'ratio',
  'target',
]

function formatRow(r: OperationResult): string[] {
  const target =
    r.ratioTarget === null
      ? ''
      : `≥ ${r.ratioTarget.toFixed(2)} ${r.ratio >= r.ratioTarget ? 'ok' : 'MISSED'}`
  return [
    r.operation,
    Math.round(r.library.opsPerSec).toLocaleString('en'),
    r.library.p50Us.toFixed(1),
    r.library.p99Us.toFixed(1),
    Math.round(r.raw.opsPerSec).toLocaleString('en'),
    r.raw.p50Us.toFixed(1),
    r.raw.p99Us.toFixed(1),
    r.ratio.toFixed(2),
    target,
  ]
}

function printTable(title: string, rows: readonly string[][]): void {
  const all = [HEADER, ...rows]
  const widths = HEADER.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd()
  process.stdout.write(`\n${title}\n${line(HEADER)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`)
  for (const row of rows) process.stdout.write(`${line(row)}\n`)
}

function log(message: string): void {
  process.stderr.write(`${message}\n`)
}

async function main(): Promise<void> {
  const { mode, postgres, out } = parseArgs(process.argv.slice(2))
  const size = SIZES[mode]
  if (!collectsGarbage) log('note: run with node --expose-gc to collect garbage between rounds')
  const dir = mkdtempSync(join(tmpdir(), 'aura-bench-'))
  const results: DialectResults[] = []
  try {
    results.push(await runSqlite(mode, size, dir))
    if (postgres) results.push(await runPostgres(size, TIMING[mode], log, describeSize(size)))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  for (const r of results) {
    if (r.skipped) {
      process.stdout.write(`\n${r.dialect}: skipped (${r.skipped})\n`)
      continue
    }
    printTable(
      `${r.dialect} (${mode}: ${describeSize(size)})${r.dialect === 'postgres' ? ' — absolute numbers; raw pg for reference' : ''}`,
      r.operations.map(formatRow),
    )
    if (r.migrateFromEmptyMs) {
      process.stdout.write(
        `migrations from empty: ${r.migrateFromEmptyMs.p50.toFixed(1)} ms median, ${r.migrateFromEmptyMs.max.toFixed(1)} ms worst (target < 200 ms)\n`,
      )
    }
  }
  mkdirSync(dirname(out), { recursive: true })
  const document = {
    mode,
    size,
    environment: {
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      gcBetweenRounds: collectsGarbage,
    },
    timing: TIMING[mode],
    results,
  }
  writeFileSync(out, `${JSON.stringify(document, null, 2)}\n`)
  process.stdout.write(`\nwrote ${out}\n`)
}

await main()
