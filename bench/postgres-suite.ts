/**
 * The PostgreSQL benchmark: the same operations through the library, through hand-written `pg`
 * code executing the same SQL as named prepared statements (the limit), and through plain
 * Kysely (the peer, bench/kysely-peer.ts), in a scratch database that is dropped afterwards.
 * The numbers are absolute (the ratio targets are SQLite's).
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { openDatabase } from '../src/index.js'
import { progressLine, runOperation, type DialectResults, type OperationResult } from './compare.js'
import {
  generateDataset,
  type DataRow,
  type DatasetIndex,
  type DatasetSize,
  type TableBatches,
} from './dataset.js'
import type { MeasureOptions } from './harness.js'
import { kyselyOperations } from './kysely-peer.js'
import {
  exportQueryOf,
  libraryOperations,
  pick,
  prepareRestoreTargets,
  prepareVersionTargets,
  PROJECT_STATUSES,
  restoreOf,
  sceneText,
  templateSearchOf,
  type BenchOperation,
  type RestoreTarget,
} from './operations.js'
import {
  HASH_COLUMNS,
  PARTS,
  rawTimeline,
  SCENE_COLUMNS,
  sha256,
  SPEC_COLUMNS,
  type SqlRow,
} from './raw-versions.js'
import { capturePostgres } from './sql-capture.js'
import {
  blobsIn,
  exportHistoryQuery,
  numbered,
  POSTGRES,
  postgresStatement,
  SQL,
  updateColumns,
} from './statements.js'

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
    // Pipeline mode, as the library's pool: a transaction sends its audit entries with its next
    // statement or COMMIT (RawTransaction.later), as the library does.
    const pool = new pg.Pool({ connectionString: url.toString(), max: 10, pipeline: true })
    const kysely = new Kysely<any>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url.toString(), max: 10 }) }),
    })
    const operations: OperationResult[] = []
    try {
      const restoreTargets = await prepareRestoreTargets(db, dataset.index.restoreTargets.library)
      const rawRestoreTargets = await prepareRestoreTargets(db, dataset.index.restoreTargets.raw)
      const { versionTargets } = dataset.index
      await prepareVersionTargets(db, [...versionTargets.library, ...versionTargets.raw])
      const reference = rawOperations(pool, dataset.index, rawRestoreTargets)
      const peers = kyselyOperations(kysely, 'postgres', dataset.index)
      for (const op of libraryOperations({ db, index: dataset.index, restoreTargets })) {
        const raw = reference[op.name]
        if (!raw) throw new Error(`bench/postgres-suite.ts has no raw reference for "${op.name}"`)
        const peer = peers[op.name]
        const paired: BenchOperation = { ...op, raw, ...(peer ? { kysely: peer } : {}) }
        const result = await runOperation(paired, capturePostgres, timing, false, async ({ sql, values }) =>
          (await pool.query(`explain ${sql}`, [...values])).rows.map(
            (row: { 'QUERY PLAN': string }) => row['QUERY PLAN'],
          ),
        )
        operations.push(result)
        log(progressLine('postgres', result))
      }
    } finally {
      await kysely.destroy()
      await pool.end()
      await db.close()
    }
    return { dialect: 'postgres', operations }
  } finally {
    await waitForDisconnects(admin, name)
    await admin.query(`drop database if exists ${name} with (force)`)
    await admin.end()
  }
}

/**
 * Waits (up to 5 s) until no session is connected to `database`. pg's `Pool#end()` resolves
 * once it has asked its connections to close, not when they are closed; a forced DROP DATABASE
 * meanwhile terminates them, and a pool without an 'error' listener then throws from an event.
 */
