import { lstatSync } from 'node:fs'
import { sql, type Kysely } from 'kysely'
import {
  createDialect,
  createDialectBackup,
  defaultDatabaseUrl,
  parseDatabaseUrl,
  type BackupContent,
  type BackupProgress,
  type DialectBackup,
  type ExclusiveDatabase,
} from '../dialect/index.js'
import { AuraDataError, BackupError, backupErrors, redactUrl } from '../errors.js'
import { discoverSets, migrationSets } from '../migration/migration-sets.js'
import type { MigrationFile } from '../migration/migration-source.js'
import { generateScript } from '../migration/migration-script.js'
import { pausePoint } from '../pause-point.js'
import { SAFETY_BACKUPS_KEPT, writeBackup, type BackupProgressEvent } from './backup.js'
import { readManifest, resolveBackupDir, resolveBackupFile, type BackupManifest } from './backup-files.js'

/** What a restore is about to do, for the confirmation question. */
export interface RestorePlan {
  /** The backup file (absolute). */
  readonly file: string
  readonly createdAt: string
  /** The newest migration in the backup. */
  readonly migration: string | null
  /** The database that will be replaced (no password). */
  readonly database: string
  readonly rowCounts: Readonly<Record<string, number>>
  /** Whether a safety backup of the current database will be taken first. */
  readonly safetyBackup: boolean
}

/** A step of a running restore, for a progress display. */
export interface RestoreProgressEvent {
  /** `check`: hashing and checking the backup; `safety-backup`: saving the current database; `restore`: replacing it. */
  readonly phase: 'check' | 'safety-backup' | 'restore'
  readonly done: number
  readonly total: number
}

/** Options of {@link restoreDatabase}. */
export interface RestoreOptions {
  /** The database to replace; default `AURA_DATABASE_URL`, else `sqlite:./data/aura.db`. */
  readonly url?: string
  /** The backup: a file name in `dir`, or a path inside `dir`. */
  readonly file: string
  /** The backup directory (the only place a backup is read from); default as for backups. */
  readonly dir?: string
  /** Confirms the restore without asking. Without it, `confirm` must say yes. */
  readonly yes?: boolean
  /** Asked once the backup checked out and the database is held, before anything changes. */
  readonly confirm?: (plan: RestorePlan) => boolean | Promise<boolean>
  /**
   * The application's migrations folder, as `migrationsDir` of `openDatabase`: the backup's
   * history must be, set by set, a prefix of the code's migrations (the package's, then these).
   */
  readonly migrationsDir?: string
  /**
   * Restore a backup whose manifest names another source database (CLI:
   * `--force-other-database`). Without it such a restore is refused: a backup of the staging
   * database restored over production is rarely what was meant.
   */
  readonly forceOtherDatabase?: boolean
  readonly onProgress?: (progress: RestoreProgressEvent) => void
}

/** What a restore did, as `aura-db restore --json` prints it. */
export interface RestoreResult {
  /** The backup file that was restored. */
  readonly restored: string
  /** The safety backup of the previous state; null when there was no database before. */
  readonly safetyBackup: string | null
  /** The database that was replaced (no password). */
  readonly database: string
  /** The newest migration of the restored database. */
  readonly migration: string | null
}

/**
 * Replaces a database with a backup (`aura-db restore`). Nothing is touched until every
 * check passed; then, in order:
 * 1. checks the backup: a backup name inside the backup directory, a regular file (not a
 *    symlink), a manifest whose size and sha256 match the bytes, a readable database of this kind
 *    passing its integrity check, a migration history that is a prefix of the code's migrations,
 *    and a manifest naming this database as its `source` (unless `forceOtherDatabase`);
 * 2. takes the database (refused when another process has it open);
 * 3. asks for confirmation (`yes`, or `confirm`);
 * 4. takes a safety backup `aura_pre_restore_…` of the current database (its own limit of 5);
 * 5. swaps the backup in atomically;
 * 6. verifies the restored database: its history and every table's row count equal the backup's.
 *
 * @example
 * const { safetyBackup } = await restoreDatabase({ url: 'sqlite:./data/aura.db', file: 'aura_backup_20250131_120000_000.db', yes: true })
 */
