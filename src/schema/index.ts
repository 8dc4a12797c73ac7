import { actionLogsTable } from './action-logs.js'
import { assetStatesTable } from './asset-states.js'
import { auditEntriesTable } from './audit-entries.js'
import { configurationsTable } from './configurations.js'
import { contentBlobsTable } from './content-blobs.js'
import { customTemplatesTable } from './custom-templates.js'
import { exportHistoryTable } from './export-history.js'
import { projectStatesTable } from './project-states.js'
import { projectVersionsTable } from './project-versions.js'
import { renderCheckpointsTable } from './render-checkpoints.js'
import { sceneStatesTable } from './scene-states.js'
import { systemConfigurationTable } from './system-configuration.js'
import { templatesTable } from './templates.js'
import { userSetupsTable } from './user-setups.js'

export {
  c,
  camelToSnake,
  defineTable,
  type ColumnKind,
  type CheckSpec,
  type ColumnSpec,
  type DefaultValue,
  type IndexInput,
  type IndexSpec,
  NEW_UUID,
  NOW,
  type ReferenceSpec,
  type EntityOf,
  type InsertOf,
  type TableDef,
  type TableFeatures,
  type UpdateOf,
} from './define.js'

export {
  PROJECT_STATUSES,
  projectStatesTable,
  type NewProjectState,
  type ProjectState,
  type ProjectStateUpdate,
} from './project-states.js'
export {
  sceneStatesTable,
  type NewSceneState,
  type SceneState,
  type SceneStateUpdate,
} from './scene-states.js'
export {
  ASSET_TYPES,
  assetStatesTable,
  type AssetState,
  type AssetStateUpdate,
  type NewAssetState,
} from './asset-states.js'
export {
  renderCheckpointsTable,
  type NewRenderCheckpoint,
  type RenderCheckpoint,
  type RenderCheckpointUpdate,
} from './render-checkpoints.js'
export {
  VERSION_TYPES,
  projectVersionsTable,
  type NewProjectVersion,
  type ProjectVersion,
  type ProjectVersionUpdate,
} from './project-versions.js'
export {
  CONTENT_TYPES,
  contentBlobsTable,
  type ContentBlob,
  type ContentBlobUpdate,
  type NewContentBlob,
} from './content-blobs.js'
export { userSetupsTable, type NewUserSetup, type UserSetup, type UserSetupUpdate } from './user-setups.js'
export {
  systemConfigurationTable,
  type NewSystemConfiguration,
  type SystemConfiguration,
  type SystemConfigurationUpdate,
} from './system-configuration.js'
export {
  CONFIG_VALUE_TYPES,
  configurationsTable,
  type Configuration,
  type ConfigurationUpdate,
  type NewConfiguration,
} from './configurations.js'
export { templatesTable, type NewTemplate, type Template, type TemplateUpdate } from './templates.js'
export {
  customTemplatesTable,
  type CustomTemplate,
  type CustomTemplateUpdate,
  type NewCustomTemplate,
} from './custom-templates.js'
export {
  EXPORT_STATUSES,
  exportHistoryTable,
  type ExportHistoryEntry,
  type ExportHistoryEntryUpdate,
  type NewExportHistoryEntry,
} from './export-history.js'
export {
  ACTION_STATUSES,
  actionLogsTable,
  type ActionLog,
  type ActionLogUpdate,
  type NewActionLog,
} from './action-logs.js'
export {
  AUDIT_ACTIONS,
  auditEntriesTable,
  type AuditEntry,
  type AuditEntryUpdate,
  type NewAuditEntry,
} from './audit-entries.js'

/**
 * Every table, in foreign-key-safe creation order (a table comes after the tables it
 * references); drop in reverse.
 */
export const allTables = [
  projectStatesTable,
  contentBlobsTable,
  sceneStatesTable,
  assetStatesTable,
  renderCheckpointsTable,
  projectVersionsTable,
  userSetupsTable,
  systemConfigurationTable,
  configurationsTable,
  templatesTable,
  customTemplatesTable,
  exportHistoryTable,
  actionLogsTable,
  auditEntriesTable,
] as const

export type AnyTable = (typeof allTables)[number]
