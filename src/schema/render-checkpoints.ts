import {
  c,
  defineTable,
  NEW_UUID,
  NOW,
  type EntityOf,
  type InsertOf,
  type ResolvedTable,
  type UpdateOf,
} from './define.js'

/**
 * `render_checkpoints`: resumable pipeline progress of a project. The cross-column rule
 * `completedScenes <= totalScenes` is a CHECK in the migration; per-column limits live here.
 */
export const renderCheckpointsTable = defineTable({
  name: 'render_checkpoints',
  primaryKey: 'id',
  keyGeneration: 'uuid',
  features: { audit: true, rowVersion: true, softDelete: false },
  columns: {
    id: c.uuid().withDefault(NEW_UUID),
    projectId: c.uuid().references('project_states', 'id', 'cascade'),
    // Free text, as project_states.currentStage; several checkpoints of one stage may be valid.
    stageName: c.text(100).notBlank(),
    checkpointTime: c.timestamp().withDefault(NOW),
    completedScenes: c.int().range(0).withDefault(0),
    totalScenes: c.int().range(0).withDefault(0),
    checkpointData: c.json().nullable(),
    outputFilePath: c.text(500).nullable(),
    isValid: c.bool().withDefault(true),
  },
  indexes: [['projectId'], ['projectId', 'stageName'], ['checkpointTime']],
  checks: { completed_scenes_le_total_scenes: '"completed_scenes" <= "total_scenes"' },
})

/** The definition of `render_checkpoints` the types use: the application's extension when it declares one (`AuraTableExtensions`). */
export type RenderCheckpointsTable = ResolvedTable<'render_checkpoints', typeof renderCheckpointsTable>

/**
 * A row of `render_checkpoints` as the repositories return it.
 * @interface
 */
export type RenderCheckpoint = EntityOf<RenderCheckpointsTable>
/**
 * What `add` takes for a row of `render_checkpoints`: the required fields, and the optional ones.
 * @interface
 */
export type NewRenderCheckpoint = InsertOf<RenderCheckpointsTable>
/**
 * What `update` takes for a row of `render_checkpoints`: the key and `rowVersion`, and the fields to change.
 * @interface
 */
export type RenderCheckpointUpdate = UpdateOf<RenderCheckpointsTable>
