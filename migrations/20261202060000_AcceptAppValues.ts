/**
 * AcceptAppValues: the values the .NET Aura app writes every day, which the schema refused
 * (issue 10; legacy-ef.md, "Values the app's code writes").
 *
 * - `project_states.current_stage` and `render_checkpoints.stage_name`: free text (the app's
 *   pipeline writes Initialization, BriefValidation, ScriptGeneration, …, Rendering), so their
 *   CHECK constraints go.
 * - `project_states.title`: no length limit (the app sets it from the brief's topic).
 * - `export_history.status`: also `Processing`, the app's status of a running export.
 * - `configurations.value_type`: also `null`.
 * - `audit_entries.action`: also `import`, the one entry an import of the app's database writes.
 *
 * On PostgreSQL these are ALTER TABLE statements. SQLite cannot drop or change a CHECK
 * constraint: each table is rebuilt by SQLite's documented procedure (new table, copy with an
 * explicit column list, drop, rename, indexes again), from the literal definitions below (the
 * tables as the earlier migrations left them), so that the step never reads the schema and
 * `aura-db script` shows exactly what runs. The migrator runs the step with foreign keys off
 * (dropping `project_states` must not cascade into its children) and runs `foreign_key_check`
 * before committing.
 *
 * `down` restores the old constraints; it fails (changing nothing) while rows hold the new values.
 *
 * Frozen in time: imports only types from 'kysely' (the engine passes `sql` in `ctx`).
 */
import type { Kysely, sql as SqlTag } from 'kysely'

export interface MigrationContext {
  dialect: 'sqlite' | 'postgres'
  sql: typeof SqlTag
}

/** One SQLite table to rebuild: its column definitions, its constraints before and after, its indexes. */
interface SqliteTable {
  /** The columns the copy carries over, by name. */
  readonly copy: readonly string[]
  /** The column definitions of the CREATE TABLE, as the earlier migrations wrote them. */
  readonly columns: string
  /** The table constraints before this migration (what `down` restores). */
  readonly before: readonly string[]
  /** The table constraints after it. */
  readonly after: readonly string[]
  readonly indexes: readonly string[]
}

