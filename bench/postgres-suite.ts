/**
 * The PostgreSQL benchmark: the same operations through the library and through hand-written
 * `pg` code executing the same SQL, in a scratch database that is dropped afterwards. The
 * numbers are absolute (the ratio targets are SQLite's); raw `pg` is the reference.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import pg from 'pg'
import { openDatabase } from '../src/index.js'
import { runOperation, type DialectResults, type OperationResult } from './compare.js'
import {
  generateDataset,
  type DataRow,
  type DatasetIndex,
  type DatasetSize,
  type TableBatches,
} from './dataset.js'
import type { MeasureOptions } from './harness.js'
import { libraryOperations, pick, PROJECT_STATUSES, sceneText, type BenchOperation } from './operations.js'
import { capturePostgres } from './sql-capture.js'
import { numbered, SQL } from './statements.js'

const ACTOR = 'bench'

/** The server the benchmark uses: `AURA_BENCH_POSTGRES_URL`, else the tests' server. */
export function postgresAdminUrl(): string {
  return (
    process.env.AURA_BENCH_POSTGRES_URL ||
    process.env.AURA_TEST_POSTGRES_URL ||
    'postgres://postgres@127.0.0.1:5432/postgres'
  )
}

/**
 * Runs the PostgreSQL suite in a scratch database, or reports it skipped when the server is not
 * reachable. The scratch database is dropped whatever happens.
 */
export async function runPostgres(
  size: DatasetSize,
  timing: MeasureOptions,
  log: (message: string) => void,
  description: string,
): Promise<DialectResults> {
  const adminUrl = postgresAdminUrl()
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3_000 })
  try {
    await admin.connect()
  } catch (error) {
    return { dialect: 'postgres', skipped: `not reachable: ${(error as Error).message}`, operations: [] }
  }
  const name = `aura_bench_${randomBytes(6).toString('hex')}`
  await admin.query(`create database ${name}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  try {
    const dataset = generateDataset(size)
    const started = performance.now()
    await buildPostgresDatabase(url.toString(), dataset.tables)
    log(`postgres: built ${description} in ${((performance.now() - started) / 1000).toFixed(1)} s`)
    const db = await openDatabase({ url: url.toString(), actor: ACTOR })
    await db.ready()
    const pool = new pg.Pool({ connectionString: url.toString(), max: 10 })
    const operations: OperationResult[] = []
    try {
      const reference = rawOperations(pool, dataset.index)
      for (const op of libraryOperations({ db, index: dataset.index })) {
        const raw = reference[op.name]
        if (!raw) throw new Error(`bench/postgres-suite.ts has no raw reference for "${op.name}"`)
        const paired: BenchOperation = { ...op, raw }
        const result = await runOperation(paired, capturePostgres, timing, false)
        operations.push(result)
        log(
          `postgres: ${result.operation}: ${Math.round(result.library.opsPerSec)} ops/s (raw ${Math.round(result.raw.opsPerSec)})`,
        )
      }
    } finally {
      await pool.end()
      await db.close()
    }
    return { dialect: 'postgres', operations }
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`)
    await admin.end()
  }
}

/** Migrates with the library, then loads the data set with multi-row inserts and analyzes it. */
async function buildPostgresDatabase(url: string, tables: readonly TableBatches[]): Promise<void> {
  const db = await openDatabase({ url, migrate: true })
  await db.close()
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    for (const table of tables) {
      const columns = table.columns.map((c) => `"${c}"`).join(', ')
      for (const batch of table.batches()) {
        // At most 65,535 parameters per statement: insert in chunks that stay below it.
        const perChunk = Math.floor(60_000 / table.columns.length)
        for (let at = 0; at < batch.length; at += perChunk) {
          const rows = batch.slice(at, at + perChunk)
          const values: unknown[] = []
          const tuples = rows.map((row: DataRow) => {
            const start = values.length
            for (const c of table.columns) values.push(row[c] ?? null)
            return `(${table.columns.map((_, i) => `$${start + i + 1}`).join(', ')})`
          })
          await client.query(`insert into "${table.table}" (${columns}) values ${tuples.join(', ')}`, values)
        }
      }
    }
    await client.query('analyze')
  } finally {
    await client.end()
  }
}

