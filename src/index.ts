/**
 * Aura Data: the persistence layer of Aura Video Studio. The public API, as an explicit list.
 */
export { openDatabase, AuraDatabase, type OpenDatabaseOptions } from './database.js'
export { UnitOfWork, type UnitOfWorkOptions } from './unit-of-work.js'
export {
  AuraDataError,
  BackupError,
  BusyError,
  ConcurrencyError,
  ConstraintError,
  ERROR_CODES,
  IntegrityError,
  MigrationError,
  NotFoundError,
  UsageError,
  ValidationError,
  type AuraErrorCode,
} from './errors.js'
export {
  createDatabaseIfMissing,
  defaultDatabaseUrl,
  parseDatabaseUrl,
  type DialectName,
  type SchemaSnapshot,
} from './dialect/index.js'
export { verifyDatabase, type VerifyCheck, type VerifyReport } from './operations/verify.js'
export {
  Migrator,
  type AppliedMigration,
  type DriftEntry,
  type MigrationListEntry,
  type MigrationResult,
  type MigrationRun,
  type MigrationStatus,
} from './migration/migrator.js'
export type { Repositories } from './repository/repositories.js'
export { ReadRepository, Repository, SoftDeleteRepository, type ReadOptions } from './repository/repository.js'
export type { OrderBy, QueryOptions, Where } from './repository/filter.js'
export type { ProjectWithDetails } from './repository/project-states-repository.js'
export type { CheckpointProgress } from './repository/render-checkpoints-repository.js'
export type { ConfigValue, SetOptions } from './repository/configurations-repository.js'
export * from './schema/index.js'
