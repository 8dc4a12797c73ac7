import { expect } from 'vitest'
import { allTables, type ColumnKind, type ColumnSpec, type SchemaSnapshot } from '../src/index.js'

/**
 * Every index of schema.md, by table: name, columns, unique. Written out by hand from the spec
 * (not derived from the migration), so a missing or misnamed index fails.
 */
export const SPEC_INDEXES: Record<string, readonly (readonly [string, readonly string[]])[]> = {
  project_states: [
    ['ix_project_states_status', ['status']],
    ['ix_project_states_updated_at', ['updated_at']],
    ['ix_project_states_status_updated_at', ['status', 'updated_at']],
    ['ix_project_states_job_id', ['job_id']],
    ['ix_project_states_is_deleted', ['is_deleted']],
    ['ix_project_states_is_deleted_deleted_at', ['is_deleted', 'deleted_at']],
  ],
  scene_states: [
    ['ix_scene_states_project_id', ['project_id']],
    ['ux_scene_states_project_id_scene_index', ['project_id', 'scene_index']],
  ],
  asset_states: [
    ['ix_asset_states_project_id', ['project_id']],
    ['ix_asset_states_project_id_asset_type', ['project_id', 'asset_type']],
    ['ix_asset_states_is_temporary', ['is_temporary']],
  ],
  render_checkpoints: [
    ['ix_render_checkpoints_project_id', ['project_id']],
    ['ix_render_checkpoints_project_id_stage_name', ['project_id', 'stage_name']],
    ['ix_render_checkpoints_checkpoint_time', ['checkpoint_time']],
  ],
  project_versions: [
    ['ix_project_versions_project_id', ['project_id']],
    ['ux_project_versions_project_id_version_number', ['project_id', 'version_number']],
    ['ix_project_versions_version_type', ['version_type']],
    ['ix_project_versions_created_at', ['created_at']],
    ['ix_project_versions_project_id_created_at', ['project_id', 'created_at']],
    ['ix_project_versions_is_deleted', ['is_deleted']],
    ['ix_project_versions_is_deleted_deleted_at', ['is_deleted', 'deleted_at']],
    ['ix_project_versions_is_marked_important', ['is_marked_important']],
  ],
  content_blobs: [
    ['ix_content_blobs_content_type', ['content_type']],
    ['ix_content_blobs_last_referenced_at', ['last_referenced_at']],
    ['ix_content_blobs_reference_count', ['reference_count']],
  ],
  user_setups: [
    ['ux_user_setups_user_id', ['user_id']],
    ['ix_user_setups_completed', ['completed']],
    ['ix_user_setups_updated_at', ['updated_at']],
  ],
  system_configuration: [],
  configurations: [
    ['ix_configurations_category', ['category']],
    ['ix_configurations_is_sensitive', ['is_sensitive']],
    ['ix_configurations_is_active', ['is_active']],
    ['ix_configurations_updated_at', ['updated_at']],
    ['ix_configurations_category_is_active', ['category', 'is_active']],
    ['ix_configurations_category_updated_at', ['category', 'updated_at']],
  ],
  templates: [
    ['ix_templates_category', ['category']],
    ['ix_templates_is_system_template', ['is_system_template']],
    ['ix_templates_is_community_template', ['is_community_template']],
    ['ix_templates_category_sub_category', ['category', 'sub_category']],
  ],
  custom_templates: [
    ['ix_custom_templates_category', ['category']],
    ['ix_custom_templates_is_default', ['is_default']],
    ['ix_custom_templates_created_at', ['created_at']],
    ['ix_custom_templates_category_created_at', ['category', 'created_at']],
    ['ix_custom_templates_is_deleted', ['is_deleted']],
    ['ix_custom_templates_is_deleted_deleted_at', ['is_deleted', 'deleted_at']],
  ],
  export_history: [
    ['ix_export_history_status', ['status']],
    ['ix_export_history_created_at', ['created_at']],
    ['ix_export_history_status_created_at', ['status', 'created_at']],
  ],
  action_logs: [
    ['ix_action_logs_user_id', ['user_id']],
    ['ix_action_logs_action_type', ['action_type']],
    ['ix_action_logs_status', ['status']],
    ['ix_action_logs_timestamp', ['timestamp']],
    ['ix_action_logs_user_id_timestamp', ['user_id', 'timestamp']],
    ['ix_action_logs_status_timestamp', ['status', 'timestamp']],
    ['ix_action_logs_correlation_id', ['correlation_id']],
    ['ix_action_logs_expires_at', ['expires_at']],
    ['ix_action_logs_project_id_sequence', ['project_id', 'sequence']],
  ],
  audit_entries: [
    ['ix_audit_entries_table_name_row_id', ['table_name', 'row_id']],
    ['ix_audit_entries_occurred_at', ['occurred_at']],
    ['ix_audit_entries_actor', ['actor']],
  ],
}

