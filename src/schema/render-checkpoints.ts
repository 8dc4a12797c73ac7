import { c, defineTable, NEW_UUID, NOW, type EntityOf, type InsertOf, type UpdateOf } from './define.js'
import { PIPELINE_STAGES } from './project-states.js'

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
    stageName: c.text(100).oneOf(PIPELINE_STAGES),
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

export type RenderCheckpoint = EntityOf<typeof renderCheckpointsTable>
export type NewRenderCheckpoint = InsertOf<typeof renderCheckpointsTable>
export type RenderCheckpointUpdate = UpdateOf<typeof renderCheckpointsTable>
