/**
 * InitialCreate: the 14 domain tables of schema.md, their indexes, and the single
 * `system_configuration` row.
 *
 * Frozen in time: this file never imports application code, and enumerations are spelled out
 * here rather than read from src/schema (a later change there must not rewrite history). It
 * imports only types from 'kysely': the engine passes the `sql` tag in `ctx`, because the
 * migrations directory may live where 'kysely' cannot be resolved at run time.
 */
import os from 'node:os'
import path from 'node:path'
import type {
  ColumnDataType,
  CreateTableBuilder,
  Expression,
  Kysely,
  RawBuilder,
  sql as SqlTag,
} from 'kysely'

export interface MigrationContext {
  dialect: 'sqlite' | 'postgres'
  sql: typeof SqlTag
}

type TableBuilder = CreateTableBuilder<any, any>
type Step = (table: TableBuilder) => TableBuilder

const PROJECT_STATUSES = ['Draft', 'InProgress', 'Completed', 'Failed', 'Cancelled']
const PIPELINE_STAGES = ['Script', 'TTS', 'Images', 'Composition', 'Render']
const ASSET_TYPES = ['Audio', 'Image', 'Video', 'Subtitle']
const VERSION_TYPES = ['Manual', 'Autosave', 'RestorePoint']
const CONTENT_TYPES = ['Brief', 'Plan', 'Voice', 'Render', 'Timeline', 'Asset']
const CONFIG_VALUE_TYPES = ['string', 'number', 'boolean', 'json']
const EXPORT_STATUSES = ['Queued', 'InProgress', 'Completed', 'Failed', 'Cancelled']
const ACTION_STATUSES = ['Applied', 'Undone', 'Failed', 'Expired']
const AUDIT_ACTIONS = ['insert', 'update', 'soft_delete', 'restore', 'purge']

/** Creation order: every table after the tables it references. `down` drops in reverse. */
const TABLES = [
  'project_states',
  'content_blobs',
  'scene_states',
  'asset_states',
  'render_checkpoints',
  'project_versions',
  'user_setups',
  'system_configuration',
  'configurations',
  'templates',
  'custom_templates',
  'export_history',
  'action_logs',
  'audit_entries',
] as const

