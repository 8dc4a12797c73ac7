/**
 * The SQLite benchmark: each operation through the library and through hand-written
 * better-sqlite3 prepared statements executing the same SQL (audit rows included), on one
 * database file, in WAL mode with the library's pragmas on both connections.
 */
import { randomUUID } from 'node:crypto'
import Database from 'better-sqlite3'
import { openDatabase, type AuraDatabase } from '../src/index.js'
import type { DataRow, DatasetIndex, TableBatches } from './dataset.js'
import type { BenchOperation, SuiteContext } from './operations.js'
import { libraryOperations, pick, PROJECT_STATUSES, sceneText } from './operations.js'
import { SQL } from './statements.js'

/** The pragmas `openSqliteFile` sets; the raw connection uses the same. */
const PRAGMAS = ['journal_mode = WAL', 'synchronous = FULL', 'foreign_keys = ON']

/** Creates the schema with the library's migrations, then loads the data set through raw statements. */
export async function buildSqliteDatabase(file: string, tables: readonly TableBatches[]): Promise<void> {
  const db = await openDatabase({ url: `sqlite:${file}`, migrate: true })
  await db.close()
  const raw = openRaw(file)
  try {
    for (const table of tables) {
      const insert = raw.prepare(
        `insert into "${table.table}" (${table.columns.map((c) => `"${c}"`).join(', ')}) values (${table.columns
          .map(() => '?')
          .join(', ')})`,
      )
      const load = raw.transaction((rows: DataRow[]) => {
        for (const row of rows) insert.run(table.columns.map((c) => sqliteValue(row[c])))
      })
      for (const batch of table.batches()) load(batch)
    }
    raw.pragma('wal_checkpoint(TRUNCATE)')
  } finally {
    raw.close()
  }
}

function sqliteValue(value: DataRow[string] | undefined): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0
  return value ?? null
}

/** A better-sqlite3 connection configured as the library configures its own. */
export function openRaw(file: string): Database.Database {
  const raw = new Database(file, { timeout: 5_000 })
  for (const pragma of PRAGMAS) raw.pragma(pragma)
  return raw
}

/** The open library database and raw connection of a SQLite run, and the operations over them. */
export interface SqliteSuite {
  readonly db: AuraDatabase
  readonly raw: Database.Database
  readonly operations: BenchOperation[]
  close(): Promise<void>
}

const ACTOR = 'bench'

/** Opens both sides on `file` and pairs each library operation with its raw reference. */
export async function openSqliteSuite(file: string, index: DatasetIndex): Promise<SqliteSuite> {
  const db = await openDatabase({ url: `sqlite:${file}`, actor: ACTOR })
  await db.ready()
  const raw = openRaw(file)
  const context: SuiteContext = { db, index }
  const library = libraryOperations(context)
  const reference = rawOperations(raw, index)
  const operations: BenchOperation[] = []
  for (const op of library) {
    const rawFn = reference[op.name]
    if (!rawFn) throw new Error(`bench/sqlite-suite.ts has no raw reference for "${op.name}"`)
    operations.push({ ...op, raw: rawFn })
  }
  return {
    db,
    raw,
    operations,
    async close() {
      raw.close()
      await db.close()
    },
  }
}

type RawFn = (i: number) => unknown

/**
 * The raw references, by operation name: what a careful hand-written data layer on
 * better-sqlite3 does for the same task, statement for statement.
 */
function rawOperations(raw: Database.Database, index: DatasetIndex): Record<string, RawFn> {
  const begin = raw.prepare('begin immediate')
  const commit = raw.prepare('commit')
  const rollback = raw.prepare('rollback')
  /** One unit: BEGIN IMMEDIATE, the work, COMMIT; ROLLBACK if the work throws. */
  const unit = <T>(work: () => T): T => {
    begin.run()
    try {
      const result = work()
      commit.run()
      return result
    } catch (error) {
      if (raw.inTransaction) rollback.run()
      throw error
    }
  }
  const insertAudit = raw.prepare(SQL.insertAudit)

  const projectById = raw.prepare(SQL.projectById)
  const projectsByStatus = raw.prepare(SQL.projectsByStatus)
  const scenesOfProject = raw.prepare(SQL.scenesOfProject)
  const countByStatus = raw.prepare(SQL.countByStatus)
  const insertProject = raw.prepare(SQL.insertProject)
  const insertScene = raw.prepare(SQL.insertScene)
  const currentProject = raw.prepare(SQL.currentProject)
  const updateTitle = raw.prepare(SQL.updateTitle)
  const softDelete = raw.prepare(SQL.softDelete)

  /** The current row of a project inside the unit, refused when missing, deleted or changed. */
  const writable = (id: string, rowVersion: number) => {
    const row = currentProject.get(id) as Record<string, unknown> | undefined
    if (!row || row.is_deleted === 1) throw new Error(`project ${id} not found`)
    if (row.row_version !== rowVersion) throw new Error(`project ${id} changed`)
    return row
  }

  const { projectIds, updateTargets, deleteTargets } = index
  const versions = new Map<string, number>()

  return {
    'project by id': (i) => projectById.get(projectIds[pick(i, projectIds.length)], 0),
    'projects by status (page of 50)': (i) =>
      projectsByStatus.all(PROJECT_STATUSES[i % PROJECT_STATUSES.length], 0),
    'scenes of a project': (i) => scenesOfProject.all(projectIds[pick(i, projectIds.length)], 0),
    'count by status': (i) => countByStatus.get(PROJECT_STATUSES[i % PROJECT_STATUSES.length], 0),
    'add project + 10 scenes': (i) =>
      unit(() => {
        const now = new Date().toISOString()
        const correlationId = randomUUID()
        const project = insertProject.get(
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
          0,
        ) as { id: string }
        insertAudit.run(now, ACTOR, 'project_states', project.id, 'insert', null, correlationId)
        for (let s = 0; s < 10; s++) {
          const scene = insertScene.get(
            project.id,
            s,
            sceneText(s),
            randomUUID(),
            now,
            now,
            ACTOR,
            ACTOR,
            1,
          ) as {
            id: string
          }
          insertAudit.run(now, ACTOR, 'scene_states', scene.id, 'insert', null, correlationId)
        }
      }),
    'update with version check': (i) => {
      const id = updateTargets.raw[i % updateTargets.raw.length]!
      const title = `Raw edit ${i}`
      const updated = unit(() => {
        const row = writable(id, versions.get(id) ?? 1)
        const now = new Date().toISOString()
        const result = updateTitle.get(title, now, ACTOR, id, row.row_version) as
          { row_version: number } | undefined
        if (!result) throw new Error(`project ${id} changed`)
        insertAudit.run(
          now,
          ACTOR,
          'project_states',
          id,
          'update',
          JSON.stringify({ title: [row.title, title] }),
          null,
        )
        return result
      })
      versions.set(id, updated.row_version)
    },
    'soft delete with version check': (i) => {
      const id = deleteTargets.raw[i]!
      unit(() => {
        const row = writable(id, 1)
        const now = new Date().toISOString()
        const result = softDelete.get(1, now, ACTOR, now, ACTOR, id, row.row_version)
        if (!result) throw new Error(`project ${id} changed`)
        insertAudit.run(now, ACTOR, 'project_states', id, 'soft_delete', null, null)
      })
    },
  }
}