/**
 * What the later migrations add (QueryPlansAtScale; CatchUpProjectStates, the real application's
 * columns and indexes of issue 9): the schema after every migration is schema.md plus these.
 */
export const LATER_INDEXES: Record<string, readonly (readonly [string, readonly string[]])[]> = {
  project_states: [
    ['ix_project_states_live_status_updated_at_id', ['status', 'updated_at', 'id']],
    ['ix_project_states_category', ['category']],
    ['ix_project_states_template_id', ['template_id']],
    ['ix_project_states_created_at', ['created_at']],
    ['ix_project_states_category_created_at', ['category', 'created_at']],
    ['ix_project_states_status_category', ['status', 'category']],
  ],
  export_history: [['ix_export_history_status_created_at_id', ['status', 'created_at', 'id']]],
}
export const LATER_COLUMNS: Record<string, readonly string[]> = {
  project_states: [
    'category',
    'tags',
    'template_id',
    'thumbnail_path',
    'output_file_path',
    'duration_seconds',
    'last_auto_save_at',
  ],
}

/** The foreign keys of schema.md: table → (column → referenced table.column, on delete). */
export const SPEC_FOREIGN_KEYS: Record<string, Record<string, readonly [string, string, string]>> = {
  scene_states: { project_id: ['project_states', 'id', 'cascade'] },
  asset_states: { project_id: ['project_states', 'id', 'cascade'] },
  render_checkpoints: { project_id: ['project_states', 'id', 'cascade'] },
  project_versions: {
    project_id: ['project_states', 'id', 'cascade'],
    brief_hash: ['content_blobs', 'content_hash', 'no action'],
    plan_hash: ['content_blobs', 'content_hash', 'no action'],
    voice_hash: ['content_blobs', 'content_hash', 'no action'],
    render_hash: ['content_blobs', 'content_hash', 'no action'],
    timeline_hash: ['content_blobs', 'content_hash', 'no action'],
  },
}

/** Physical column types of schema.md's logical types, as each dialect's catalog spells them. */
const PHYSICAL: Record<'sqlite' | 'postgres', (kind: ColumnKind, maxLength?: number) => string> = {
  sqlite: (kind) =>
    ({
      uuid: 'TEXT',
      text: 'TEXT',
      json: 'TEXT',
      int: 'INTEGER',
      bigint: 'INTEGER',
      real: 'REAL',
      bool: 'INTEGER',
      timestamp: 'TEXT',
    })[kind],
  postgres: (kind, maxLength) =>
    kind === 'text' && maxLength
      ? `character varying(${maxLength})`
      : {
          uuid: 'uuid',
          text: 'text',
          json: 'text',
          int: 'integer',
          bigint: 'bigint',
          real: 'double precision',
          bool: 'boolean',
          timestamp: 'timestamp with time zone',
        }[kind],
}