/** Physical types, defaults and constraint helpers for one dialect (schema.md, "Logical types"). */
function kit(ctx: MigrationContext) {
  const { sql } = ctx
  const pg = ctx.dialect === 'postgres'

  const type = {
    uuid: (pg ? 'uuid' : 'text') as ColumnDataType,
    /** `text(n)` is varchar(n) on PostgreSQL; SQLite ignores declared lengths, validation enforces them. */
    text: (maxLength?: number): ColumnDataType => (pg && maxLength ? `varchar(${maxLength})` : 'text'),
    /** Plain text, not jsonb: content hashes are computed over the exact bytes. */
    json: 'text' as ColumnDataType,
    int: 'integer' as ColumnDataType,
    bigint: (pg ? 'bigint' : 'integer') as ColumnDataType,
    real: (pg ? 'double precision' : 'real') as ColumnDataType,
    bool: (pg ? 'boolean' : 'integer') as ColumnDataType,
    timestamp: (pg ? 'timestamptz' : 'text') as ColumnDataType,
  }

  /*
   * SQLite only accepts a non-literal column default when it is parenthesised. Timestamps are
   * ISO-8601 UTC text with milliseconds so that text order is time order.
   */
  const now: RawBuilder<unknown> = pg ? sql`now()` : sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`

  /*
   * SQLite has no UUID function: build a random version-4 UUID (lower-case, hyphenated) from
   * random bytes. The version nibble is a literal 4; the variant nibble is one of 8, 9, a, b,
   * picked with `random() & 3` (abs(random()) can overflow on the smallest 64-bit integer).
   */
  const newUuid: RawBuilder<unknown> = pg
    ? sql`gen_random_uuid()`
    : sql`(lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (random() & 3), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))))`

  /** SQLite stores booleans as INTEGER 0/1. */
  const boolValue = (value: boolean): boolean | number => (pg ? value : value ? 1 : 0)

  const check =
    (table: string, name: string, expression: Expression<any>): Step =>
    (t) =>
      t.addCheckConstraint(`ck_${table}_${name}`, expression)
  const oneOf = (table: string, column: string, values: readonly string[]): Step =>
    check(table, column, sql`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`)
  const range = (table: string, column: string, min: number, max?: number): Step =>
    check(
      table,
      column,
      max === undefined
        ? sql`${sql.ref(column)} >= ${sql.lit(min)}`
        : sql`${sql.ref(column)} >= ${sql.lit(min)} and ${sql.ref(column)} <= ${sql.lit(max)}`,
    )

  /** A NOT NULL boolean with a default; on SQLite also a CHECK that it stays 0 or 1. */
  const bool =
    (table: string, column: string, defaultValue: boolean): Step =>
    (t) => {
      const withColumn = t.addColumn(column, type.bool, (col) =>
        col.notNull().defaultTo(boolValue(defaultValue)),
      )
      return pg ? withColumn : check(table, column, sql`${sql.ref(column)} in (0, 1)`)(withColumn)
    }

  /*
   * SQLite lets a PRIMARY KEY column hold NULL (a legacy quirk) unless it is an INTEGER
   * PRIMARY KEY, so every key is declared NOT NULL explicitly.
   */
  const uuidKey: Step = (t) =>
    t.addColumn('id', type.uuid, (col) => col.notNull().primaryKey().defaultTo(newUuid))

  const projectFk =
    (table: string): Step =>
    (t) =>
      t.addForeignKeyConstraint(`fk_${table}_project_id`, ['project_id'], 'project_states', ['id'], (fk) =>
        fk.onDelete('cascade'),
      )

  const timestamps: Step = (t) =>
    t
      .addColumn('created_at', type.timestamp, (col) => col.notNull().defaultTo(now))
      .addColumn('updated_at', type.timestamp, (col) => col.notNull().defaultTo(now))
  const audit: Step = (t) =>
    timestamps(t).addColumn('created_by', type.text(200)).addColumn('modified_by', type.text(200))
  const rowVersion: Step = (t) => t.addColumn('row_version', type.int, (col) => col.notNull().defaultTo(1))
  const softDelete =
    (table: string): Step =>
    (t) => {
      const withFlag = bool(table, 'is_deleted', false)(t)
      return withFlag.addColumn('deleted_at', type.timestamp).addColumn('deleted_by', type.text(200))
    }

  return {
    sql,
    pg,
    type,
    now,
    check,
    oneOf,
    range,
    bool,
    uuidKey,
    projectFk,
    audit,
    timestamps,
    rowVersion,
    softDelete,
  }
}

export async function up(db: Kysely<any>, ctx: MigrationContext): Promise<void> {
  const {
    sql,
    pg,
    type,
    now,
    check,
    oneOf,
    range,
    bool,
    uuidKey,
    projectFk,
    audit,
    timestamps,
    rowVersion,
    softDelete,
  } = kit(ctx)

  const index = async (table: string, columns: string[], unique = false): Promise<void> => {
    const name = `${unique ? 'ux' : 'ix'}_${table}_${columns.join('_')}`
    const builder = db.schema.createIndex(name).on(table).columns(columns)
    await (unique ? builder.unique() : builder).execute()
  }

  let t = 'project_states'
  await db.schema
    .createTable(t)
    .$call(uuidKey)
    .addColumn('title', type.text(500), (col) => col.notNull())
    .addColumn('description', type.text(2000))
    .addColumn('current_wizard_step', type.int, (col) => col.notNull().defaultTo(0))
    .addColumn('status', type.text(50), (col) => col.notNull().defaultTo('Draft'))
    .addColumn('completed_at', type.timestamp)
    .addColumn('current_stage', type.text(100))
    .addColumn('progress_percent', type.int, (col) => col.notNull().defaultTo(0))
    .addColumn('job_id', type.text(100))
    .addColumn('brief_json', type.json)
    .addColumn('plan_spec_json', type.json)
    .addColumn('voice_spec_json', type.json)
    .addColumn('render_spec_json', type.json)
    .addColumn('error_message', type.text())
    .$call(audit)
    .$call(rowVersion)
    .$call(softDelete(t))
    .$call(range(t, 'current_wizard_step', 0, 3))
    .$call(oneOf(t, 'status', PROJECT_STATUSES))
    .$call(oneOf(t, 'current_stage', PIPELINE_STAGES))
    .$call(range(t, 'progress_percent', 0, 100))
    .execute()
  await index(t, ['status'])
  await index(t, ['updated_at'])
  await index(t, ['status', 'updated_at'])
  await index(t, ['job_id'])
  await index(t, ['is_deleted'])
  await index(t, ['is_deleted', 'deleted_at'])

  t = 'content_blobs'
  await db.schema
    .createTable(t)
    .addColumn('content_hash', type.text(64), (col) => col.notNull().primaryKey())
    .addColumn('content', type.text(), (col) => col.notNull())
    .addColumn('content_type', type.text(50), (col) => col.notNull())
    .addColumn('size_bytes', type.bigint, (col) => col.notNull())
    .addColumn('reference_count', type.int, (col) => col.notNull().defaultTo(0))
    .addColumn('last_referenced_at', type.timestamp, (col) => col.notNull().defaultTo(now))
    .$call(audit)
    .$call(oneOf(t, 'content_type', CONTENT_TYPES))
    .$call(range(t, 'size_bytes', 0))
    .$call(range(t, 'reference_count', 0))
    .execute()
  await index(t, ['content_type'])
  await index(t, ['last_referenced_at'])
  await index(t, ['reference_count'])

  t = 'scene_states'
  await db.schema
    .createTable(t)
    .$call(uuidKey)
    .addColumn('project_id', type.uuid, (col) => col.notNull())
    .addColumn('scene_index', type.int, (col) => col.notNull())
    .addColumn('script_text', type.text(), (col) => col.notNull().defaultTo(''))
    .addColumn('audio_file_path', type.text(500))
    .addColumn('image_file_path', type.text(500))
    .addColumn('duration_seconds', type.real, (col) => col.notNull().defaultTo(0))
    .$call(bool(t, 'is_completed', false))
    .$call(audit)
    .$call(rowVersion)
    .$call(projectFk(t))
    .$call(range(t, 'scene_index', 0))
    .$call(range(t, 'duration_seconds', 0))
    .execute()
  await index(t, ['project_id'])
  await index(t, ['project_id', 'scene_index'], true)

  t = 'asset_states'
  await db.schema
    .createTable(t)
    .$call(uuidKey)
    .addColumn('project_id', type.uuid, (col) => col.notNull())
    .addColumn('asset_type', type.text(100), (col) => col.notNull())
    .addColumn('file_path', type.text(500), (col) => col.notNull())
    .addColumn('file_size_bytes', type.bigint, (col) => col.notNull().defaultTo(0))
    .addColumn('mime_type', type.text(200))
    .$call(bool(t, 'is_temporary', true))
    .$call(audit)
    .$call(rowVersion)
    .$call(projectFk(t))
    .$call(oneOf(t, 'asset_type', ASSET_TYPES))
    .$call(range(t, 'file_size_bytes', 0))
    .execute()
  await index(t, ['project_id'])
  await index(t, ['project_id', 'asset_type'])
  await index(t, ['is_temporary'])

  t = 'render_checkpoints'
  await db.schema
    .createTable(t)
    .$call(uuidKey)
    .addColumn('project_id', type.uuid, (col) => col.notNull())
    .addColumn('stage_name', type.text(100), (col) => col.notNull())
    .addColumn('checkpoint_time', type.timestamp, (col) => col.notNull().defaultTo(now))
    .addColumn('completed_scenes', type.int, (col) => col.notNull().defaultTo(0))
    .addColumn('total_scenes', type.int, (col) => col.notNull().defaultTo(0))
    .addColumn('checkpoint_data', type.json)
    .addColumn('output_file_path', type.text(500))
    .$call(bool(t, 'is_valid', true))
    .$call(audit)
    .$call(rowVersion)
    .$call(projectFk(t))
    .$call(oneOf(t, 'stage_name', PIPELINE_STAGES))
    .$call(range(t, 'completed_scenes', 0))
    .$call(range(t, 'total_scenes', 0))
    .$call(
      check(
        t,
        'completed_scenes_le_total_scenes',
        sql`${sql.ref('completed_scenes')} <= ${sql.ref('total_scenes')}`,
      ),
    )
    .execute()
  await index(t, ['project_id'])
  await index(t, ['project_id', 'stage_name'])
  await index(t, ['checkpoint_time'])

  t = 'project_versions'
  const hashColumns = ['brief_hash', 'plan_hash', 'voice_hash', 'render_hash', 'timeline_hash']
  await db.schema
    .createTable(t)
    .$call(uuidKey)
    .addColumn('project_id', type.uuid, (col) => col.notNull())
    .addColumn('version_number', type.int, (col) => col.notNull())
    .addColumn('name', type.text(200))
    .addColumn('description', type.text(2000))
    .addColumn('version_type', type.text(50), (col) => col.notNull().defaultTo('Manual'))
    .addColumn('trigger', type.text(200))
    .$call((b) => hashColumns.reduce((acc, column) => acc.addColumn(column, type.text(64)), b))
    .addColumn('storage_size_bytes', type.bigint, (col) => col.notNull().defaultTo(0))
    .$call(bool(t, 'is_marked_important', false))
    .$call(audit)
    .$call(rowVersion)
    .$call(softDelete(t))
    .$call(projectFk(t))
    // No cascade: a blob still referenced by a version must not disappear underneath it.
    .$call((b) =>
      hashColumns.reduce(
        (acc, column) =>
          acc.addForeignKeyConstraint(`fk_${t}_${column}`, [column], 'content_blobs', ['content_hash']),
        b,
      ),
    )
    .$call(range(t, 'version_number', 1))
    .$call(oneOf(t, 'version_type', VERSION_TYPES))
    .$call(range(t, 'storage_size_bytes', 0))
    .execute()
  await index(t, ['project_id'])
  await index(t, ['project_id', 'version_number'], true)
  await index(t, ['version_type'])
  await index(t, ['created_at'])
  await index(t, ['project_id', 'created_at'])
  await index(t, ['is_deleted'])
  await index(t, ['is_deleted', 'deleted_at'])
  await index(t, ['is_marked_important'])

  t = 'user_setups'
  await db.schema
    .createTable(t)
    .$call(uuidKey)
    .addColumn('user_id', type.text(100), (col) => col.notNull().defaultTo('default'))
    .$call(bool(t, 'completed', false))
    .addColumn('completed_at', type.timestamp)
    .addColumn('version', type.text(20))
    .addColumn('last_step', type.int, (col) => col.notNull().defaultTo(0))
    .addColumn('selected_tier', type.text(50))
    .addColumn('wizard_state', type.json)
    .$call(audit)
    .$call(rowVersion)
    .$call(range(t, 'last_step', 0))
    .execute()
  // Uniqueness only through the named index, so both dialects carry the same index names.
  await index(t, ['user_id'], true)
  await index(t, ['completed'])
  await index(t, ['updated_at'])

  t = 'system_configuration'
  await db.schema
    .createTable(t)
    .addColumn('id', type.int, (col) => col.notNull().primaryKey().defaultTo(1))
    .$call(bool(t, 'is_setup_complete', false))
    .addColumn('ffmpeg_path', type.text(500))
    .addColumn('output_directory', type.text(500), (col) => col.notNull())
    .$call(audit)
    .$call(rowVersion)
    .$call(check(t, 'id', sql`${sql.ref('id')} = ${sql.lit(1)}`))
    .execute()

  t = 'configurations'
  await db.schema
    .createTable(t)
    .addColumn('key', type.text(200), (col) => col.notNull().primaryKey())
    .addColumn('value', type.text(), (col) => col.notNull())
    .addColumn('category', type.text(100), (col) => col.notNull())
    .addColumn('value_type', type.text(20), (col) => col.notNull().defaultTo('string'))
    .addColumn('description', type.text(1000))
    .$call(bool(t, 'is_sensitive', false))
    .$call(bool(t, 'is_active', true))
    .$call(audit)
    .$call(rowVersion)
    .$call(oneOf(t, 'value_type', CONFIG_VALUE_TYPES))
    .execute()
  await index(t, ['category'])
  await index(t, ['is_sensitive'])
  await index(t, ['is_active'])
  await index(t, ['updated_at'])
  await index(t, ['category', 'is_active'])
  await index(t, ['category', 'updated_at'])

  t = 'templates'
  await db.schema
    .createTable(t)
    .$call(uuidKey)
    .addColumn('name', type.text(200), (col) => col.notNull())
    .addColumn('description', type.text(1000), (col) => col.notNull().defaultTo(''))
    .addColumn('category', type.text(50), (col) => col.notNull())
    .addColumn('sub_category', type.text(100), (col) => col.notNull().defaultTo(''))
    .addColumn('preview_image', type.text(500), (col) => col.notNull().defaultTo(''))
    .addColumn('preview_video', type.text(500), (col) => col.notNull().defaultTo(''))
    .addColumn('tags', type.text(500), (col) => col.notNull().defaultTo(''))
    .addColumn('template_data', type.json, (col) => col.notNull())
    .addColumn('author', type.text(200), (col) => col.notNull().defaultTo('System'))
    .$call(bool(t, 'is_system_template', true))
    .$call(bool(t, 'is_community_template', false))
    .addColumn('usage_count', type.int, (col) => col.notNull().defaultTo(0))
    .addColumn('rating', type.real, (col) => col.notNull().defaultTo(0))
    .addColumn('rating_count', type.int, (col) => col.notNull().defaultTo(0))
    .$call(audit)
    .$call(rowVersion)
    .$call(range(t, 'usage_count', 0))
    .$call(range(t, 'rating', 0, 5))
    .$call(range(t, 'rating_count', 0))
    .execute()
  await index(t, ['category'])
  await index(t, ['is_system_template'])
  await index(t, ['is_community_template'])
  await index(t, ['category', 'sub_category'])

  t = 'custom_templates'
  await db.schema
    .createTable(t)
    .$call(uuidKey)
    .addColumn('name', type.text(200), (col) => col.notNull())
    .addColumn('description', type.text(2000), (col) => col.notNull().defaultTo(''))
    .addColumn('category', type.text(100), (col) => col.notNull())
    .addColumn('tags', type.text(500), (col) => col.notNull().defaultTo(''))
    .addColumn('author', type.text(200), (col) => col.notNull().defaultTo('User'))
    .$call(bool(t, 'is_default', false))
    .addColumn('script_structure_json', type.json, (col) => col.notNull())
    .addColumn('video_structure_json', type.json, (col) => col.notNull())
    .addColumn('llm_pipeline_json', type.json, (col) => col.notNull())
    .addColumn('visual_preferences_json', type.json, (col) => col.notNull())
    .$call(audit)
    .$call(rowVersion)
    .$call(softDelete(t))
    .execute()
  await index(t, ['category'])
  await index(t, ['is_default'])
  await index(t, ['created_at'])
  await index(t, ['category', 'created_at'])
  await index(t, ['is_deleted'])
  await index(t, ['is_deleted', 'deleted_at'])

  t = 'export_history'
  await db.schema
    .createTable(t)
    .$call(uuidKey)
    .addColumn('input_file', type.text(500), (col) => col.notNull())
    .addColumn('output_file', type.text(500), (col) => col.notNull())
    .addColumn('preset_name', type.text(100), (col) => col.notNull())
    .addColumn('status', type.text(50), (col) => col.notNull().defaultTo('Queued'))
    .addColumn('progress', type.real, (col) => col.notNull().defaultTo(0))
    .addColumn('started_at', type.timestamp)
    .addColumn('completed_at', type.timestamp)
    .addColumn('error_message', type.text(1000))
    .addColumn('file_size', type.bigint)
    .addColumn('duration_seconds', type.real)
    .addColumn('platform', type.text(50))
    .addColumn('resolution', type.text(20))
    .addColumn('codec', type.text(50))
    .$call(audit)
    .$call(rowVersion)
    .$call(oneOf(t, 'status', EXPORT_STATUSES))
    .$call(range(t, 'progress', 0, 100))
    .$call(range(t, 'file_size', 0))
    .$call(range(t, 'duration_seconds', 0))
    .execute()
  await index(t, ['status'])
  await index(t, ['created_at'])
  await index(t, ['status', 'created_at'])

  t = 'action_logs'
  await db.schema
    .createTable(t)
    .$call(uuidKey)
    .addColumn('user_id', type.text(200), (col) => col.notNull().defaultTo(''))
    .addColumn('project_id', type.uuid)
    .addColumn('sequence', type.bigint, (col) => col.notNull())
    .addColumn('action_type', type.text(100), (col) => col.notNull())
    .addColumn('description', type.text(500), (col) => col.notNull().defaultTo(''))
    .addColumn('timestamp', type.timestamp, (col) => col.notNull().defaultTo(now))
    .addColumn('status', type.text(50), (col) => col.notNull().defaultTo('Applied'))
    .addColumn('affected_resource_ids', type.text(1000))
    .addColumn('payload_json', type.json)
    .addColumn('inverse_payload_json', type.json)
    .addColumn('inverse_action_type', type.text(100))
    .$call(bool(t, 'can_batch', false))
    .$call(bool(t, 'is_persistent', true))
    .addColumn('undone_at', type.timestamp)
    .addColumn('undone_by_user_id', type.text(200))
    .addColumn('expires_at', type.timestamp)
    .addColumn('error_message', type.text())
    .addColumn('correlation_id', type.text(100))
    .$call(timestamps)
    .$call(rowVersion)
    .$call(oneOf(t, 'status', ACTION_STATUSES))
    .execute()
  await index(t, ['user_id'])
  await index(t, ['action_type'])
  await index(t, ['status'])
  await index(t, ['timestamp'])
  await index(t, ['user_id', 'timestamp'])
  await index(t, ['status', 'timestamp'])
  await index(t, ['correlation_id'])
  await index(t, ['expires_at'])
  await index(t, ['project_id', 'sequence'])

  t = 'audit_entries'
  await db.schema
    .createTable(t)
    // Ids ascend in insertion order: AUTOINCREMENT stops SQLite from reusing the largest id
    // after a delete; PostgreSQL's identity column never reuses values.
    .addColumn('id', pg ? 'bigint' : 'integer', (col) =>
      pg ? col.generatedAlwaysAsIdentity().primaryKey() : col.notNull().primaryKey().autoIncrement(),
    )
    .addColumn('occurred_at', type.timestamp, (col) => col.notNull())
    .addColumn('actor', type.text(200))
    .addColumn('table_name', type.text(100), (col) => col.notNull())
    .addColumn('row_id', type.text(200), (col) => col.notNull())
    .addColumn('action', type.text(20), (col) => col.notNull())
    .addColumn('changes_json', type.json)
    .addColumn('correlation_id', type.text(100))
    .$call(oneOf(t, 'action', AUDIT_ACTIONS))
    .execute()
  await index(t, ['table_name', 'row_id'])
  await index(t, ['occurred_at'])
  await index(t, ['actor'])

  await db
    .insertInto('system_configuration')
    .values({ id: 1, output_directory: path.join(os.homedir(), 'AuraVideoStudio', 'Output') })
    .execute()
}

export async function down(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  // Indexes, constraints, the SQLite AUTOINCREMENT counter and the PostgreSQL identity
  // sequence all go with their tables.
  for (const table of [...TABLES].reverse()) {
    await db.schema.dropTable(table).execute()
  }
}
