import { backupErrors, usage } from '../errors.js'
import type { AuraDialect, DialectBackup, DialectName, ScriptDialect } from './dialect.js'
import { PostgresBackup } from './postgres/postgres-backup.js'
import { createPostgresDatabaseIfMissing, createPostgresDatabaseOnOpen } from './postgres/postgres-create.js'
import { PostgresAuraDialect, type PostgresPoolOptions } from './postgres/postgres-dialect.js'
import type { QueryLogOptions } from './query-log.js'
import { postgresScriptDialect } from './postgres/postgres-script.js'
import { parsePostgresTarget, type PostgresTarget } from './postgres/postgres-url.js'
import { SqliteAuraDialect, createSqliteDatabaseIfMissing } from './sqlite/sqlite-dialect.js'
import { SqliteBackup } from './sqlite/sqlite-backup.js'
import { sqliteScriptDialect } from './sqlite/sqlite-script.js'

export { DIALECT_TITLES } from './dialect.js'
export { SQLITE_MODEL } from './sqlite/sqlite-model-target.js'
export type { PostgresPoolOptions } from './postgres/postgres-dialect.js'
export type { QueryLogEvent, QueryLogOptions } from './query-log.js'
export type {
  AuraDialect,
  ConnectionMetrics,
  DialectConnection,
  DatabaseMetrics,
  ReadRoutingMetrics,
  ReplicaMetrics,
  DialectName,
  ModelTarget,
  ScriptDialect,
  ScriptMigration,
} from './dialect.js'
export type { SchemaSnapshot } from './introspector.js'
export type { HubAccess, HubAdministration, HubChange, HubChanges, HubMember, HubSetup } from './hub.js'
export type { DialectSql } from './sql-generation.js'
export type { StatementStats } from './statement-metrics.js'
export type { PostgresTarget } from './postgres/postgres-url.js'
export type {
  BackupContent,
  BackupProgress,
  DialectBackup,
  ExclusiveDatabase,
  StagedBackup,
} from './dialect.js'

/** The database URL used when none is given: `AURA_DATABASE_URL`, else `sqlite:./data/aura.db`. */
export function defaultDatabaseUrl(): string {
  return process.env.AURA_DATABASE_URL || 'sqlite:./data/aura.db'
}

export type ParsedUrl =
  | { dialect: 'sqlite'; path: string }
  | {
      dialect: 'postgres'
      /** The URL without Aura Data's own parameters (`aura_pooler`, `aura_direct`). */
      connectionString: string
      /** Pooler mode and the direct connection, from those parameters (see parsePostgresTarget). */
      target: PostgresTarget
    }

/** Parses `sqlite:<path>`, `sqlite::memory:`, `sqlite://<path>` or `postgres(ql)://…`; anything else is a UsageError. */
export function parseDatabaseUrl(url: string): ParsedUrl {
  if (/^postgres(ql)?:\/\//i.test(url)) {
    const target = parsePostgresTarget(url)
    return { dialect: 'postgres', connectionString: target.connectionString, target }
  }
  const match = /^sqlite:(?:\/\/)?(.+)$/i.exec(url)
  if (match?.[1]) return { dialect: 'sqlite', path: match[1] }
  throw usage.badUrl(url)
}

/**
 * Checks the options of opening `url` that need no connection: read replicas need PostgreSQL
 * and `postgres://` URLs, a lag bound a positive number. A UsageError before anything opens.
 */
export function checkOpenOptions(url: string, postgres: PostgresPoolOptions = {}): void {
  const { replicas, maxReplicaLagMs } = postgres
  if (replicas === undefined && maxReplicaLagMs === undefined) return
  if (parseDatabaseUrl(url).dialect !== 'postgres') throw usage.replicasNeedPostgres()
  if (replicas !== undefined && !Array.isArray(replicas)) throw usage.badReplica(replicas)
  for (const replica of replicas ?? []) {
    if (typeof replica !== 'string' || !/^postgres(ql)?:\/\//i.test(replica)) throw usage.badReplica(replica)
    try {
      parsePostgresTarget(replica)
    } catch {
      throw usage.badReplica(replica)
    }
  }
  if (
    maxReplicaLagMs !== undefined &&
    (typeof maxReplicaLagMs !== 'number' || !Number.isFinite(maxReplicaLagMs) || maxReplicaLagMs <= 0)
  )
    throw usage.badReplicaLag(maxReplicaLagMs)
}

/**
 * What opening a URL does before {@link createDialect} when the caller may create the database:
 * a missing PostgreSQL database is created (a missing SQLite file is created by the dialect).
 */
export async function prepareToOpen(url: string, postgres: PostgresPoolOptions = {}): Promise<void> {
  const parsed = parseDatabaseUrl(url)
  if (parsed.dialect === 'postgres')
    await createPostgresDatabaseOnOpen(parsed.connectionString, postgres.connectionTimeoutMs)
}

/**
 * Opens the dialect for a URL. A missing SQLite file is created unless `create` is false (then it
 * is a UsageError); a missing PostgreSQL database is created by {@link prepareToOpen}, not here.
 * `readOnly` opens a SQLite file without writing to it or beside it (no effect on PostgreSQL).
 */
export function createDialect(
  url: string,
  options: {
    create?: boolean
    readOnly?: boolean
    queryLog?: QueryLogOptions
    postgres?: PostgresPoolOptions
    /** SQLite: collect statement timings (PostgreSQL always does). */
    metrics?: boolean
  } = {},
): AuraDialect {
  const parsed = parseDatabaseUrl(url)
  const queryLog = options.queryLog ?? {}
  return parsed.dialect === 'sqlite'
    ? new SqliteAuraDialect({
        path: parsed.path,
        create: options.create ?? true,
        readonly: options.readOnly ?? false,
        queryLog,
        metrics: options.metrics ?? false,
      })
    : new PostgresAuraDialect({
        target: options.postgres ? parsePostgresTarget(url, options.postgres) : parsed.target,
        queryLog,
        ...(options.postgres ? { pool: options.postgres } : {}),
      })
}

/**
 * Creates the database a URL names when it does not exist yet: the SQLite file (mode 0600, its
 * directory 0700) or the PostgreSQL database. Returns whether it was created.
 */
export async function createDatabaseIfMissing(url: string): Promise<boolean> {
  const parsed = parseDatabaseUrl(url)
  return parsed.dialect === 'sqlite'
    ? createSqliteDatabaseIfMissing(parsed.path)
    : createPostgresDatabaseIfMissing(parsed.target.directConnectionString ?? parsed.target.connectionString)
}

/**
 * The backup and restore mechanics for a URL without opening the database: a restore must work
 * on a database that is missing, damaged, or must not be held open by this process.
 */
export function createDialectBackup(url: string): DialectBackup {
  const parsed = parseDatabaseUrl(url)
  if (parsed.dialect === 'postgres') {
    const direct = parsed.target.directConnectionString
    if (direct === null) throw usage.poolerNeedsDirect('Backups and restores')
    return new PostgresBackup({ connectionString: direct })
  }
  if (parsed.path === ':memory:') throw backupErrors.inMemory()
  return new SqliteBackup({ path: parsed.path })
}

const scriptDialects: Record<DialectName, ScriptDialect> = {
  sqlite: sqliteScriptDialect,
  postgres: postgresScriptDialect,
}

/** The script tools of a dialect: compile migrations to SQL without a database. */
export function scriptDialect(name: DialectName): ScriptDialect {
  return scriptDialects[name]
}