/** Physical types InitialCreate gave columns that a later migration changed (`table.column`). */
const INITIAL_CREATE_TYPES: Record<'sqlite' | 'postgres', Record<string, string>> = {
  sqlite: {},
  // AcceptAppValues lifted the title's limit (the .NET app writes titles of any length).
  postgres: { 'project_states.title': 'character varying(500)' },
}

/**
 * Asserts that `live` (the domain tables of a migrated database) is exactly the schema of
 * schema.md (`stage` 'initial', after InitialCreate; 'latest', plus the later migrations): the 14 tables; per table the columns of its src/schema definition with their
 * physical type, nullability and primary key; the named indexes; the foreign keys.
 */
export function expectSpecSchema(
  live: SchemaSnapshot,
  dialect: 'sqlite' | 'postgres',
  stage: 'initial' | 'latest' = 'initial',
): void {
  // SQLite's FTS5 tables (TemplateSearch) are not tables of schema.md.
  live = { tables: live.tables.filter((t) => t.role === undefined) }
  // After InitialCreate, later migrations changed these columns.
  const initialType = (table: string, column: string): string | undefined =>
    stage === 'initial' ? INITIAL_CREATE_TYPES[dialect][`${table}.${column}`] : undefined
  expect(live.tables.map((t) => t.name)).toEqual(allTables.map((t) => t.name).sort())
  expect(Object.keys(SPEC_INDEXES).sort()).toEqual(allTables.map((t) => t.name).sort())
  for (const def of allTables) {
    const table = live.tables.find((t) => t.name === def.name)!
    const expectedColumns = Object.values(def.columns as Record<string, ColumnSpec>)
      .filter((spec) => stage === 'latest' || !LATER_COLUMNS[def.name]?.includes(spec.column))
      .map((spec) => ({
        name: spec.column,
        type: initialType(def.name, spec.column) ?? PHYSICAL[dialect](spec.kind, spec.maxLength),
        nullable: spec.nullable,
        primaryKey: spec.column === (def.columns as Record<string, ColumnSpec>)[def.primaryKey]!.column,
      }))
      .sort((a, b) => a.name.localeCompare(b.name))
    const liveColumns = table.columns
      .map(({ name, type, nullable, primaryKey }) => ({ name, type, nullable, primaryKey }))
      .sort((a, b) => a.name.localeCompare(b.name))
    expect(liveColumns, `columns of ${def.name}`).toEqual(expectedColumns)
    const expectedIndexes = [
      ...SPEC_INDEXES[def.name]!,
      ...(stage === 'latest' ? (LATER_INDEXES[def.name] ?? []) : []),
      // TemplateSearch: PostgreSQL's full-text search is an expression index (SQLite's an FTS5 table).
      ...(stage === 'latest' && dialect === 'postgres' && def.fullTextSearch
        ? [[`ix_${def.name}_search`, []] as const]
        : []),
    ]
      .map(([name, columns]) => ({
        name,
        columns,
        unique: name.startsWith('ux_'),
      }))
      .sort((a, b) => a.name.localeCompare(b.name))
    const liveIndexes = table.indexes
      .map(({ name, columns, unique }) => ({ name, columns, unique }))
      .sort((a, b) => a.name.localeCompare(b.name))
    expect(liveIndexes, `indexes of ${def.name}`).toEqual(expectedIndexes)
    const expectedKeys = Object.entries(SPEC_FOREIGN_KEYS[def.name] ?? {})
      .map(([column, [referencedTable, referencedColumn, onDelete]]) => ({
        columns: [column],
        referencedTable,
        referencedColumns: [referencedColumn],
        onDelete,
      }))
      .sort((a, b) => a.columns[0]!.localeCompare(b.columns[0]!))
    const liveKeys = [...table.foreignKeys].sort((a, b) => a.columns.join().localeCompare(b.columns.join()))
    expect(liveKeys, `foreign keys of ${def.name}`).toEqual(expectedKeys)
  }
}
