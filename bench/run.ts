/**
 * `npm run bench`: Aura Data against the raw-driver limit (quality.md, "Performance") and
 * against plain Kysely doing the same job (the peer a team would otherwise use).
 *
 *   node --expose-gc dist/bench/run.js [--scale tiny|20k|100k] [--no-postgres] [--only backup] [--out FILE]
 *
 * 1. Builds a realistic database (default `--scale 20k`: 20,000 projects / 200,000 scenes;
 *    `--scale 100k` (or `--full`): 100,000 / 1,000,000 with 100,000 exports and 10,000
 *    templates; `--scale tiny` (or `--tiny`): a few hundred rows, seconds, for the test suite)
 *    in a scratch directory, through the raw driver.
 * 2. For each operation, checks that the library and the raw reference execute the same SQL
 *    (and the peer too, for reads: see bench/kysely-peer.ts), then times the three sides in
 *    alternating rounds in this process.
 * 3. Does the same on PostgreSQL when the server is reachable (`AURA_BENCH_POSTGRES_URL`, else
 *    `AURA_TEST_POSTGRES_URL`, else postgres://postgres@127.0.0.1:5432/postgres), in a scratch
 *    database that is dropped afterwards.
 * 4. Prints a table (operation; ops/s, p50 and p99 of each side; the library's ratio to raw and
 *    to plain Kysely, in ops/s) and writes
 *    `bench/results/latest.json` (or `--out`).
 * `--only backup` builds the SQLite database and runs only the backup benchmark (bench/backup.ts).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { openDatabase } from '../src/index.js'
import { packageRoot } from '../src/paths.js'
import { generateDataset, SIZES, type DatasetSize } from './dataset.js'
import { formatBackup, timeBackup } from './backup.js'
import { progressLine, runOperation, type DialectResults, type OperationResult } from './compare.js'
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

/** The sizes `--scale` accepts, by name. */
const SCALES: Record<string, Mode> = { tiny: 'tiny', '20k': 'default', '100k': 'full' }

const USAGE = 'Usage: run.js [--scale tiny|20k|100k] [--no-postgres] [--only backup] [--out FILE]'

/** Parses the command line. */
function parseArgs(argv: readonly string[]): {
  mode: Mode
  postgres: boolean
  backupOnly: boolean
  out: string
} {
  let mode: Mode = 'default'
  let postgres = true
  let backupOnly = false
  let out = join(packageRoot(), 'bench', 'results', 'latest.json')
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--tiny') mode = 'tiny'
    else if (arg === '--full') mode = 'full'
    else if (arg === '--scale') {
      const scale = SCALES[argv[++i] ?? '']
      if (!scale) throw new Error(`--scale takes tiny, 20k or 100k. ${USAGE}`)
      mode = scale
    } else if (arg === '--no-postgres') postgres = false
    else if (arg === '--only') {
      if (argv[++i] !== 'backup') throw new Error(`--only takes backup. ${USAGE}`)
      backupOnly = true
    } else if (arg === '--out' && argv[i + 1]) out = resolve(argv[++i]!)
    else throw new Error(`Unknown argument ${String(arg)}. ${USAGE}`)
  }
  return { mode, postgres, backupOnly, out }
}