type RawFn = (i: number) => Promise<unknown>

/** The raw `pg` references, by operation name: the library's statements, written by hand. */
function rawOperations(pool: pg.Pool, index: DatasetIndex): Record<string, RawFn> {
  const q = Object.fromEntries(Object.entries(SQL).map(([k, v]) => [k, numbered(v)])) as Record<
    keyof typeof SQL,
    string
  >
  /** One unit on one pooled connection: BEGIN, the work, COMMIT; ROLLBACK if the work throws. */
  const unit = async <T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    const client = await pool.connect()
    try {
      await client.query('begin')
      const result = await work(client)
      await client.query('commit')
      return result
    } catch (error) {
      await client.query('rollback')
      throw error
    } finally {
      client.release()
    }
  }
  const writable = async (client: pg.PoolClient, id: string, rowVersion: number) => {
    const row = (await client.query(q.currentProject, [id])).rows[0] as Record<string, unknown> | undefined
    if (!row || row.is_deleted === true) throw new Error(`project ${id} not found`)
    if (row.row_version !== rowVersion) throw new Error(`project ${id} changed`)
    return row
  }
  const { projectIds, updateTargets, deleteTargets } = index
  const versions = new Map<string, number>()
  return {
    'project by id': async (i) =>
      (await pool.query(q.projectById, [projectIds[pick(i, projectIds.length)], false])).rows[0],
    'projects by status (page of 50)': async (i) =>
      (await pool.query(q.projectsByStatus, [PROJECT_STATUSES[i % PROJECT_STATUSES.length], false])).rows,
    'scenes of a project': async (i) =>
      (await pool.query(q.scenesOfProject, [projectIds[pick(i, projectIds.length)], false])).rows,
    'count by status': async (i) =>
      (await pool.query(q.countByStatus, [PROJECT_STATUSES[i % PROJECT_STATUSES.length], false])).rows[0],
    'add project + 10 scenes': (i) =>
      unit(async (client) => {
        const now = new Date()
        const correlationId = randomUUID()
        const project = (
          await client.query(q.insertProject, [
            `Raw project ${i}`,
            'Added by the benchmark',
            'Draft',
            '{"topic":"benchmark"}',
            randomUUID(),
            now,
            now,
            ACTOR,
            ACTOR,
            1,
            false,
          ])
        ).rows[0] as { id: string }
        await client.query(q.insertAudit, [
          now,
          ACTOR,
          'project_states',
          project.id,
          'insert',
          null,
          correlationId,
        ])
        for (let s = 0; s < 10; s++) {
          const scene = (
            await client.query(q.insertScene, [
              project.id,
              s,
              sceneText(s),
              randomUUID(),
              now,
              now,
              ACTOR,
              ACTOR,
              1,
            ])
          ).rows[0] as { id: string }
          await client.query(q.insertAudit, [
            now,
            ACTOR,
            'scene_states',
            scene.id,
            'insert',
            null,
            correlationId,
          ])
        }
      }),
    'update with version check': async (i) => {
      const id = updateTargets.raw[i % updateTargets.raw.length]!
      const title = `Raw edit ${i}`
      const updated = await unit(async (client) => {
        const row = await writable(client, id, versions.get(id) ?? 1)
        const now = new Date()
        const result = (await client.query(q.updateTitle, [title, now, ACTOR, id, row.row_version]))
          .rows[0] as { row_version: number } | undefined
        if (!result) throw new Error(`project ${id} changed`)
        await client.query(q.insertAudit, [
          now,
          ACTOR,
          'project_states',
          id,
          'update',
          JSON.stringify({ title: [row.title, title] }),
          null,
        ])
        return result
      })
      versions.set(id, updated.row_version)
    },
    'soft delete with version check': (i) => {
      const id = deleteTargets.raw[i]!
      return unit(async (client) => {
        const row = await writable(client, id, 1)
        const now = new Date()
        const result = (await client.query(q.softDelete, [true, now, ACTOR, now, ACTOR, id, row.row_version]))
          .rows[0]
        if (!result) throw new Error(`project ${id} changed`)
        await client.query(q.insertAudit, [now, ACTOR, 'project_states', id, 'soft_delete', null, null])
      })
    },
  }
}
