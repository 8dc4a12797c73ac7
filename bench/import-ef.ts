/**
 * `npm run bench:import`: `aura-db import ef` against the physical limit of each target, and its
 * memory against the file's size (issue 22, items 5 and 7).
 *
 *   node dist/bench/import-ef.js [--projects N[,N…]] [--no-postgres]
 *
 * For each size (default 500 and 5,000 projects: 10 scenes, 5 assets, 3 checkpoints, 5 versions
 * with 4–12 KB of inline JSON and an action log entry each, plus as many blobs):
 * 1. builds the legacy aura.db in the app's schema (bench/legacy-ef-schema.ts), WAL mode;
 * 2. SQLite: times `VACUUM INTO` of the legacy file (a physical copy), then the import into a
 *    new migrated file in a child process, which reports its time and peak RSS;
 * 3. PostgreSQL: the import into a scratch database (child process, same figures), then `COPY`
 *    of the imported tables into a second migrated database (psql `\copy`, timed from the
 *    first COPY to the last): what the same rows cost at the server's own speed;
 * 4. prints one line per size and target: file size, import time (and its CPU time), baseline,
 *    ratio, peak RSS, and the time of each phase.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import Database from 'better-sqlite3'
import pg from 'pg'
import { openDatabase } from '../src/index.js'
import { APP_MIGRATIONS } from '../src/operations/import-ef/legacy-versions.js'
import { packageRoot } from '../src/paths.js'
import { LEGACY_DDL } from './legacy-ef-schema.js'

const LIBRARY = resolve(packageRoot(), 'dist', 'src', 'index.js')
const POSTGRES =
  process.env.AURA_BENCH_POSTGRES_URL ??
  process.env.AURA_TEST_POSTGRES_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres'
const SECRET = Buffer.alloc(32, 7).toString('base64')

const guid = () => randomUUID().toUpperCase()
const sha = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex')
const at = (i: number) => `2025-11-${String(1 + (i % 28)).padStart(2, '0')} 10:00:00.1234567`

/** A System.Text.Json document of about `bytes` bytes. */
function json(seed: number, bytes: number): string {
  const words = Array.from({ length: Math.ceil(bytes / 12) }, (_, i) => `w${(seed * 31 + i) % 997}`)
  return JSON.stringify({ Topic: `Project ${seed}`, Scenes: words, Tone: seed % 4 })
}

