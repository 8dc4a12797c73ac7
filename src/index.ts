/**
 * Aura Data: the persistence layer of Aura Video Studio. The public API, as an explicit list.
 */
/// <reference types="node" preserve="true" />
export { openDatabase, AuraDatabase, type OpenDatabaseOptions, type TransactionOptions } from './database.js'
export type {
  ConnectionMetrics,
  DatabaseMetrics,
  PostgresTarget,
  ReadRoutingMetrics,
  ReplicaMetrics,
  StatementStats,
} from './dialect/index.js'
export { UnitOfWork, type UnitOfWorkOptions } from './unit-of-work.js'
export {
  AuraDataError,
  BackupError,
  BusyError,
  CommitUnknownError,
  ConcurrencyError,
  ConnectionLostError,
  ConstraintError,
  DatabaseError,
  DatabaseReplacedError,
  DeadlineError,
  ERROR_CODES,
  ImportError,
  AccessDeniedError,
  IntegrityError,
  MigrationError,
  NotFoundError,
  StorageError,
  UsageError,
  ValidationError,
  type AuraErrorCode,
  type ImportProblem,
} from './errors.js'
export {
  createDatabaseIfMissing,
  defaultDatabaseUrl,
  parseDatabaseUrl,
  type DialectName,
  type ParsedUrl,
  type PostgresPoolOptions,
  type QueryLogEvent,
  type QueryLogOptions,
  type SchemaSnapshot,
} from './dialect/index.js'
export type {
  IntrospectedColumn,
  IntrospectedForeignKey,
  IntrospectedIndex,
  IntrospectedTable,
} from './dialect/introspector.js'
export { importEfDatabase, type EfImportOptions } from './operations/import-ef/import-ef.js'
export type {
  EfImportDifference,
  EfImportReport,
  EfImportTable,
} from './operations/import-ef/import-report.js'
export type { SourceFiles } from './operations/import-ef/source-files.js'
export type { NormalisationCounts } from './operations/import-ef/legacy-values.js'
export type { AbsentInLegacy, LegacyAppVersion } from './operations/import-ef/legacy-versions.js'
export type { SceneIndexMove } from './operations/import-ef/scene-indexes.js'
export { verifyDatabase, type VerifyCheck, type VerifyReport } from './operations/verify.js'
export {
  grantHubAccess,
  hubChangesSince,
  hubMembers,
  initHub,
  revokeHubAccess,
  type HubGrantOptions,
  type HubScope,
} from './operations/hub.js'
export type { HubAccess, HubChange, HubChanges, HubMember, HubSetup } from './dialect/index.js'
export {
  addGeneratedMigration,
  checkSchema,
  type AddedMigration,
  type SchemaCheckOptions,
  type SchemaCheckReport,
} from './operations/schema-check.js'
export { parseRenames, type Renames } from './migration/generate.js'
export type { SchemaDifference } from './migration/schema-model.js'
export {
  DEFAULT_KEEP,
  SAFETY_BACKUPS_KEPT,
  type BackupOptions,
  type BackupProgressEvent,
  type BackupResult,
} from './operations/backup.js'
export {
  restoreDatabase,
  type RestoreOptions,
  type RestorePlan,
  type RestoreProgressEvent,
  type RestoreResult,
} from './operations/restore.js'
export {
  listBackups,
  type BackupEntry,
  type BackupKind,
  type BackupManifest,
} from './operations/backup-files.js'
export {
  Migrator,
  type AppliedMigration,
  type DriftEntry,
  type MigrationListEntry,
  type MigrationResult,
  type MigrationRun,
  type MigrationSetStatus,
  type MigrationStatus,
  type MigratorOptions,
} from './migration/migrator.js'
export { FIRST_PACKAGE_MIGRATION, migrationSets, type MigrationSet } from './migration/migration-sets.js'
export type { MigrationFile, MigrationSetName } from './migration/migration-source.js'
export type {
  AssetStatesRepository,
  Repositories,
  SystemConfigurationRepository,
  TableRepository,
  UserSetupsRepository,
} from './repository/repositories.js'
export { ReadRepository, type ReadOptions } from './repository/read-repository.js'
export { Repository } from './repository/repository.js'
export { SoftDeleteRepository } from './repository/soft-delete-repository.js'
export type { OrderBy, QueryOptions, Where } from './repository/filter.js'
export type { AuditChanges } from './repository/audit-writer.js'
export type {
  ChangeFeed,
  ChangeListener,
  CommittedChanges,
  RowAction,
  RowChange,
  SubscribeOptions,
} from './repository/change-feed.js'
export type {
  IncompleteOptions,
  ProjectStatesRepository,
  ProjectWithDetails,
} from './repository/project-states-repository.js'
export type {
  CheckpointProgress,
  RenderCheckpointsRepository,
} from './repository/render-checkpoints-repository.js'
export type { AuditEntriesRepository } from './repository/audit-entries-repository.js'
export type { ConfigValue, SetOptions } from './repository/configurations-repository.js'
export type { ConfigurationsRepository } from './repository/configurations-repository.js'
export type {
  CustomTemplatesRepository,
  TemplatesRepository,
  TemplateSearch,
} from './repository/templates-repository.js'
export {
  FINISHED_EXPORT_STATUSES,
  type ExportHistoryRepository,
  type ExportQuery,
  type ExportRequest,
  type ExportResult,
  type ExportStatus,
} from './repository/export-history-repository.js'
export {
  SecretCipher,
  secretKeyId,
  type SecretKeyInput,
  type SecretKeyOptions,
  type ValueCipher,
} from './domain/secrets.js'
export {
  defaultSettings,
  SEED_PROFILES,
  SEEDED_TABLES,
  type DefaultSetting,
  type SeedProfile,
  type SeedResult,
} from './operations/seed.js'
export type { ContentBlobsRepository, GarbageCollection } from './repository/content-blobs-repository.js'
export type {
  CreateVersionOptions,
  ProjectVersionsRepository,
  PruneAutosavesOptions,
  VersionComparison,
  VersionContent,
  VersionPart,
  VersionRestore,
  VersionStorage,
} from './repository/project-versions-repository.js'
export type { TimelineScene } from './domain/timeline.js'
export type { SceneStatesRepository } from './repository/scene-states-repository.js'
export type {
  ActionApplier,
  ActionApplierStep,
  ActionLogsRepository,
  NewAction,
  TrackActionsOptions,
} from './repository/action-logs-repository.js'
export {
  BUILT_IN_ACTION_TYPES,
  type BuiltInActionType,
  type PayloadValue,
  type ProjectFieldsPayload,
  type SceneOrderPayload,
  type SceneStatePayload,
} from './domain/undo-actions.js'
export * from './schema/index.js'
