import { c, defineTable, type EntityOf, type InsertOf, type UpdateOf } from './define.js'

export const PROJECT_STATUSES = ['Draft', 'InProgress', 'Completed', 'Failed', 'Cancelled'] as const

/** `project_states`: a video-generation project (wizard progress, pipeline progress, serialised specs). */
export const projectStatesTable = defineTable({
  name: 'project_states',
  primaryKey: 'id',
  keyGeneration: 'uuid',
  features: { audit: true, rowVersion: true, softDelete: true },
  columns: {
    id: c.uuid().withDefault(),
    // No length limit: the app sets the title from the brief's topic, of any length.
    title: c.text().notBlank(),
    description: c.text(2000).nullable(),
    currentWizardStep: c.int().range(0, 3).withDefault(),
    status: c.text(50).oneOf(PROJECT_STATUSES).withDefault(),
    completedAt: c.timestamp().nullable(),
    // Free text set by the app's pipeline (Initialization, ScriptGeneration, …, Rendering).
    currentStage: c.text(100).nullable(),
    progressPercent: c.int().range(0, 100).withDefault(),
    jobId: c.text(100).nullable(),
    briefJson: c.json().nullable(),
    planSpecJson: c.json().nullable(),
    voiceSpecJson: c.json().nullable(),
    renderSpecJson: c.json().nullable(),
    errorMessage: c.text().nullable(),
  },
})

export type ProjectState = EntityOf<typeof projectStatesTable>
export type NewProjectState = InsertOf<typeof projectStatesTable>
export type ProjectStateUpdate = UpdateOf<typeof projectStatesTable>