/** Step 1: a legacy file of `projects` projects in the app's shape. */
function buildLegacy(file: string, projects: number): void {
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.exec(LEGACY_DDL)
  const history = db.prepare('insert into "__EFMigrationsHistory" values (?, ?)')
  for (const m of APP_MIGRATIONS) history.run(m, '8.0.11')
  const project = db.prepare(
    `insert into ProjectStates (Id, Title, Description, Status, CreatedAt, UpdatedAt, CurrentStage, ProgressPercent,
       BriefJson, PlanSpecJson, IsDeleted, CurrentWizardStep) values (?, ?, ?, 'InProgress', ?, ?, 'Rendering', 50, ?, ?, 0, 2)`,
  )
  const scene = db.prepare(
    `insert into SceneStates (Id, ProjectId, SceneIndex, ScriptText, DurationSeconds, IsCompleted, CreatedAt)
       values (?, ?, ?, ?, 4.5, 1, ?)`,
  )
  const asset = db.prepare(
    `insert into AssetStates (Id, ProjectId, AssetType, FilePath, FileSizeBytes, IsTemporary, CreatedAt)
       values (?, ?, 'Image', ?, 123456, 0, ?)`,
  )
  const checkpoint = db.prepare(
    `insert into RenderCheckpoints (Id, ProjectId, StageName, CheckpointTime, CompletedScenes, TotalScenes, IsValid)
       values (?, ?, 'Rendering', ?, 3, 10, 1)`,
  )
  const version = db.prepare(
    `insert into ProjectVersions (Id, ProjectId, VersionNumber, VersionType, CreatedAt, BriefJson, PlanSpecJson,
       BriefHash, PlanHash, StorageSizeBytes, IsMarkedImportant, IsDeleted, UpdatedAt)
       values (?, ?, ?, 'Autosave', ?, ?, ?, ?, ?, 0, 0, 0, ?)`,
  )
  const blob = db.prepare(
    `insert or ignore into ContentBlobs (ContentHash, Content, ContentType, SizeBytes, CreatedAt, LastReferencedAt, ReferenceCount, UpdatedAt)
       values (?, ?, ?, ?, ?, ?, 1, ?)`,
  )
  const action = db.prepare(
    `insert into ActionLogs (Id, UserId, ActionType, Description, Timestamp, Status, CanBatch, IsPersistent)
       values (?, 'alice', 'UpdateProject', 'Edited', ?, 'Applied', 0, 1)`,
  )
  db.transaction(() => {
    for (let p = 0; p < projects; p++) {
      const id = guid()
      const time = at(p)
      project.run(id, `Project ${p}`, 'A project', time, time, json(p, 2000), json(p + 1, 1000))
      for (let s = 0; s < 10; s++) scene.run(guid(), id, s, `Scene ${s} of project ${p}. `.repeat(8), time)
      for (let a = 0; a < 5; a++) asset.run(guid(), id, `C:\\aura\\assets\\${p}\\${a}.png`, time)
      for (let c = 0; c < 3; c++) checkpoint.run(guid(), id, time)
      for (let v = 1; v <= 5; v++) {
        const brief = json(p * 10 + v, 8000)
        const plan = json(p * 10 + v + 5, 4000)
        for (const [content, type] of [
          [brief, 'Brief'],
          [plan, 'Plan'],
        ] as const)
          blob.run(sha(content), content, type, Buffer.byteLength(content), time, time, time)
        version.run(guid(), id, v, time, brief, plan, sha(brief), sha(plan), time)
      }
      action.run(guid(), time)
    }
  })()
  db.close()
}

/** What a child import reports: its time, its CPU time, peak RSS and the time spent in each phase. */
interface ChildImport {
  ms: number
  /** User and system CPU time of the import: steadier than its wall time on a shared machine. */
  cpuMs: number
  peakRssMb: number
  phases: Record<string, number>
}

/** Runs the import in a child process (its RSS is the import's alone); returns its time and peak RSS. */
function importInChild(url: string, legacy: string): ChildImport {
  const source = `
    import { importEfDatabase, openDatabase } from ${JSON.stringify(LIBRARY)}
    const db = await openDatabase({ url: ${JSON.stringify(url)}, secretKey: ${JSON.stringify(SECRET)} })
    const start = performance.now()
    const cpu = process.cpuUsage()
    const phases = {}
    let phase = null
    let since = start
    const report = await importEfDatabase(db, ${JSON.stringify(legacy)}, {
      onProgress: (p) => {
        if (p.phase === phase) return
        const now = performance.now()
        if (phase) phases[phase] = (phases[phase] ?? 0) + now - since
        phase = p.phase
        since = now
      },
    })
    const ms = performance.now() - start
    const used = process.cpuUsage(cpu)
    const cpuMs = (used.user + used.system) / 1000
    phases[phase] = (phases[phase] ?? 0) + performance.now() - since
    await db.close()
    if (!report.ok) throw new Error('import refused')
    console.log(JSON.stringify({ ms, cpuMs, peakRssMb: process.resourceUsage().maxRSS / 1024, phases }))`
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', source], { encoding: 'utf8' })
  if (child.status !== 0) throw new Error(`import failed: ${child.stderr}`)
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as ChildImport
}

/** Each phase's share of an import, e.g. `hash 410, copy 620, read 2100, …` (ms). */
const phasesOf = (child: ChildImport) =>
  Object.entries(child.phases)
    .map(([phase, ms]) => `${phase} ${ms.toFixed(0)}`)
    .join(', ')