async function runSqlite(
  mode: Mode,
  size: DatasetSize,
  dir: string,
  backupOnly: boolean,
): Promise<DialectResults> {
  const file = join(dir, 'bench.db')
  const dataset = generateDataset(size)
  const started = performance.now()
  await buildSqliteDatabase(file, dataset.tables)
  log(`sqlite: built ${describeSize(size)} in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  if (backupOnly) return { dialect: 'sqlite', operations: [], backup: await timeBackup(file, dir) }
  const suite = await openSqliteSuite(file, dataset.index)
  const operations: OperationResult[] = []
  try {
    for (const op of suite.operations) {
      const result = await runOperation(
        op,
        (fn) => captureSqlite(suite.raw, fn),
        TIMING[mode],
        true,
        async ({ sql, values }) =>
          (suite.raw.prepare(`explain query plan ${sql}`).all(...values) as { detail: string }[]).map(
            (row) => row.detail,
          ),
      )
      operations.push(result)
      log(progressLine('sqlite', result))
    }
  } finally {
    await suite.close()
  }
  return {
    dialect: 'sqlite',
    operations,
    migrateFromEmptyMs: await timeMigrations(dir),
    backup: await timeBackup(file, dir),
  }
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

/** The table's columns: heading, and whether the cells are numbers (right-aligned). */
const COLUMNS: readonly { heading: string; numeric: boolean }[] = [
  { heading: 'operation', numeric: false },
  { heading: 'ops/s', numeric: true },
  { heading: 'p50 µs', numeric: true },
  { heading: 'p99 µs', numeric: true },
  { heading: 'raw ops/s', numeric: true },
  { heading: 'raw p50', numeric: true },
  { heading: 'raw p99', numeric: true },
  { heading: 'kysely ops/s', numeric: true },
  { heading: 'kysely p50', numeric: true },
  { heading: 'kysely p99', numeric: true },
  { heading: '÷ raw', numeric: true },
  { heading: '÷ kysely', numeric: true },
  { heading: 'ratio target', numeric: false },
  { heading: 'p99 target (design ÷ 100)', numeric: false },
]

const integer = (n: number) => Math.round(n).toLocaleString('en')
const micros = (n: number) => (n < 100 ? n.toFixed(1) : integer(n))
const verdict = (met: boolean | null) => (met ? 'ok' : 'MISSED')

function formatRow(r: OperationResult): string[] {
  return [
    r.operation,
    integer(r.library.opsPerSec),
    micros(r.library.p50Us),
    micros(r.library.p99Us),
    integer(r.raw.opsPerSec),
    micros(r.raw.p50Us),
    micros(r.raw.p99Us),
    r.kysely ? integer(r.kysely.opsPerSec) : '—',
    r.kysely ? micros(r.kysely.p50Us) : '—',
    r.kysely ? micros(r.kysely.p99Us) : '—',
    `${r.ratio.toFixed(2)}×`,
    r.kyselyRatio === null
      ? '—'
      : `${r.kyselyRatio.toFixed(2)}×${r.kyselyComparison === 'job' ? ' (job)' : ''}`,
    r.ratioTarget === null ? '' : `≥ ${r.ratioTarget.toFixed(2)}× ${verdict(r.ratioMet)}`,
    r.p99TargetUs === null ? '' : `≤ ${integer(r.p99TargetUs)} µs ${verdict(r.p99Met)}`,
  ]
}

/** Prints rows under the headings, every column padded to its widest cell. */
function printTable(title: string, rows: readonly string[][]): void {
  const all = [COLUMNS.map((c) => c.heading), ...rows]
  // Code points, not UTF-16 units: the cells hold µ, ≥, ≤ and × (each one column wide).
  const width = (cell: string) => [...cell].length
  const widths = COLUMNS.map((_, i) => Math.max(...all.map((r) => width(r[i] ?? ''))))
  const pad = (cell: string, i: number) => {
    const fill = ' '.repeat(widths[i]! - width(cell))
    return COLUMNS[i]!.numeric ? fill + cell : cell + fill
  }
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => pad(c, i))
      .join('  ')
      .trimEnd()
  const rule = widths.map((w) => '-'.repeat(w)).join('  ')
  process.stdout.write(`\n${title}\n${line(all[0]!)}\n${rule}\n`)
  for (const row of rows) process.stdout.write(`${line(row)}\n`)
}

function log(message: string): void {
  process.stderr.write(`${message}\n`)
}

async function main(): Promise<void> {
  const { mode, postgres, backupOnly, out } = parseArgs(process.argv.slice(2))
  const size = SIZES[mode]
  if (!collectsGarbage) log('note: run with node --expose-gc to collect garbage between rounds')
  const dir = mkdtempSync(join(tmpdir(), 'aura-bench-'))
  const results: DialectResults[] = []
  try {
    results.push(await runSqlite(mode, size, dir, backupOnly))
    if (postgres && !backupOnly) results.push(await runPostgres(size, TIMING[mode], log, describeSize(size)))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  for (const r of results) {
    if (r.skipped) {
      process.stdout.write(`\n${r.dialect}: skipped (${r.skipped})\n`)
      continue
    }
    // `--only backup` times no operations: no table to print.
    if (r.operations.length > 0) {
      printTable(
        `${r.dialect} (${mode}: ${describeSize(size)})${r.dialect === 'postgres' ? ' — raw pg with named prepared statements' : ''}`,
        r.operations.map(formatRow),
      )
      process.stdout.write(
        "÷ raw, ÷ kysely: the library's ops/s over the other side's; (job): plain Kysely does the same job its own way " +
          '(multi-row insert, one version-checked UPDATE, no audit rows), see bench/kysely-peer.ts\n',
      )
    }
    if (r.migrateFromEmptyMs) {
      process.stdout.write(
        `migrations from empty: ${r.migrateFromEmptyMs.p50.toFixed(1)} ms median, ${r.migrateFromEmptyMs.max.toFixed(1)} ms worst (target < 200 ms)\n`,
      )
    }
    if (r.backup) process.stdout.write(formatBackup(r.backup))
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
