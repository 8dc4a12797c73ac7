import { actionLogsTable } from './action-logs.js'
import type { TableDef } from './define.js'
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
  extendTable,
  type AuraTableExtensions,
  type ColsOf,
  type ResolvedTable,
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
  type ProjectStatesTable,
} from './project-states.js'
export {
  sceneStatesTable,
  type NewSceneState,
  type SceneState,
  type SceneStateUpdate,
  type SceneStatesTable,
} from './scene-states.js'
export {
  ASSET_TYPES,
  assetStatesTable,
  type AssetState,
  type AssetStateUpdate,
  type NewAssetState,
  type AssetStatesTable,
} from './asset-states.js'
export {
  renderCheckpointsTable,
  type NewRenderCheckpoint,
  type RenderCheckpoint,
  type RenderCheckpointUpdate,
  type RenderCheckpointsTable,
} from './render-checkpoints.js'
export {
  VERSION_TYPES,
  projectVersionsTable,
  type NewProjectVersion,
  type ProjectVersion,
  type ProjectVersionUpdate,
  type ProjectVersionsTable,
} from './project-versions.js'
export {
  CONTENT_TYPES,
  contentBlobsTable,
  type ContentBlob,
  type ContentBlobUpdate,
  type NewContentBlob,
  type ContentBlobsTable,
} from './content-blobs.js'
export {
  userSetupsTable,
  type NewUserSetup,
  type UserSetup,
  type UserSetupUpdate,
  type UserSetupsTable,
} from './user-setups.js'
export {
  systemConfigurationTable,
  type NewSystemConfiguration,
  type SystemConfiguration,
  type SystemConfigurationUpdate,
  type SystemConfigurationTable,
} from './system-configuration.js'
export {
  CONFIG_VALUE_TYPES,
  configurationsTable,
  type Configuration,
  type ConfigurationUpdate,
  type NewConfiguration,
  type ConfigurationsTable,
} from './configurations.js'
export {
  templatesTable,
  type NewTemplate,
  type Template,
  type TemplateUpdate,
  type TemplatesTable,
} from './templates.js'
export {
  customTemplatesTable,
  type CustomTemplate,
  type CustomTemplateUpdate,
  type NewCustomTemplate,
  type CustomTemplatesTable,
} from './custom-templates.js'
export {
  EXPORT_STATUSES,
  exportHistoryTable,
  type ExportHistoryEntry,
  type ExportHistoryEntryUpdate,
  type NewExportHistoryEntry,
  type ExportHistoryTable,
} from './export-history.js'
export {
  ACTION_STATUSES,
  actionLogsTable,
  type ActionLog,
  type ActionLogUpdate,
  type NewActionLog,
  type ActionLogsTable,
} from './action-logs.js'
export {
  AUDIT_ACTIONS,
  auditEntriesTable,
  type AuditEntry,
  type AuditEntryUpdate,
  type NewAuditEntry,
  type AuditEntriesTable,
} from './audit-entries.js'

/**
 * Every table, in foreign-key-safe creation order (a table comes after the tables it
 * references); drop in reverse. Typed as plain definitions: each table's own type is its
 * constant's (`projectStatesTable`, …).
 */
export const allTables: readonly TableDef[] = [
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
]
