/**
 * QueryPlansAtScale: two indexes that let the hot status and export queries read only the rows
 * they return, at 100,000 projects and exports (issue 12).
 *
 * - `ix_project_states_live_status_updated_at_id` on (status, updated_at DESC, id), partial on
 *   the live rows (`is_deleted` false). The count by status reads it alone (no row lookups for
 *   the soft-delete flag: the index holds only visible rows), and the status page and
 *   `getIncomplete` read it in their order (`updated_at` newest first, ties by id ascending),
 *   so neither sorts. DESC on `updated_at` only: a scan in either direction then matches the
 *   mixed order of the page.
 * - `ix_export_history_status_created_at_id` on (status, created_at, id): each status of a
 *   multi-status export query is read newest first from it, ties by id, without a sort.
 *
 * The partial index's predicate is spelled `is_deleted = 0` on SQLite (booleans are INTEGER
 * there) and `is_deleted = false` on PostgreSQL: each planner uses the index only for a query
 * whose WHERE names the same predicate, which the repositories spell that way for it.
 *
 * Frozen in time: imports only types from 'kysely' (the engine passes `sql` in `ctx`).
 */
import type { Kysely, sql as SqlTag } from 'kysely'

export interface MigrationContext {
  dialect: 'sqlite' | 'postgres'
  sql: typeof SqlTag
}

export async function up(db: Kysely<any>, ctx: MigrationContext): Promise<void> {
  const { sql } = ctx
  const live = ctx.dialect === 'postgres' ? sql`is_deleted = false` : sql`is_deleted = 0`
  await sql`create index ix_project_states_live_status_updated_at_id on project_states (status, updated_at desc, id) where ${live}`.execute(
    db,
  )
  await db.schema
    .createIndex('ix_export_history_status_created_at_id')
    .on('export_history')
    .columns(['status', 'created_at', 'id'])
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('ix_export_history_status_created_at_id').execute()
  await db.schema.dropIndex('ix_project_states_live_status_updated_at_id').execute()
}
