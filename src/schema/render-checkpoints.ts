import { c, defineTable, type EntityOf, type InsertOf, type UpdateOf } from './define.js'

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
    id: c.uuid().withDefault(),
    projectId: c.uuid(),
    // Free text, as project_states.currentStage; several checkpoints of one stage may be valid.
    stageName: c.text(100).notBlank(),
    checkpointTime: c.timestamp().withDefault(),
    completedScenes: c.int().range(0).withDefault(),
    totalScenes: c.int().range(0).withDefault(),
    checkpointData: c.json().nullable(),
    outputFilePath: c.text(500).nullable(),
    isValid: c.bool().withDefault(),
  },
})

export type RenderCheckpoint = EntityOf<typeof renderCheckpointsTable>
export type NewRenderCheckpoint = InsertOf<typeof renderCheckpointsTable>
export type RenderCheckpointUpdate = UpdateOf<typeof renderCheckpointsTable>
