/**
 * The SQLite benchmark: each operation through the library and through hand-written
 * better-sqlite3 prepared statements executing the same SQL (audit rows included), on one
 * database file, in WAL mode with the library's pragmas on both connections.
 */
import { randomUUID } from 'node:crypto'
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { openDatabase, type AuraDatabase } from '../src/index.js'
import type { DataRow, DatasetIndex, TableBatches } from './dataset.js'
import { kyselyOperations } from './kysely-peer.js'
import type { BenchOperation, SuiteContext } from './operations.js'
import {
  libraryOperations,
  pick,
  exportQueryOf,
  prepareRestoreTargets,
  prepareVersionTargets,
  PROJECT_STATUSES,
  restoreOf,
  templateSearchOf,
  sceneText,
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
import { blobsIn, exportHistoryQuery, SQL, updateColumns } from './statements.js'

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

/** The open library database, raw connection and Kysely peer of a SQLite run, and the operations over them. */
export interface SqliteSuite {
  readonly db: AuraDatabase
  readonly raw: Database.Database
  readonly kysely: Kysely<any>
  readonly operations: BenchOperation[]
  close(): Promise<void>
}

const ACTOR = 'bench'

/**
 * Opens the three sides on `file` (the peer on a connection of its own, configured as the raw
 * one) and pairs each library operation with its raw reference and its peer.
 */
export async function openSqliteSuite(file: string, index: DatasetIndex): Promise<SqliteSuite> {
  const db = await openDatabase({ url: `sqlite:${file}`, actor: ACTOR })
  await db.ready()
  const raw = openRaw(file)
  const context: SuiteContext = {
    db,
    index,
    restoreTargets: await prepareRestoreTargets(db, index.restoreTargets.library),
  }
  const rawRestoreTargets = await prepareRestoreTargets(db, index.restoreTargets.raw)
  await prepareVersionTargets(db, [...index.versionTargets.library, ...index.versionTargets.raw])
  const kysely = new Kysely<any>({ dialect: new SqliteDialect({ database: openRaw(file) }) })
  const library = libraryOperations(context)
  const reference = rawOperations(raw, index, rawRestoreTargets)
  const peers = kyselyOperations(kysely, 'sqlite', index)
  const operations: BenchOperation[] = []
  for (const op of library) {
    const rawFn = reference[op.name]
    if (!rawFn) throw new Error(`bench/sqlite-suite.ts has no raw reference for "${op.name}"`)
    const peer = peers[op.name]
    operations.push({ ...op, raw: rawFn, ...(peer ? { kysely: peer } : {}) })
  }
  return {
    db,
    raw,
    kysely,
    operations,
    async close() {
      await kysely.destroy()
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
function rawOperations(
  raw: Database.Database,
  index: DatasetIndex,
  restoreTargets: readonly RestoreTarget[],
): Record<string, RawFn> {
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

  const templateSearch = raw.prepare(SQL.templateSearch)
  const exportHistory = raw.prepare(exportHistoryQuery(2))
  const versions_ = new RawVersions(raw, () => new Date().toISOString())
  const autosave = { statement: raw.prepare(SQL.insertAutosave), meta: ['Autosave'] }

  const { projectIds, updateTargets, deleteTargets, versionTargets } = index
  const versions = new Map<string, number>()

  return {
    'project by id': (i) => projectById.get(projectIds[pick(i, projectIds.length)], 0),
    'projects by status (page of 50)': (i) =>
      projectsByStatus.all(PROJECT_STATUSES[i % PROJECT_STATUSES.length]),
    'scenes of a project': (i) => scenesOfProject.all(projectIds[pick(i, projectIds.length)], 0),
    'count by status': (i) => countByStatus.get(PROJECT_STATUSES[i % PROJECT_STATUSES.length]),
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
            // The library refuses a child of a soft-deleted project inside the insert itself.
            project.id,
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
    'create version': (i) =>
      unit(() => {
        versions_.create(versionTargets.raw[i % versionTargets.raw.length]!, autosave)
      }),
    'restore version': (i) => {
      const { projectId, versionId } = restoreOf(i, restoreTargets)
      return unit(() => versions_.restore(projectId, versionId))
    },
    'template search': (i) => {
      const { text, tags } = templateSearchOf(i)
      return templateSearch.all(sqliteFtsQuery(text), `,${tags[0]},`, `,${tags[1]},`, 50)
    },
    'export history query': (i) => {
      const { status, from, to } = exportQueryOf(i)
      const range = [from.toISOString(), to.toISOString()]
      return exportHistory.all(...status.flatMap((s) => [s, ...range]), 0)
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

/**
 * Versions by hand on better-sqlite3, inside the caller's transaction: the content-addressed
 * snapshot (blobs stored once, reference counts) and the restore of one, statement for
 * statement as the library does them.
 */
class RawVersions {
  readonly #raw: Database.Database
  readonly #now: () => string
  readonly #s: Record<string, Database.Statement>
  readonly #prepared = new Map<string, Database.Statement>()
  readonly #restorePoint: { statement: Database.Statement; meta: string[] }

  constructor(raw: Database.Database, now: () => string) {
    this.#raw = raw
    this.#now = now
    this.#s = {
      lockProject: raw.prepare(SQL.lockProject),
      scenes: raw.prepare(SQL.scenesInOrder),
      blobExists: raw.prepare(SQL.blobExists),
      insertBlob: raw.prepare(SQL.insertBlob),
      maxVersion: raw.prepare(SQL.maxVersionNumber),
      addReference: raw.prepare(SQL.addReference),
      currentVersion: raw.prepare(SQL.currentVersion),
      currentProject: raw.prepare(SQL.currentProject),
      audit: raw.prepare(SQL.insertAudit),
    }
    this.#restorePoint = { statement: raw.prepare(SQL.insertRestorePoint), meta: [] }
  }

  /** A statement built at run time (its text depends on which columns changed), prepared once. */
  #statement(sql: string): Database.Statement {
    let stmt = this.#prepared.get(sql)
    if (!stmt) this.#prepared.set(sql, (stmt = this.#raw.prepare(sql)))
    return stmt
  }

  #liveProject(projectId: string): SqlRow {
    const project = this.#s.lockProject!.get(projectId) as SqlRow | undefined
    if (!project || project.is_deleted === 1) throw new Error(`project ${projectId} not found`)
    return project
  }

  /** Snapshots the project: blobs stored when new, the version row, one reference per hash. */
  create(projectId: string, insert: { statement: Database.Statement; meta: readonly unknown[] }): SqlRow {
    const now = this.#now()
    const project = this.#liveProject(projectId)
    const scenes = this.#s.scenes!.all(projectId) as SqlRow[]
    const hashes: (string | null)[] = []
    const stored: { hash: string; content: string; type: string }[] = []
    for (const part of PARTS) {
      const content =
        part.column === null ? rawTimeline(scenes, (v) => v === 1) : (project[part.column] as string | null)
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
      size += Buffer.byteLength(blob.content, 'utf8')
      if (this.#s.blobExists!.get(blob.hash)) continue
      const bytes = Buffer.byteLength(blob.content, 'utf8')
      const inserted = this.#s.insertBlob!.get(
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
      )
      if (inserted) this.#s.audit!.run(now, ACTOR, 'content_blobs', blob.hash, 'insert', null, null)
    }
    const max = this.#s.maxVersion!.get(projectId) as { n: number | null }
    const version = insert.statement.get(
      ...insert.meta,
      projectId,
      (max.n ?? 0) + 1,
      ...hashes,
      size,
      randomUUID(),
      now,
      now,
      ACTOR,
      ACTOR,
      1,
      0,
      // The library refuses a version of a soft-deleted project inside the insert itself.
      projectId,
      1,
    ) as SqlRow
    this.#s.audit!.run(now, ACTOR, 'project_versions', version.id, 'insert', null, null)
    const counts = new Map<string, number>()
    for (const blob of stored) counts.set(blob.hash, (counts.get(blob.hash) ?? 0) + 1)
    for (const [hash, by] of counts) this.#s.addReference!.run(by, now, hash)
    return version
  }

  /**
   * Restores the project to a version: its specs and the scenes of its timeline. Only the
   * changes this benchmark makes are supported (fields of existing scenes); others throw.
   */
  restore(projectId: string, versionId: string): SqlRow[] {
    const now = this.#now()
    this.#liveProject(projectId)
    const version = this.#s.currentVersion!.get(versionId) as SqlRow | undefined
    if (!version || version.is_deleted === 1 || version.project_id !== projectId) {
      throw new Error(`version ${versionId} not found`)
    }
    const hashes = HASH_COLUMNS.map((c) => version[c] as string | null)
    const wanted = [...new Set(hashes.filter((h): h is string => h !== null))]
    const content = new Map<string, string>()
    for (const blob of this.#statement(blobsIn(wanted.length)).all(...wanted) as SqlRow[]) {
      if (sha256(blob.content as string) !== blob.content_hash) throw new Error('damaged blob')
      content.set(blob.content_hash as string, blob.content as string)
    }
    const [brief, plan, voice, render, timelineHash] = hashes.map((h) =>
      h === null ? null : content.get(h)!,
    )
    const timeline = JSON.parse(timelineHash!) as SqlRow[]
    this.create(projectId, {
      statement: this.#restorePoint.statement,
      meta: ['RestorePoint', `Before restoring version ${String(version.version_number)}`, 'Restore'],
    })

    const project = this.#s.currentProject!.get(projectId) as SqlRow
    const specs = { briefJson: brief, planSpecJson: plan, voiceSpecJson: voice, renderSpecJson: render }
    const columns = SPEC_COLUMNS
    const changed = Object.entries(specs).filter(([field, value]) => project[columns[field]!] !== value)
    if (changed.length > 0) {
      this.#statement(
        updateColumns(
          'project_states',
          changed.map(([f]) => columns[f]!),
          false,
        ),
      ).get(...changed.map(([, v]) => v), now, ACTOR, projectId)
      const changes = Object.fromEntries(changed.map(([f, v]) => [f, [project[columns[f]!], v]]))
      this.#s.audit!.run(now, ACTOR, 'project_states', projectId, 'update', JSON.stringify(changes), null)
    }

    const current = new Map((this.#s.scenes!.all(projectId) as SqlRow[]).map((s) => [s.id, s]))
    if (current.size !== timeline.length) throw new Error('the raw restore supports field changes only')
    const sceneColumns = SCENE_COLUMNS
    for (const target of timeline) {
      const before = current.get(target.id)
      if (!before || before.scene_index !== target.sceneIndex) {
        throw new Error('the raw restore supports field changes only')
      }
      const diff = Object.entries(sceneColumns).filter(([field, column]) =>
        field === 'isCompleted' ? (before[column] === 1) !== target[field] : before[column] !== target[field],
      )
      if (diff.length === 0) continue
      this.#statement(
        updateColumns(
          'scene_states',
          diff.map(([, c]) => c),
          true,
        ),
      ).get(
        ...diff.map(([f]) => (f === 'isCompleted' ? (target[f] ? 1 : 0) : target[f])),
        now,
        ACTOR,
        target.id,
        before.row_version,
      )
      const changes = Object.fromEntries(
        diff.map(([f, c]) => [f, [f === 'isCompleted' ? before[c] === 1 : before[c], target[f]]]),
      )
      this.#s.audit!.run(now, ACTOR, 'scene_states', target.id, 'update', JSON.stringify(changes), null)
    }
    return this.#s.scenes!.all(projectId) as SqlRow[]
  }
}

/** The FTS5 query of a search text, as the library builds it: each word a quoted prefix term. */
function sqliteFtsQuery(text: string): string {
  return (text.match(/[\p{L}\p{N}\p{M}]+/gu) ?? []).map((w) => `"${w.replace(/"/g, '""')}"*`).join(' ')
}