const SQLITE_TABLES: Record<string, SqliteTable> = {
  project_states: {
    copy: [
      'id',
      'title',
      'description',
      'current_wizard_step',
      'status',
      'completed_at',
      'current_stage',
      'progress_percent',
      'job_id',
      'brief_json',
      'plan_spec_json',
      'voice_spec_json',
      'render_spec_json',
      'error_message',
      'created_at',
      'updated_at',
      'created_by',
      'modified_by',
      'row_version',
      'is_deleted',
      'deleted_at',
      'deleted_by',
    ],
    columns:
      '"id" text default (lower(hex(randomblob(4))) || \'-\' || lower(hex(randomblob(2))) || \'-4\' || substr(lower(hex(randomblob(2))), 2) || \'-\' || substr(\'89ab\', 1 + (random() & 3), 1) || substr(lower(hex(randomblob(2))), 2) || \'-\' || lower(hex(randomblob(6)))) not null primary key, "title" text not null, "description" text, "current_wizard_step" integer default 0 not null, "status" text default \'Draft\' not null, "completed_at" text, "current_stage" text, "progress_percent" integer default 0 not null, "job_id" text, "brief_json" text, "plan_spec_json" text, "voice_spec_json" text, "render_spec_json" text, "error_message" text, "created_at" text default (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\')) not null, "updated_at" text default (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\')) not null, "created_by" text, "modified_by" text, "row_version" integer default 1 not null, "is_deleted" integer default 0 not null, "deleted_at" text, "deleted_by" text',
    before: [
      'constraint "ck_project_states_is_deleted" check ("is_deleted" in (0, 1))',
      'constraint "ck_project_states_current_wizard_step" check ("current_wizard_step" >= 0 and "current_wizard_step" <= 3)',
      "constraint \"ck_project_states_status\" check (\"status\" in ('Draft', 'InProgress', 'Completed', 'Failed', 'Cancelled'))",
      "constraint \"ck_project_states_current_stage\" check (\"current_stage\" in ('Script', 'TTS', 'Images', 'Composition', 'Render'))",
      'constraint "ck_project_states_progress_percent" check ("progress_percent" >= 0 and "progress_percent" <= 100)',
    ],
    after: [
      'constraint "ck_project_states_is_deleted" check ("is_deleted" in (0, 1))',
      'constraint "ck_project_states_current_wizard_step" check ("current_wizard_step" >= 0 and "current_wizard_step" <= 3)',
      "constraint \"ck_project_states_status\" check (\"status\" in ('Draft', 'InProgress', 'Completed', 'Failed', 'Cancelled'))",
      'constraint "ck_project_states_progress_percent" check ("progress_percent" >= 0 and "progress_percent" <= 100)',
    ],
    indexes: [
      'CREATE INDEX "ix_project_states_status" on "project_states" ("status")',
      'CREATE INDEX "ix_project_states_updated_at" on "project_states" ("updated_at")',
      'CREATE INDEX "ix_project_states_status_updated_at" on "project_states" ("status", "updated_at")',
      'CREATE INDEX "ix_project_states_job_id" on "project_states" ("job_id")',
      'CREATE INDEX "ix_project_states_is_deleted" on "project_states" ("is_deleted")',
      'CREATE INDEX "ix_project_states_is_deleted_deleted_at" on "project_states" ("is_deleted", "deleted_at")',
      'CREATE INDEX ix_project_states_live_status_updated_at_id on project_states (status, updated_at desc, id) where is_deleted = 0',
    ],
  },
  render_checkpoints: {
    copy: [
      'id',
      'project_id',
      'stage_name',
      'checkpoint_time',
      'completed_scenes',
      'total_scenes',
      'checkpoint_data',
      'output_file_path',
      'is_valid',
      'created_at',
      'updated_at',
      'created_by',
      'modified_by',
      'row_version',
    ],
    columns:
      '"id" text default (lower(hex(randomblob(4))) || \'-\' || lower(hex(randomblob(2))) || \'-4\' || substr(lower(hex(randomblob(2))), 2) || \'-\' || substr(\'89ab\', 1 + (random() & 3), 1) || substr(lower(hex(randomblob(2))), 2) || \'-\' || lower(hex(randomblob(6)))) not null primary key, "project_id" text not null, "stage_name" text not null, "checkpoint_time" text default (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\')) not null, "completed_scenes" integer default 0 not null, "total_scenes" integer default 0 not null, "checkpoint_data" text, "output_file_path" text, "is_valid" integer default 1 not null, "created_at" text default (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\')) not null, "updated_at" text default (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\')) not null, "created_by" text, "modified_by" text, "row_version" integer default 1 not null',
    before: [
      'constraint "ck_render_checkpoints_is_valid" check ("is_valid" in (0, 1))',
      'constraint "fk_render_checkpoints_project_id" foreign key ("project_id") references "project_states" ("id") on delete cascade',
      "constraint \"ck_render_checkpoints_stage_name\" check (\"stage_name\" in ('Script', 'TTS', 'Images', 'Composition', 'Render'))",
      'constraint "ck_render_checkpoints_completed_scenes" check ("completed_scenes" >= 0)',
      'constraint "ck_render_checkpoints_total_scenes" check ("total_scenes" >= 0)',
      'constraint "ck_render_checkpoints_completed_scenes_le_total_scenes" check ("completed_scenes" <= "total_scenes")',
    ],
    after: [
      'constraint "ck_render_checkpoints_is_valid" check ("is_valid" in (0, 1))',
      'constraint "fk_render_checkpoints_project_id" foreign key ("project_id") references "project_states" ("id") on delete cascade',
      'constraint "ck_render_checkpoints_completed_scenes" check ("completed_scenes" >= 0)',
      'constraint "ck_render_checkpoints_total_scenes" check ("total_scenes" >= 0)',
      'constraint "ck_render_checkpoints_completed_scenes_le_total_scenes" check ("completed_scenes" <= "total_scenes")',
    ],
    indexes: [
      'CREATE INDEX "ix_render_checkpoints_project_id" on "render_checkpoints" ("project_id")',
      'CREATE INDEX "ix_render_checkpoints_project_id_stage_name" on "render_checkpoints" ("project_id", "stage_name")',
      'CREATE INDEX "ix_render_checkpoints_checkpoint_time" on "render_checkpoints" ("checkpoint_time")',
    ],
  },
  export_history: {
    copy: [
      'id',
      'input_file',
      'output_file',
      'preset_name',
      'status',
      'progress',
      'started_at',
      'completed_at',
      'error_message',
      'file_size',
      'duration_seconds',
      'platform',
      'resolution',
      'codec',
      'created_at',
      'updated_at',
      'created_by',
      'modified_by',
      'row_version',
    ],
    columns:
      '"id" text default (lower(hex(randomblob(4))) || \'-\' || lower(hex(randomblob(2))) || \'-4\' || substr(lower(hex(randomblob(2))), 2) || \'-\' || substr(\'89ab\', 1 + (random() & 3), 1) || substr(lower(hex(randomblob(2))), 2) || \'-\' || lower(hex(randomblob(6)))) not null primary key, "input_file" text not null, "output_file" text not null, "preset_name" text not null, "status" text default \'Queued\' not null, "progress" real default 0 not null, "started_at" text, "completed_at" text, "error_message" text, "file_size" integer, "duration_seconds" real, "platform" text, "resolution" text, "codec" text, "created_at" text default (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\')) not null, "updated_at" text default (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\')) not null, "created_by" text, "modified_by" text, "row_version" integer default 1 not null',
    before: [
      "constraint \"ck_export_history_status\" check (\"status\" in ('Queued', 'InProgress', 'Completed', 'Failed', 'Cancelled'))",
      'constraint "ck_export_history_progress" check ("progress" >= 0 and "progress" <= 100)',
      'constraint "ck_export_history_file_size" check ("file_size" >= 0)',
      'constraint "ck_export_history_duration_seconds" check ("duration_seconds" >= 0)',
    ],
    after: [
      "constraint \"ck_export_history_status\" check (\"status\" in ('Queued', 'InProgress', 'Processing', 'Completed', 'Failed', 'Cancelled'))",
      'constraint "ck_export_history_progress" check ("progress" >= 0 and "progress" <= 100)',
      'constraint "ck_export_history_file_size" check ("file_size" >= 0)',
      'constraint "ck_export_history_duration_seconds" check ("duration_seconds" >= 0)',
    ],
    indexes: [
      'CREATE INDEX "ix_export_history_status" on "export_history" ("status")',
      'CREATE INDEX "ix_export_history_created_at" on "export_history" ("created_at")',
      'CREATE INDEX "ix_export_history_status_created_at" on "export_history" ("status", "created_at")',
      'CREATE INDEX "ix_export_history_status_created_at_id" on "export_history" ("status", "created_at", "id")',
    ],
  },
  configurations: {
    copy: [
      'key',
      'value',
      'category',
      'value_type',
      'description',
      'is_sensitive',
      'is_active',
      'created_at',
      'updated_at',
      'created_by',
      'modified_by',
      'row_version',
    ],
    columns:
      '"key" text not null primary key, "value" text not null, "category" text not null, "value_type" text default \'string\' not null, "description" text, "is_sensitive" integer default 0 not null, "is_active" integer default 1 not null, "created_at" text default (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\')) not null, "updated_at" text default (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\')) not null, "created_by" text, "modified_by" text, "row_version" integer default 1 not null',
    before: [
      'constraint "ck_configurations_is_sensitive" check ("is_sensitive" in (0, 1))',
      'constraint "ck_configurations_is_active" check ("is_active" in (0, 1))',
      "constraint \"ck_configurations_value_type\" check (\"value_type\" in ('string', 'number', 'boolean', 'json'))",
    ],
    after: [
      'constraint "ck_configurations_is_sensitive" check ("is_sensitive" in (0, 1))',
      'constraint "ck_configurations_is_active" check ("is_active" in (0, 1))',
      "constraint \"ck_configurations_value_type\" check (\"value_type\" in ('string', 'number', 'boolean', 'json', 'null'))",
    ],
    indexes: [
      'CREATE INDEX "ix_configurations_category" on "configurations" ("category")',
      'CREATE INDEX "ix_configurations_is_sensitive" on "configurations" ("is_sensitive")',
      'CREATE INDEX "ix_configurations_is_active" on "configurations" ("is_active")',
      'CREATE INDEX "ix_configurations_updated_at" on "configurations" ("updated_at")',
      'CREATE INDEX "ix_configurations_category_is_active" on "configurations" ("category", "is_active")',
      'CREATE INDEX "ix_configurations_category_updated_at" on "configurations" ("category", "updated_at")',
    ],
  },
  audit_entries: {
    copy: ['id', 'occurred_at', 'actor', 'table_name', 'row_id', 'action', 'changes_json', 'correlation_id'],
    columns:
      '"id" integer not null primary key autoincrement, "occurred_at" text not null, "actor" text, "table_name" text not null, "row_id" text not null, "action" text not null, "changes_json" text, "correlation_id" text',
    before: [
      "constraint \"ck_audit_entries_action\" check (\"action\" in ('insert', 'update', 'soft_delete', 'restore', 'purge'))",
    ],
    after: [
      "constraint \"ck_audit_entries_action\" check (\"action\" in ('insert', 'update', 'soft_delete', 'restore', 'purge', 'import'))",
    ],
    indexes: [
      'CREATE INDEX "ix_audit_entries_table_name_row_id" on "audit_entries" ("table_name", "row_id")',
      'CREATE INDEX "ix_audit_entries_occurred_at" on "audit_entries" ("occurred_at")',
      'CREATE INDEX "ix_audit_entries_actor" on "audit_entries" ("actor")',
    ],
  },
}

