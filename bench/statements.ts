/**
 * The statements of the raw references, in SQLite's `?` form (PostgreSQL's `$n` form is derived
 * by {@link numbered}). They are the library's statements, written out by hand; the suites check
 * before every measurement that the library still executes exactly these.
 */
export const SQL = {
  insertAudit:
    'insert into "audit_entries" ("occurred_at", "actor", "table_name", "row_id", "action", "changes_json", "correlation_id") values (?, ?, ?, ?, ?, ?, ?)',
  projectById:
    'select "project_states".* from "project_states" where ("project_states"."id" = ? and "project_states"."is_deleted" = ?) limit 1',
  projectsByStatus:
    'select "project_states".* from "project_states" where ("project_states"."status" = ? and "project_states"."is_deleted" = ?) order by "project_states"."updated_at" desc, "project_states"."id" asc limit 50',
  scenesOfProject:
    'select "scene_states".* from "scene_states" where ("scene_states"."project_id" = ? and exists (select 1 as "one" from "project_states" as "parent" where "parent"."id" = "scene_states"."project_id" and "parent"."is_deleted" = ?)) order by "scene_states"."scene_index" asc, "scene_states"."id" asc',
  countByStatus:
    'select count(*) as "n" from "project_states" where ("project_states"."status" = ? and "project_states"."is_deleted" = ?)',
  insertProject:
    'insert into "project_states" ("title", "description", "status", "brief_json", "id", "created_at", "updated_at", "created_by", "modified_by", "row_version", "is_deleted") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning *',
  insertScene:
    'insert into "scene_states" ("project_id", "scene_index", "script_text", "id", "created_at", "updated_at", "created_by", "modified_by", "row_version") values (?, ?, ?, ?, ?, ?, ?, ?, ?) returning *',
  currentProject: 'select "project_states".* from "project_states" where "project_states"."id" = ? limit 1',
  updateTitle:
    'update "project_states" set "title" = ?, "updated_at" = ?, "modified_by" = ?, "row_version" = row_version + 1 where "id" = ? and "row_version" = ? returning *',
  softDelete:
    'update "project_states" set "is_deleted" = ?, "deleted_at" = ?, "deleted_by" = ?, "updated_at" = ?, "modified_by" = ?, "row_version" = row_version + 1 where "id" = ? and "row_version" = ? returning *',
} as const

/** The statement with its `?` placeholders numbered `$1, $2, …` (none of these statements has a `?` literal). */
export function numbered(sql: string): string {
  let n = 0
  return sql.replace(/\?/g, () => `$${++n}`)
}