async function waitForDisconnects(admin: pg.Client, database: string): Promise<void> {
  for (let waited = 0; waited < 5_000; waited += 50) {
    const { rows } = await admin.query('select count(*)::int as n from pg_stat_activity where datname = $1', [
      database,
    ])
    if ((rows[0] as { n: number }).n === 0) return
    await new Promise((resolve) => setTimeout(resolve, 50))
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

const statementNames = new Map<string, string>()

/**
 * The query as a named prepared statement: pg parses and plans a named statement once per
 * connection and then only binds and executes it, which is the fastest a hand-written data
 * layer on pg gets (the limit the library is measured against).
 */
function named(text: string, values: readonly unknown[]): pg.QueryConfig {
  let name = statementNames.get(text)
  if (!name) statementNames.set(text, (name = `bench_${statementNames.size}`))
  return { name, text, values: [...values] }
}

/** The raw `pg` references, by operation name: the library's statements, written by hand. */
function rawOperations(
  pool: pg.Pool,
  index: DatasetIndex,
  restoreTargets: readonly RestoreTarget[],
): Record<string, RawFn> {
  const q = Object.fromEntries(Object.entries(SQL).map(([k, v]) => [k, postgresStatement(v)])) as Record<
    keyof typeof SQL,
    string
  >
  /** One unit on one pooled connection: BEGIN, the work, COMMIT; ROLLBACK if the work throws. */
  const unit = async <T>(work: (trx: RawTransaction) => Promise<T>): Promise<T> => {
    const client = await pool.connect()
    try {
      await client.query('begin')
      const trx = new RawTransaction(client)
      const result = await work(trx)
      await trx.query('commit')
      return result
    } catch (error) {
      await client.query('rollback')
      throw error
    } finally {
      client.release()
    }
  }
  const writable = async (trx: RawTransaction, id: string, rowVersion: number) => {
    const row = (await trx.query(named(`${q.currentProject} for update`, [id]))).rows[0] as
      Record<string, unknown> | undefined
    if (!row || row.is_deleted === true) throw new Error(`project ${id} not found`)
    if (row.row_version !== rowVersion) throw new Error(`project ${id} changed`)
    return row
  }
  const { projectIds, updateTargets, deleteTargets, versionTargets } = index
  const versions = new Map<string, number>()
  return {
    'create version': (i) =>
      unit((trx) =>
        createVersion(trx, versionTargets.raw[i % versionTargets.raw.length]!, PQ.insertAutosave, [
          'Autosave',
        ]),
      ),
    'restore version': (i) => {
      const { projectId, versionId } = restoreOf(i, restoreTargets)
      return unit((trx) => restoreVersion(trx, projectId, versionId))
    },
    'template search': async (i) => {
      const { text, tags } = templateSearchOf(i)
      return (
        await pool.query(
          named(PG_TEMPLATE_SEARCH, [postgresTsQuery(text), `,${tags[0]},`, `,${tags[1]},`, 50]),
        )
      ).rows
    },
    'export history query': async (i) => {
      const { status, from, to } = exportQueryOf(i)
      return (
        await pool.query(
          named(postgresStatement(exportHistoryQuery(2)), [...status.flatMap((s) => [s, from, to]), 0]),
        )
      ).rows
    },
    'project by id': async (i) =>
      (await pool.query(named(q.projectById, [projectIds[pick(i, projectIds.length)], false]))).rows[0],
    'projects by status (page of 50)': async (i) =>
      (await pool.query(named(q.projectsByStatus, [PROJECT_STATUSES[i % PROJECT_STATUSES.length]]))).rows,
    'scenes of a project': async (i) =>
      (await pool.query(named(q.scenesOfProject, [projectIds[pick(i, projectIds.length)], false]))).rows,
    'count by status': async (i) =>
      (await pool.query(named(q.countByStatus, [PROJECT_STATUSES[i % PROJECT_STATUSES.length]]))).rows[0],
    'add project + 10 scenes': (i) =>
      unit(async (trx) => {
        const now = new Date()
        const correlationId = randomUUID()
        const project = (
          await trx.query(
            named(PQ.insertProject, [
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
              now,
              ACTOR,
              'project_states',
              correlationId,
            ]),
          )
        ).rows[0] as { id: string }
        const values: unknown[] = []
        for (let s = 0; s < 10; s++) {
          values.push(project.id, s, sceneText(s), randomUUID(), now, now, ACTOR, ACTOR, 1)
        }
        // The library refuses a scene of a soft-deleted project inside the insert itself.
        const scenes = await trx.query(
          named(PQ.insertScenes, [...values, true, now, ACTOR, 'scene_states', correlationId]),
        )
        if (scenes.rows.length !== 10) throw new Error(`project ${project.id} not found`)
      }),
    'update with version check': async (i) => {
      const id = updateTargets.raw[i % updateTargets.raw.length]!
      const title = `Raw edit ${i}`
      const version = versions.get(id) ?? 1
      const updated = await unit(async (trx) => {
        const now = new Date()
        const rows = (await trx.query(named(PQ.updateTitle, [id, title, now, ACTOR, version, false, title])))
          .rows as SqlRow[]
        const old = rows.find((row) => row.aura_row === 'old')
        const result = rows.find((row) => row.aura_row === 'new')
        if (!old || old.is_deleted === true) throw new Error(`project ${id} not found`)
        if (old.row_version !== version || !result) throw new Error(`project ${id} changed`)
        trx.later(
          named(PQ.audit, [
            now,
            ACTOR,
            'project_states',
            id,
            'update',
            JSON.stringify({ title: [old.title, title] }),
            null,
          ]),
        )
        return result as { row_version: number }
      })
      versions.set(id, updated.row_version)
    },
    'soft delete with version check': (i) => {
      const id = deleteTargets.raw[i]!
      return unit(async (trx) => {
        const row = await writable(trx, id, 1)
        const now = new Date()
        const result = (
          await trx.query(named(q.softDelete, [true, now, ACTOR, now, ACTOR, id, row.row_version]))
        ).rows[0]
        if (!result) throw new Error(`project ${id} changed`)
        trx.later(named(PQ.audit, [now, ACTOR, 'project_states', id, 'soft_delete', null, null]))
      })
    },
  }
}

/**
 * A transaction's connection as a hand-written data layer on pg's pipeline mode uses it, the
 * way the library does: a write whose result nothing reads (an audit entry) is sent with the
 * transaction's next statement or its COMMIT instead of costing a round trip of its own.
 */
class RawTransaction {
  #later: pg.QueryConfig[] = []

  constructor(private readonly client: pg.PoolClient) {}

  /** Sends the deferred writes, then `config` right behind them; one round trip for all. */
  async query(config: pg.QueryConfig | string): Promise<pg.QueryResult> {
    const sent = this.#later.map((later) => this.client.query(later))
    this.#later = []
    const result = this.client.query(config as pg.QueryConfig)
    // After a failed deferred write the statement fails too (the transaction is aborted).
    result.catch(() => {})
    await Promise.all(sent)
    return result
  }

  /** Queues a write for the next statement or the COMMIT. */
  later(config: pg.QueryConfig): void {
    this.#later.push(config)
  }
}

/** The library's template search on PostgreSQL: the tsvector match of the TemplateSearch migration. */
const PG_TEMPLATE_SEARCH =
  'select "templates".* from "templates" where to_tsvector(\'simple\', regexp_replace("templates"."name" || \' \' || "templates"."description", \'[^[:alnum:]]+\', \' \', \'g\')) @@ to_tsquery(\'simple\', $1) and (strpos(\',\' || translate("templates"."tags", \'ABCDEFGHIJKLMNOPQRSTUVWXYZ\', \'abcdefghijklmnopqrstuvwxyz\') || \',\', $2) > 0 or strpos(\',\' || translate("templates"."tags", \'ABCDEFGHIJKLMNOPQRSTUVWXYZ\', \'abcdefghijklmnopqrstuvwxyz\') || \',\', $3) > 0) order by "templates"."usage_count" desc, "templates"."rating" desc, "templates"."name" asc, "templates"."id" asc limit $4'

/** The tsquery of a search text, as the library builds it: the words as prefixes, all required. */
function postgresTsQuery(text: string): string {
  return (text.match(/[\p{L}\p{N}\p{M}]+/gu) ?? []).map((w) => `${w}:*`).join(' & ')
}

/** The version statements in PostgreSQL's form, with the row locks the library takes there. */
const PQ = {
  lockProject: `${numbered(SQL.lockProject)} for no key update`,
  scenes: numbered(SQL.scenesInOrder),
  blobExists: `${numbered(SQL.blobExists)} for key share`,
  insertBlob: numbered(SQL.insertBlob),
  maxVersion: numbered(SQL.maxVersionNumber),
  addReference: numbered(SQL.addReference),
  currentVersion: `${numbered(SQL.currentVersion)} for update`,
  audit: numbered(SQL.insertAudit),
  insertProject: POSTGRES.insertWithAudit(postgresStatement(SQL.insertProject), 11),
  insertScenes: POSTGRES.insertWithAudit(POSTGRES.insertScenes(10), 91),
  updateTitle: POSTGRES.readAndUpdate('project_states', ['title'], true, true),
  updateSpecs: POSTGRES.readAndUpdate('project_states', Object.values(SPEC_COLUMNS), false, true),
  insertAutosave: POSTGRES.insertWithAudit(numbered(SQL.insertAutosave), 18),
  insertRestorePoint: POSTGRES.insertWithAudit(numbered(SQL.insertRestorePoint), 20),
}

async function one(trx: RawTransaction, text: string, values: unknown[]): Promise<SqlRow | undefined> {
  return (await trx.query(named(text, values))).rows[0] as SqlRow | undefined
}

async function liveProject(trx: RawTransaction, projectId: string): Promise<SqlRow> {
  const project = await one(trx, PQ.lockProject, [projectId])
  if (!project || project.is_deleted === true) throw new Error(`project ${projectId} not found`)
  return project
}

/** Snapshots the project in the caller's transaction, as the library does (see the SQLite twin). */
async function createVersion(
  trx: RawTransaction,
  projectId: string,
  insert: string,
  meta: readonly unknown[],
): Promise<SqlRow> {
  const now = new Date()
  const project = await liveProject(trx, projectId)
  const scenes = (await trx.query(named(PQ.scenes, [projectId]))).rows as SqlRow[]
  const hashes: (string | null)[] = []
  const stored: { hash: string; content: string; type: string }[] = []
  for (const part of PARTS) {
    const content =
      part.column === null ? rawTimeline(scenes, (v) => v === true) : (project[part.column] as string | null)
    if (content === null) {
      hashes.push(null)
      continue
    }
    const hash = sha256(content)
    hashes.push(hash)
    stored.push({ hash, content, type: part.type })
  }
  stored.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0))
  let size = 0
  for (const blob of stored) {
    const bytes = Buffer.byteLength(blob.content, 'utf8')
    size += bytes
    if (await one(trx, PQ.blobExists, [blob.hash])) continue
    const inserted = await one(trx, PQ.insertBlob, [
      blob.hash,
      blob.content,
      blob.type,
      bytes,
      0,
      now,
      now,
      now,
      ACTOR,
      ACTOR,
    ])
    if (inserted) trx.later(named(PQ.audit, [now, ACTOR, 'content_blobs', blob.hash, 'insert', null, null]))
  }
  const max = (await one(trx, PQ.maxVersion, [projectId]))!
  const version = (await one(trx, insert, [
    ...meta,
    projectId,
    Number(max.n ?? 0) + 1,
    ...hashes,
    size,
    randomUUID(),
    now,
    now,
    ACTOR,
    ACTOR,
    1,
    false,
    // The library refuses a version of a soft-deleted project inside the insert itself.
    projectId,
    true,
    // The version's audit entry, written by the insert itself.
    now,
    ACTOR,
    'project_versions',
    null,
  ]))!
  const counts = new Map<string, number>()
  for (const blob of stored) counts.set(blob.hash, (counts.get(blob.hash) ?? 0) + 1)
  for (const [hash, by] of counts) await trx.query(named(PQ.addReference, [by, now, hash]))
  return version
}