/** PostgreSQL: each changed CHECK constraint, as `[table, constraint, before, after]` (null: none). */
const POSTGRES_CHECKS: readonly (readonly [string, string, string | null, string | null])[] = [
  [
    'project_states',
    'ck_project_states_current_stage',
    `current_stage in ('Script', 'TTS', 'Images', 'Composition', 'Render')`,
    null,
  ],
  [
    'render_checkpoints',
    'ck_render_checkpoints_stage_name',
    `stage_name in ('Script', 'TTS', 'Images', 'Composition', 'Render')`,
    null,
  ],
  [
    'export_history',
    'ck_export_history_status',
    `status in ('Queued', 'InProgress', 'Completed', 'Failed', 'Cancelled')`,
    `status in ('Queued', 'InProgress', 'Processing', 'Completed', 'Failed', 'Cancelled')`,
  ],
  [
    'configurations',
    'ck_configurations_value_type',
    `value_type in ('string', 'number', 'boolean', 'json')`,
    `value_type in ('string', 'number', 'boolean', 'json', 'null')`,
  ],
  [
    'audit_entries',
    'ck_audit_entries_action',
    `action in ('insert', 'update', 'soft_delete', 'restore', 'purge')`,
    `action in ('insert', 'update', 'soft_delete', 'restore', 'purge', 'import')`,
  ],
]