export async function restoreDatabase(options: RestoreOptions): Promise<RestoreResult> {
  if (!options.yes && !options.confirm) throw backupErrors.confirmationRequired()
  const url = options.url ?? defaultDatabaseUrl()
  const database = redactUrl(url)
  const tools = createDialectBackup(url)
  const dir = resolveBackupDir(options.dir ?? tools.defaultDir())
  const file = resolveBackupFile(dir, options.file)
  if (!file.endsWith(tools.extension)) throw backupErrors.wrongDialect(file, tools.extension)
  const manifest = checkFileAndManifest(file)
  // Only done/total are taken: the safety backup's own events carry a `phase` ('copy') of theirs.
  const progress = (phase: RestoreProgressEvent['phase']) => (p: BackupProgress) =>
    options.onProgress?.({ phase, done: p.done, total: p.total })

  progress('check')({ done: 0, total: 1 })
  const staged = await tools.stage(file)
  try {
    if (staged.sizeBytes !== manifest.sizeBytes) {
      throw backupErrors.manifestMismatch(file, 'size', manifest.sizeBytes, staged.sizeBytes)
    }
    if (staged.sha256 !== manifest.sha256)
      throw backupErrors.manifestMismatch(file, 'sha256', manifest.sha256, staged.sha256)
    const content = await inspectStaged(tools, staged.path, file)
    const codeMigrations = discoverSets(migrationSets(options.migrationsDir))
    assertKnownHistory(file, content.migrations, codeMigrations)
    // Last of the checks, so that a damaged or newer backup is named as such first.
    const source = tools.sourceIdentity()
    if (manifest.source !== undefined && manifest.source !== source && !options.forceOtherDatabase) {
      throw backupErrors.otherDatabase(file, manifest.source, source)
    }
    progress('check')({ done: 1, total: 1 })

    const held = await tools.acquireExclusive()
    let safetyBackup: string | null = null
    let verifiedUnderHold = false
    try {
      const plan: RestorePlan = {
        file,
        createdAt: manifest.createdAt,
        migration: content.migrations.at(-1) ?? null,
        database,
        rowCounts: content.rowCounts,
        safetyBackup: held.exists,
      }
      if (!options.yes && !(await options.confirm!(plan))) throw backupErrors.cancelled()
      if (held.exists) safetyBackup = await takeSafetyBackup(tools, held, dir, progress('safety-backup'))
      try {
        await held.replaceWith(staged, {
          verify: async (db) => {
            await pausePoint('restore:verify')
            const tables = new Set((await db.introspection.getTables()).map((t) => t.name))
            const problems = await restoredProblems(db, async (table) => tables.has(table), content)
            verifiedUnderHold = true
            if (problems.length > 0) throw mismatch(database, problems, safetyBackup)
          },
          schemaScript: async (migrations) => {
            const wanted = new Set(migrations)
            return generateScript(
              parseDatabaseUrl(url).dialect,
              codeMigrations.filter((m) => wanted.has(m.name)),
              'up',
            )
          },
          onProgress: progress('restore'),
        })
      } catch (error) {
        // The check's own refusal already says what differs and where the safety backup is.
        if (error instanceof BackupError) throw error
        throw backupErrors.restoreFailed(database, errorMessage(error), safetyBackup, error)
      }
    } finally {
      await held.release()
    }
    if (!verifiedUnderHold) {
      await pausePoint('restore:verify')
      await verifyRestored(url, database, content, safetyBackup)
    }
    return { restored: file, safetyBackup, database, migration: content.migrations.at(-1) ?? null }
  } finally {
    await staged.discard()
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** The backup is a regular file (not a symlink, device or directory) with a well-formed manifest of the same size. */
function checkFileAndManifest(file: string): BackupManifest {
  let stat
  try {
    stat = lstatSync(file)
  } catch {
    throw backupErrors.notFound(file)
  }
  if (stat.isSymbolicLink()) throw backupErrors.notRegularFile(file, 'a symbolic link')
  if (!stat.isFile())
    throw backupErrors.notRegularFile(file, stat.isDirectory() ? 'a directory' : 'a special file')
  const manifest = readManifest(file)
  if (stat.size !== manifest.sizeBytes)
    throw backupErrors.manifestMismatch(file, 'size', manifest.sizeBytes, stat.size)
  return manifest
}

/** Inspects the staged bytes; messages name the backup file the user gave, not the staging copy. */
async function inspectStaged(tools: DialectBackup, stagedPath: string, file: string): Promise<BackupContent> {
  try {
    return await tools.inspect(stagedPath)
  } catch (error) {
    if (error instanceof AuraDataError && stagedPath !== file) {
      error.message = error.message.replaceAll(stagedPath, file)
    }
    throw error
  }
}

/**
 * The backup's history (names in name order) must be known to the code and, set by set, a
 * prefix of the code's migrations. Names are unique across sets (`discoverSets` refuses a
 * duplicate), so a name tells its set.
 */
function assertKnownHistory(file: string, backup: readonly string[], code: readonly MigrationFile[]): void {
  const known = new Map(code.map((m) => [m.name, m.set]))
  const unknown = backup.filter((name) => !known.has(name))
  if (unknown.length > 0) throw backupErrors.newerSchema(file, unknown)
  for (const set of new Set(code.map((m) => m.set))) {
    const ours = code.filter((m) => m.set === set).map((m) => m.name)
    backup
      .filter((name) => known.get(name) === set)
      .forEach((name, i) => {
        if (ours[i] !== name) throw backupErrors.historyDiverged(file, ours[i] ?? '(nothing)', name)
      })
  }
}

async function takeSafetyBackup(
  tools: DialectBackup,
  held: ExclusiveDatabase,
  dir: string,
  onProgress: (progress: BackupProgress) => void,
): Promise<string> {
  const result = await writeBackup(
    tools,
    (file, report) => held.backupTo(file, report),
    'safety',
    SAFETY_BACKUPS_KEPT,
    {
      dir,
      onProgress: (event: BackupProgressEvent) => {
        if (event.phase === 'copy') onProgress(event)
      },
    },
  )
  return result.file
}

/**
 * What differs between the restored database, read through `db`, and the backup: a missing
 * table, a row count, the migration history. Empty when it is exactly the backup.
 */
async function restoredProblems(
  db: Kysely<any>,
  hasTable: (name: string) => Promise<boolean>,
  content: BackupContent,
): Promise<string[]> {
  const problems: string[] = []
  for (const [table, expected] of Object.entries(content.rowCounts)) {
    if (!(await hasTable(table))) {
      problems.push(`table ${table} is missing`)
      continue
    }
    const row = await db
      .selectFrom(table)
      .select(sql<string | number>`count(*)`.as('n'))
      .executeTakeFirstOrThrow()
    if (Number(row.n) !== expected)
      problems.push(`${table} has ${Number(row.n)} rows, the backup ${expected}`)
  }
  const history =
    'aura_migrations' in content.rowCounts
      ? (await db.selectFrom('aura_migrations').select('name').orderBy('name').execute()).map(
          (r: { name: unknown }) => r.name as string,
        )
      : []
  if (history.join(',') !== content.migrations.join(',')) problems.push('the migration history differs')
  return problems
}

function mismatch(database: string, problems: readonly string[], safetyBackup: string | null): BackupError {
  return backupErrors.restoreFailed(
    database,
    `the restored database does not match the backup: ${problems.join('; ')}`,
    safetyBackup,
    undefined,
  )
}

/**
 * Checks the restored database after the hold was released, for a dialect that cannot check it
 * while still holding it (PostgreSQL).
 */
async function verifyRestored(
  url: string,
  database: string,
  content: BackupContent,
  safetyBackup: string | null,
): Promise<void> {
  const dialect = createDialect(url)
  try {
    const problems = await restoredProblems(dialect.kysely, (table) => dialect.hasTable(table), content)
    if (problems.length > 0) throw mismatch(database, problems, safetyBackup)
  } finally {
    await dialect.close()
  }
}
