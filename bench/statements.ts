import type { TableDef } from '../src/schema/define.js'
import { projectStatesTable } from '../src/schema/project-states.js'
import { projectVersionsTable } from '../src/schema/project-versions.js'
import { sceneStatesTable } from '../src/schema/scene-states.js'

/**
 * The columns of a table as the library names them instead of `*` (its definition's order),
 * each qualified by `relation` when given.
 */
function columnsOf(table: TableDef, relation?: string): string {
  return table.fields
    .map((field) => table.columns[field]!.column)
    .map((column) => (relation ? `"${relation}"."${column}"` : `"${column}"`))
    .join(', ')
}

/** The column names of a table, in the library's order, for the Kysely peer's `select` and `returning`. */
export function columnNames(table: 'project_states' | 'scene_states' | 'project_versions'): string[] {
  const definition = COLUMNS[table]!
  return definition.fields.map((field) => definition.columns[field]!.column)
}

const PROJECT = columnsOf(projectStatesTable)
const SCENE = columnsOf(sceneStatesTable)
const VERSION = columnsOf(projectVersionsTable)
const COLUMNS: Record<string, TableDef> = {
  project_states: projectStatesTable,
  scene_states: sceneStatesTable,
  project_versions: projectVersionsTable,
}

/**
 * The statements of the raw references, in SQLite's `?` form (PostgreSQL's `$n` form is derived
 * by {@link postgresStatement}). They are the library's statements, written out by hand; the suites check
 * before every measurement that the library still executes exactly these.
 */
export const SQL = {
  insertAudit:
    'insert into "audit_entries" ("occurred_at", "actor", "table_name", "row_id", "action", "changes_json", "correlation_id") values (?, ?, ?, ?, ?, ?, ?)',
  projectById: `select ${columnsOf(projectStatesTable, 'project_states')} from "project_states" where ("project_states"."id" = ? and +"project_states"."is_deleted" = ?) limit 1`,
  projectsByStatus: `select ${columnsOf(projectStatesTable, 'project_states')} from "project_states" where ("project_states"."status" = ? and "project_states"."is_deleted" = 0) order by "project_states"."updated_at" desc, "project_states"."id" asc limit 50`,
  scenesOfProject: `select ${columnsOf(sceneStatesTable, 'scene_states')} from "scene_states" where ("scene_states"."project_id" = ? and exists (select 1 as "one" from "project_states" as "parent" where "parent"."id" = "scene_states"."project_id" and "parent"."is_deleted" = ?)) order by "scene_states"."scene_index" asc, "scene_states"."id" asc`,
  countByStatus:
    'select count(*) as "n" from "project_states" where ("project_states"."status" = ? and "project_states"."is_deleted" = 0)',
  insertProject:
    'insert into "project_states" ("title", "description", "status", "brief_json", "id", "created_at", "updated_at", "created_by", "modified_by", "row_version", "is_deleted") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning ' +
    PROJECT,
  insertScene:
    'insert into "scene_states" ("project_id", "scene_index", "script_text", "id", "created_at", "updated_at", "created_by", "modified_by", "row_version") select ?, ?, ?, ?, ?, ?, ?, ?, ? where not exists (select 1 from project_states where id = ? and is_deleted = ?) returning ' +
    SCENE,
  currentProject: `select ${columnsOf(projectStatesTable, 'project_states')} from "project_states" where "project_states"."id" = ? limit 1`,
  updateTitle:
    'update "project_states" set "title" = ?, "updated_at" = ?, "modified_by" = ?, "row_version" = row_version + 1 where "id" = ? and "row_version" = ? returning ' +
    PROJECT,
  softDelete:
    'update "project_states" set "is_deleted" = ?, "deleted_at" = ?, "deleted_by" = ?, "updated_at" = ?, "modified_by" = ?, "row_version" = row_version + 1 where "id" = ? and "row_version" = ? returning ' +
    PROJECT,
  lockProject: 'select * from "project_states" where "id" = ?',
  scenesInOrder: `select ${columnsOf(sceneStatesTable, 'scene_states')} from "scene_states" where "project_id" = ? order by "scene_index"`,
  blobExists: 'select "content_hash" from "content_blobs" where "content_hash" = ?',
  insertBlob:
    'insert into "content_blobs" ("content_hash", "content", "content_type", "size_bytes", "reference_count", "last_referenced_at", "created_at", "updated_at", "created_by", "modified_by") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict ("content_hash") do nothing returning "content_hash"',
  maxVersionNumber: 'select max("version_number") as "n" from "project_versions" where "project_id" = ?',
  insertAutosave:
    'insert into "project_versions" ("version_type", "project_id", "version_number", "brief_hash", "plan_hash", "voice_hash", "render_hash", "timeline_hash", "storage_size_bytes", "id", "created_at", "updated_at", "created_by", "modified_by", "row_version", "is_deleted") select ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? where not exists (select 1 from project_states where id = ? and is_deleted = ?) returning ' +
    VERSION,
  insertRestorePoint:
    'insert into "project_versions" ("version_type", "name", "trigger", "project_id", "version_number", "brief_hash", "plan_hash", "voice_hash", "render_hash", "timeline_hash", "storage_size_bytes", "id", "created_at", "updated_at", "created_by", "modified_by", "row_version", "is_deleted") select ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? where not exists (select 1 from project_states where id = ? and is_deleted = ?) returning ' +
    VERSION,
  addReference:
    'update "content_blobs" set "reference_count" = "reference_count" + ?, "last_referenced_at" = ? where "content_hash" = ?',
  currentVersion: `select ${columnsOf(projectVersionsTable, 'project_versions')} from "project_versions" where "project_versions"."id" = ? limit 1`,
  templateSearch:
    'select "templates".* from "templates" where "templates"."rowid" in (select rowid from "templates_fts" where "templates_fts" match ?) and (instr(\',\' || lower("templates"."tags") || \',\', ?) > 0 or instr(\',\' || lower("templates"."tags") || \',\', ?) > 0) order by "templates"."usage_count" desc, "templates"."rating" desc, "templates"."name" asc, "templates"."id" asc limit ?',
  exportHistoryBranch:
    'select * from (select "export_history".* from "export_history" where ("export_history"."status" = ? and "export_history"."created_at" >= ? and "export_history"."created_at" < ?) order by "export_history"."created_at" desc, "export_history"."id" desc limit 50) as "s{n}"',
} as const

