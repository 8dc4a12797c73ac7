import {
  c,
  defineTable,
  NEW_UUID,
  type EntityOf,
  type InsertOf,
  type ResolvedTable,
  type UpdateOf,
} from './define.js'

export const PROJECT_STATUSES = ['Draft', 'InProgress', 'Completed', 'Failed', 'Cancelled'] as const

/** `project_states`: a video-generation project (wizard progress, pipeline progress, serialised specs). */
export const projectStatesTable = defineTable({
  name: 'project_states',
  primaryKey: 'id',
  keyGeneration: 'uuid',
  features: { audit: true, rowVersion: true, softDelete: true },
  columns: {
    id: c.uuid().withDefault(NEW_UUID),
    // No length limit: the app sets the title from the brief's topic, of any length (docs/importing.md).
    title: c.text().notBlank(),
    description: c.text(2000).nullable(),
    currentWizardStep: c.int().range(0, 3).withDefault(0),
    status: c.text(50).oneOf(PROJECT_STATUSES).withDefault('Draft'),
    completedAt: c.timestamp().nullable(),
    // Free text set by the app's pipeline (Initialization, ScriptGeneration, …, Rendering).
    currentStage: c.text(100).nullable(),
    progressPercent: c.int().range(0, 100).withDefault(0),
    jobId: c.text(100).nullable(),
    briefJson: c.json().nullable(),
    planSpecJson: c.json().nullable(),
    voiceSpecJson: c.json().nullable(),
    renderSpecJson: c.json().nullable(),
    errorMessage: c.text().nullable(),
    // Added by the application after the original design (issue 9, CatchUpProjectStates).
    category: c.text(100).nullable(),
    /** Comma-separated tags, e.g. `travel,summer`; see `projectStates.findByTag`. */
    tags: c.text(1000).nullable(),
    templateId: c.text(50).nullable(),
    thumbnailPath: c.text(1000).nullable(),
    outputFilePath: c.text(1000).nullable(),
    durationSeconds: c.real().nullable(),
    lastAutoSaveAt: c.timestamp().nullable(),
  },
  indexes: [
    ['status'],
    ['updatedAt'],
    ['status', 'updatedAt'],
    ['jobId'],
    ['isDeleted'],
    ['isDeleted', 'deletedAt'],
    // The status page and the count by status read only live rows, newest first (QueryPlansAtScale).
    { columns: ['status', 'updatedAt desc', 'id'], live: true },
    ['category'],
    ['templateId'],
    ['createdAt'],
    ['category', 'createdAt'],
    ['status', 'category'],
  ],
})

/** The definition of `project_states` the types use: the application's extension when it declares one (`AuraTableExtensions`). */
export type ProjectStatesTable = ResolvedTable<'project_states', typeof projectStatesTable>

/**
 * A row of `project_states` as the repositories return it.
 * @interface
 */
export type ProjectState = EntityOf<ProjectStatesTable>
/**
 * What `add` takes for a row of `project_states`: the required fields, and the optional ones.
 * @interface
 */
export type NewProjectState = InsertOf<ProjectStatesTable>
/**
 * What `update` takes for a row of `project_states`: the key and `rowVersion`, and the fields to change.
 * @interface
 */
export type ProjectStateUpdate = UpdateOf<ProjectStatesTable>
