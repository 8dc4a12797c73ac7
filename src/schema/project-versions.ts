import {
  c,
  defineTable,
  NEW_UUID,
  type EntityOf,
  type InsertOf,
  type ResolvedTable,
  type UpdateOf,
} from './define.js'

export const VERSION_TYPES = ['Manual', 'Autosave', 'RestorePoint'] as const

/** `project_versions`: a snapshot of a project; the content itself lives in `content_blobs`. */
export const projectVersionsTable = defineTable({
  name: 'project_versions',
  primaryKey: 'id',
  keyGeneration: 'uuid',
  features: { audit: true, rowVersion: true, softDelete: true },
  columns: {
    id: c.uuid().withDefault(NEW_UUID),
    projectId: c.uuid().references('project_states', 'id', 'cascade'),
    versionNumber: c.int().range(1),
    name: c.text(200).nullable(),
    description: c.text(2000).nullable(),
    versionType: c.text(50).oneOf(VERSION_TYPES).withDefault('Manual'),
    trigger: c.text(200).nullable(),
    briefHash: c.text(64).nullable().references('content_blobs', 'content_hash'),
    planHash: c.text(64).nullable().references('content_blobs', 'content_hash'),
    voiceHash: c.text(64).nullable().references('content_blobs', 'content_hash'),
    renderHash: c.text(64).nullable().references('content_blobs', 'content_hash'),
    timelineHash: c.text(64).nullable().references('content_blobs', 'content_hash'),
    storageSizeBytes: c.bigint().range(0).withDefault(0),
    isMarkedImportant: c.bool().withDefault(false),
  },
  indexes: [
    ['projectId'],
    { columns: ['projectId', 'versionNumber'], unique: true },
    ['versionType'],
    ['createdAt'],
    ['projectId', 'createdAt'],
    ['isDeleted'],
    ['isDeleted', 'deletedAt'],
    ['isMarkedImportant'],
  ],
})

/** The definition of `project_versions` the types use: the application's extension when it declares one (`AuraTableExtensions`). */
export type ProjectVersionsTable = ResolvedTable<'project_versions', typeof projectVersionsTable>

/**
 * A row of `project_versions` as the repositories return it.
 * @interface
 */
export type ProjectVersion = EntityOf<ProjectVersionsTable>
/**
 * What `add` takes for a row of `project_versions`: the required fields, and the optional ones.
 * @interface
 */
export type NewProjectVersion = InsertOf<ProjectVersionsTable>
/**
 * What `update` takes for a row of `project_versions`: the key and `rowVersion`, and the fields to change.
 * @interface
 */
export type ProjectVersionUpdate = UpdateOf<ProjectVersionsTable>

/** The columns of `project_versions` that reference `content_blobs`, read from the definition. */
export const VERSION_HASH_COLUMNS: readonly string[] = projectVersionsTable.fields
  .map((field) => projectVersionsTable.columns[field]!)
  .filter((spec) => spec.references?.table === 'content_blobs')
  .map((spec) => spec.column)