/**
 * The export-history query of `statuses` statuses, a date range and a page of 50 at an offset:
 * one branch per status, merged (see `ExportHistoryRepository.query`).
 */
export function exportHistoryQuery(statuses: number): string {
  const branches = Array.from({ length: statuses }, (_, i) =>
    SQL.exportHistoryBranch.replace('{n}', String(i)),
  )
  return `${branches.join(' union all ')} order by "created_at" desc, "id" desc limit 50 offset ?`
}

/** `select content_hash, content from content_blobs where content_hash in (?, …)` for `n` hashes. */
export function blobsIn(n: number): string {
  return `select "content_hash", "content" from "content_blobs" where "content_hash" in (${Array.from({ length: n }, () => '?').join(', ')})`
}

/**
 * `update <table> set <columns> = ?, updated_at, modified_by, row_version + 1 where id = ?
 * [and row_version = ?] returning <the table's columns>`: the update of the given columns, as the
 * library writes it.
 */
export function updateColumns(table: string, columns: readonly string[], checkVersion: boolean): string {
  const set = [...columns, 'updated_at', 'modified_by'].map((c) => `"${c}" = ?`).join(', ')
  return `update "${table}" set ${set}, "row_version" = row_version + 1 where "id" = ?${checkVersion ? ' and "row_version" = ?' : ''} returning ${columnsOf(COLUMNS[table]!)}`
}

/** The statement with its `?` placeholders numbered `$1, $2, …` (none of these statements has a `?` literal). */
export function numbered(sql: string): string {
  let n = 0
  return sql.replace(/\?/g, () => `$${++n}`)
}