async function migrated(url: string): Promise<void> {
  const db = await openDatabase({ url, migrate: true })
  await db.close()
}

/** Step 3's baseline: the imported tables copied out, then timed being copied into a fresh database. */
function copyBaseline(from: string, to: string, dir: string, tables: readonly string[]): number {
  for (const t of tables) execFileSync('psql', [from, '-qc', `\\copy ${t} to '${join(dir, `${t}.copy`)}'`])
  const script = tables.map((t) => `\\copy ${t} from '${join(dir, `${t}.copy`)}'`).join('\n')
  const start = performance.now()
  execFileSync('psql', [to, '-q', '-v', 'ON_ERROR_STOP=1', '-1'], { input: script })
  return performance.now() - start
}

const TABLES = [
  'project_states',
  'content_blobs',
  'scene_states',
  'asset_states',
  'render_checkpoints',
  'project_versions',
  'action_logs',
  'audit_entries',
]

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  const sizes = (
    args[args.indexOf('--projects') + 1] && args.includes('--projects')
      ? args[args.indexOf('--projects') + 1]!
      : '500,5000'
  )
    .split(',')
    .map(Number)
  const withPostgres = !args.includes('--no-postgres')
  for (const projects of sizes) {
    const dir = mkdtempSync(join(tmpdir(), 'aura-bench-import-'))
    try {
      const legacy = join(dir, 'aura.db')
      buildLegacy(legacy, projects)
      const mb = statSync(legacy).size / 2 ** 20

      const vacuumStart = performance.now()
      const copy = new Database(legacy, { readonly: true })
      copy.exec(`vacuum into '${join(dir, 'vacuum.db')}'`)
      copy.close()
      const vacuumMs = performance.now() - vacuumStart
      const target = `sqlite:${join(dir, 'target.db')}`
      await migrated(target)
      const sqlite = importInChild(target, legacy)
      console.log(
        `sqlite   ${projects} projects, ${mb.toFixed(0)} MB: import ${sqlite.ms.toFixed(0)} ms (CPU ${sqlite.cpuMs.toFixed(0)} ms), VACUUM INTO ${vacuumMs.toFixed(0)} ms, ` +
          `ratio ${(sqlite.ms / vacuumMs).toFixed(2)}; peak RSS ${sqlite.peakRssMb.toFixed(0)} MB (${(sqlite.peakRssMb / mb).toFixed(2)}× the file)\n` +
          `         phases (ms): ${phasesOf(sqlite)}`,
      )

      if (withPostgres) {
        const admin = new pg.Client({ connectionString: POSTGRES })
        await admin.connect()
        const names = [`aura_bench_import_${process.pid}`, `aura_bench_copy_${process.pid}`]
        const urls = names.map((n) => {
          const u = new URL(POSTGRES)
          u.pathname = `/${n}`
          return u.toString()
        })
        try {
          for (const n of names) await admin.query(`create database ${n}`)
          for (const u of urls) await migrated(u)
          const postgres = importInChild(urls[0]!, legacy)
          const copyMs = copyBaseline(urls[0]!, urls[1]!, dir, TABLES)
          console.log(
            `postgres ${projects} projects, ${mb.toFixed(0)} MB: import ${postgres.ms.toFixed(0)} ms (CPU ${postgres.cpuMs.toFixed(0)} ms), COPY ${copyMs.toFixed(0)} ms, ` +
              `ratio ${(postgres.ms / copyMs).toFixed(2)}; peak RSS ${postgres.peakRssMb.toFixed(0)} MB (${(postgres.peakRssMb / mb).toFixed(2)}× the file)\n` +
              `         phases (ms): ${phasesOf(postgres)}`,
          )
        } finally {
          for (const n of names) await admin.query(`drop database if exists ${n} with (force)`)
          await admin.end()
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

await main()