/** Restores the project to a version in the caller's transaction (field changes of existing scenes only). */
async function restoreVersion(trx: RawTransaction, projectId: string, versionId: string): Promise<SqlRow[]> {
  const now = new Date()
  await liveProject(trx, projectId)
  const version = await one(trx, PQ.currentVersion, [versionId])
  if (!version || version.is_deleted === true || version.project_id !== projectId) {
    throw new Error(`version ${versionId} not found`)
  }
  const hashes = HASH_COLUMNS.map((c) => version[c] as string | null)
  const wanted = [...new Set(hashes.filter((h): h is string => h !== null))]
  const content = new Map<string, string>()
  for (const blob of (await trx.query(named(numbered(blobsIn(wanted.length)), wanted))).rows as SqlRow[]) {
    if (sha256(blob.content as string) !== blob.content_hash) throw new Error('damaged blob')
    content.set(blob.content_hash as string, blob.content as string)
  }
  const [brief, plan, voice, render, timelineJson] = hashes.map((h) => (h === null ? null : content.get(h)!))
  const timeline = JSON.parse(timelineJson!) as SqlRow[]
  await createVersion(trx, projectId, PQ.insertRestorePoint, [
    'RestorePoint',
    `Before restoring version ${String(version.version_number)}`,
    'Restore',
  ])

  // One statement reads and locks the project and writes the specs that differ.
  const specs = [brief, plan, voice, render]
  const rows = (await trx.query(named(PQ.updateSpecs, [projectId, ...specs, now, ACTOR, false, ...specs])))
    .rows as SqlRow[]
  const project = rows.find((row) => row.aura_row === 'old')!
  const changed = Object.entries(SPEC_COLUMNS)
    .map(([field, column], i) => [field, project[column], specs[i]] as const)
    .filter(([, from, to]) => from !== to)
  if (rows.some((row) => row.aura_row === 'new')) {
    const changes = Object.fromEntries(changed.map(([field, from, to]) => [field, [from, to]]))
    trx.later(
      named(PQ.audit, [now, ACTOR, 'project_states', projectId, 'update', JSON.stringify(changes), null]),
    )
  }

  const current = new Map(
    ((await trx.query(named(PQ.scenes, [projectId]))).rows as SqlRow[]).map((s) => [s.id, s]),
  )
  if (current.size !== timeline.length) throw new Error('the raw restore supports field changes only')
  for (const target of timeline) {
    const before = current.get(target.id)
    if (!before || before.scene_index !== target.sceneIndex) {
      throw new Error('the raw restore supports field changes only')
    }
    const diff = Object.entries(SCENE_COLUMNS).filter(([field, column]) => before[column] !== target[field])
    if (diff.length === 0) continue
    await trx.query(
      named(
        numbered(
          updateColumns(
            'scene_states',
            diff.map(([, c]) => c),
            true,
          ),
        ),
        [...diff.map(([f]) => target[f]), now, ACTOR, target.id, before.row_version],
      ),
    )
    const changes = Object.fromEntries(diff.map(([f, c]) => [f, [before[c], target[f]]]))
    trx.later(
      named(PQ.audit, [now, ACTOR, 'scene_states', target.id, 'update', JSON.stringify(changes), null]),
    )
  }
  return (await trx.query(named(PQ.scenes, [projectId]))).rows as SqlRow[]
}