/**
 * The PostgreSQL form of one of these statements: numbered placeholders, the default
 * soft-delete filter as the plain comparison, and the live-index predicate as `= false`.
 * SQLite's forms are `+<column> = ?` (see `SqliteAuraDialect.notDeletedCondition`: it keeps
 * SQLite's planner off the flag's index) and `<column> = 0` (booleans are integers there).
 */
export function postgresStatement(sql: string): string {
  return numbered(
    sql
      .replace(/\+("[a-z_]+"\."is_deleted" = \?)/g, '$1')
      .replace(/("[a-z_]+"\."is_deleted" = )0\b/g, '$1false'),
  )
}

/**
 * PostgreSQL's forms of the library's writes that have no SQLite twin: data-modifying CTEs
 * (`dialect.writableCte`), so they are written here in `$n` form directly.
 */
export const POSTGRES = {
  /**
   * An `INSERT … RETURNING *` (in `$n` form, with `n` parameters) with the audit entry of every
   * row it inserts written by the same statement: 4 more parameters (occurred_at, actor,
   * table_name, correlation_id).
   */
  insertWithAudit(insert: string, n: number): string {
    return (
      `with "w" as (${insert}), "a" as (insert into "audit_entries" ("occurred_at", "actor", "table_name", "row_id", "action", "changes_json", "correlation_id") ` +
      `select $${n + 1}, $${n + 2}, $${n + 3}, cast("w"."id" as text), 'insert', null, $${n + 4} from "w") select * from "w"`
    )
  },

  /**
   * The multi-row insert of `rows` scenes (`addRange`), each refused when its project is
   * soft-deleted; 9 parameters per scene, then the deleted flag.
   */
  insertScenes(rows: number): string {
    const columns = [
      ['project_id', 'uuid'],
      ['scene_index', 'integer'],
      ['script_text', 'text'],
      ['id', 'uuid'],
      ['created_at', 'timestamptz'],
      ['updated_at', 'timestamptz'],
      ['created_by', 'text'],
      ['modified_by', 'text'],
      ['row_version', 'integer'],
    ] as const
    const list = columns.map(([c]) => `"${c}"`).join(', ')
    const tuples = Array.from(
      { length: rows },
      (_, r) =>
        `(${columns.map(([, type], i) => `cast($${r * columns.length + i + 1} as ${type})`).join(', ')})`,
    )
    return `insert into "scene_states" (${list}) select * from (values ${tuples.join(', ')}) as "v"(${list}) where not exists (select 1 from project_states where id = "v"."project_id" and is_deleted = $${rows * columns.length + 1}) returning ${SCENE}`
  },

  /**
   * The update of `columns` that reads and locks the row it replaces in the same statement and
   * returns both (`aura_row` 'old' and 'new'). Parameters in order: the key, the columns' values,
   * updated_at, modified_by, [the row version], [false: live rows only], the columns' values again
   * (the change test). Timestamp columns are not supported here (the benchmark updates none).
   */
  readAndUpdate(
    table: string,
    columns: readonly string[],
    checkVersion: boolean,
    softDelete: boolean,
  ): string {
    let n = 1
    const set = [...columns, 'updated_at', 'modified_by'].map((c) => `"${c}" = $${++n}`).join(', ')
    const where = [
      `"${table}"."id" = "old"."id"`,
      ...(checkVersion ? [`"${table}"."row_version" = $${++n}`] : []),
      ...(softDelete ? [`"${table}"."is_deleted" = $${++n}`] : []),
      `(${columns.map((c) => `"old"."${c}" is distinct from $${++n}`).join(' or ')})`,
    ].join(' and ')
    const definition = COLUMNS[table]!
    return (
      `with "old" as (select ${columnsOf(definition, table)} from "${table}" where "id" = $1 for update), ` +
      `"upd" as (update "${table}" set ${set}, "row_version" = "${table}"."row_version" + 1 from "old" where ${where} returning ${columnsOf(definition, table)}) ` +
      `select 'old' as "aura_row", ${columnsOf(definition, 'old')} from "old" union all select 'new' as "aura_row", ${columnsOf(definition, 'upd')} from "upd"`
    )
  },
} as const
