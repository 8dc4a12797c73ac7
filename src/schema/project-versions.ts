import { c, defineTable, type EntityOf, type InsertOf, type UpdateOf } from './define.js'

export const VERSION_TYPES = ['Manual', 'Autosave', 'RestorePoint'] as const

/** `project_versions`: a snapshot of a project; the content itself lives in `content_blobs`. */
export const projectVersionsTable = defineTable({
  name: 'project_versions',
  primaryKey: 'id',
  keyGeneration: 'uuid',
  features: { audit: true, rowVersion: true, softDelete: true },
  columns: {
    id: c.uuid().withDefault(),
    projectId: c.uuid(),
    versionNumber: c.int().range(1),
    name: c.text(200).nullable(),
    description: c.text(2000).nullable(),
    versionType: c.text(50).oneOf(VERSION_TYPES).withDefault(),
    trigger: c.text(200).nullable(),
    briefHash: c.text(64).nullable(),
    planHash: c.text(64).nullable(),
    voiceHash: c.text(64).nullable(),
    renderHash: c.text(64).nullable(),
    timelineHash: c.text(64).nullable(),
    storageSizeBytes: c.bigint().range(0).withDefault(),
    isMarkedImportant: c.bool().withDefault(),
  },
})

export type ProjectVersion = EntityOf<typeof projectVersionsTable>
export type NewProjectVersion = InsertOf<typeof projectVersionsTable>
export type ProjectVersionUpdate = UpdateOf<typeof projectVersionsTable>