async function rebuildSqlite(
  db: Kysely<any>,
  sql: typeof SqlTag,
  name: string,
  table: SqliteTable,
  constraints: readonly string[],
): Promise<void> {
  const temporary = `${name}_rebuild`
  const list = table.copy.map((c) => `"${c}"`).join(', ')
  await sql.raw(`CREATE TABLE "${temporary}" (${[table.columns, ...constraints].join(', ')})`).execute(db)
  await sql.raw(`insert into "${temporary}" (${list}) select ${list} from "${name}"`).execute(db)
  // AUTOINCREMENT: the new table's counter continues where the old one's stood (ids of deleted
  // rows are not reused); the rename below carries the counter's row over with the table.
  await sql`delete from sqlite_sequence where name = ${temporary}`.execute(db)
  await sql`insert into sqlite_sequence (name, seq) select ${temporary}, seq from sqlite_sequence where name = ${name}`.execute(
    db,
  )
  await sql.raw(`drop table "${name}"`).execute(db)
  await sql.raw(`alter table "${temporary}" rename to "${name}"`).execute(db)
  for (const index of table.indexes) await sql.raw(index).execute(db)
}

async function run(db: Kysely<any>, ctx: MigrationContext, direction: 'up' | 'down'): Promise<void> {
  const { sql } = ctx
  const up = direction === 'up'
  if (ctx.dialect === 'sqlite') {
    for (const [name, table] of Object.entries(SQLITE_TABLES))
      await rebuildSqlite(db, sql, name, table, up ? table.after : table.before)
    return
  }
  for (const [table, constraint, before, after] of POSTGRES_CHECKS) {
    const expression = up ? after : before
    await sql.raw(`alter table ${table} drop constraint if exists ${constraint}`).execute(db)
    if (expression !== null)
      await sql.raw(`alter table ${table} add constraint ${constraint} check (${expression})`).execute(db)
  }
  await sql
    .raw(`alter table project_states alter column title type ${up ? 'text' : 'varchar(500)'}`)
    .execute(db)
}

export async function up(db: Kysely<any>, ctx: MigrationContext): Promise<void> {
  await run(db, ctx, 'up')
}

export async function down(db: Kysely<any>, ctx: MigrationContext): Promise<void> {
  await run(db, ctx, 'down')
}
