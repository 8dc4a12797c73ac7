import { pausePoint } from '../pause-point.js'
import { existsSync, renameSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { sql } from 'kysely'
import {
  createPrivateFile,
  fsyncDir,
  fsyncFile,
  hashFile,
  removeDatabaseFiles,
  tempPath,
} from '../dialect/backup-fs.js'
import type { AuraDialect, BackupProgress, DialectBackup } from '../dialect/index.js'
import { AuraDataError, backupErrors, ValidationError } from '../errors.js'
import { HISTORY_TABLE } from '../migration/migrator.js'
import { allTables } from '../schema/index.js'
import {
  backupFileName,
  ensureBackupDir,
  pruneBackups,
  removeStaleTemps,
  resolveBackupDir,
  writeManifestExclusive,
  type BackupKind,
  type BackupManifest,
} from './backup-files.js'

/** Regular backups kept by retention when no `keep` is given. */
export const DEFAULT_KEEP = 10

/** Safety backups (taken by restore) kept; they never count against, or are pruned by, `keep`. */
export const SAFETY_BACKUPS_KEPT = 5

/** A step of a running backup, for a progress display. */
export interface BackupProgressEvent {
  /**
   * `copy`: pages (SQLite), tables (pg_dump) or rows (logical export) written; `verify`: bytes of
   * the new backup read back and hashed (its check, SQLite's quick_check, runs alongside).
   */
  readonly phase: 'copy' | 'verify'
  readonly done: number
  readonly total: number
  /** The same progress in bytes, where it is known: SQLite's copy (pages × page size) and every verify. */
  readonly doneBytes?: number
  readonly totalBytes?: number
}

/** Options of {@link AuraDatabase.backup}. */
export interface BackupOptions {
  /** Where to write; default `backups/` next to the SQLite file, `./backups` for PostgreSQL. Created with mode 0700. */
  readonly dir?: string
  /** How many regular backups retention keeps, newest first (default 10, at least 1). */
  readonly keep?: number
  readonly onProgress?: (progress: BackupProgressEvent) => void
}

/** A verified backup on disk, as `aura-db backup --json` prints it. */
export interface BackupResult {
  /** Absolute path of the backup file. */
  readonly file: string
  /** Absolute path of its manifest (`<file>.json`). */
  readonly manifest: string
  readonly sizeBytes: number
  readonly sha256: string
  readonly createdAt: string
  /** The newest migration recorded in the backup. */
  readonly migration: string | null
  readonly rowCounts: Readonly<Record<string, number>>
  /** Older backups that retention deleted (with their manifests). */
  readonly pruned: readonly string[]
}

function validateKeep(keep: unknown, fallback: number): number {
  if (keep === undefined) return fallback
  if (typeof keep !== 'number' || !Number.isInteger(keep) || keep < 1) {
    throw new ValidationError(`keep must be a whole number of at least 1 (got ${String(keep)}).`, 'keep')
  }
  return keep
}

/**
 * Takes a verified backup of an open database (`aura-db backup`):
 * 1. writes an online, consistent copy to a temporary name in the backup directory (mode 0600);
 * 2. flushes it and verifies it by reading it back (SQLite: quick_check and history;
 *    PostgreSQL: the archive read completely), while hashing it;
 * 3. writes the manifest (sha256, size, migration, row counts) and flushes it;
 * 4. renames the file to `aura_backup_<yyyyMMdd_HHmmss_SSS>.db|.dump` and flushes the directory;
 * 5. only then applies retention: keeps the newest `keep` regular backups of this database (the
 *    manifest's `source`; other databases' backups in the same directory are left alone).
 * A failure at any step removes the temporary file and deletes nothing else.
 * What `db.backup()` and `aura-db backup` run.
 */
export async function createBackup(dialect: AuraDialect, options: BackupOptions = {}): Promise<BackupResult> {
  const keep = validateKeep(options.keep, DEFAULT_KEEP)
  const tools = dialect.backups()
  return writeBackup(tools, (file, onProgress) => tools.backupTo(file, onProgress), 'regular', keep, options)
}

/**
 * The backup pipeline shared by regular and safety backups: `write` fills the temporary file,
 * the rest (verify, manifest, rename, retention of `kind`) is the same.
 * @internal
 */
export async function writeBackup(
  tools: DialectBackup,
  write: (file: string, onProgress: (progress: BackupProgress) => void) => Promise<void>,
  kind: BackupKind,
  keep: number,
  options: { dir?: string; onProgress?: (progress: BackupProgressEvent) => void },
): Promise<BackupResult> {
  const dir = ensureBackupDir(resolveBackupDir(options.dir ?? tools.defaultDir()))
  removeStaleTemps(dir)
  const startedAt = new Date()
  const temp = tempPath(dir, tools.extension)
  let published: { file: string; manifest: BackupManifest }
  try {
    createPrivateFile(temp)
    await write(temp, (progress) => options.onProgress?.({ phase: 'copy', ...progress }))
    await pausePoint('backup:written')
    fsyncFile(temp)
    const verifying = (done: number, total: number) =>
      options.onProgress?.({ phase: 'verify', done, total, doneBytes: done, totalBytes: total })
    const writtenBytes = statSync(temp).size
    verifying(0, writtenBytes)
    // The check and the hash read the same finished file, side by side (SQLite checks on a
    // worker thread); both have ended before anything else happens to the file.
    const [checked, hashed] = await Promise.allSettled([tools.inspect(temp), hashFile(temp, verifying)])
    if (checked.status === 'rejected') {
      const reason = checked.reason as Error
      throw backupErrors.failed(`the new backup did not verify (${reason.message})`, reason)
    }
    if (hashed.status === 'rejected') throw hashed.reason
    const content = checked.value
    const { sha256, sizeBytes } = hashed.value
    published = publish(dir, temp, kind, startedAt, tools.extension, {
      sha256,
      sizeBytes,
      migration: content.migrations.at(-1) ?? null,
      rowCounts: content.rowCounts,
      format: content.format,
      kind,
      source: tools.sourceIdentity(),
    })
  } catch (error) {
    removeDatabaseFiles(temp)
    if (error instanceof AuraDataError) throw error
    throw backupErrors.failed((error as Error).message, error)
  }
  const pruned = pruneBackups(dir, kind, keep, tools.extension, tools.sourceIdentity())
  const { file, manifest } = published
  return {
    file,
    manifest: `${file}.json`,
    sizeBytes: manifest.sizeBytes,
    sha256: manifest.sha256,
    createdAt: manifest.createdAt,
    migration: manifest.migration,
    rowCounts: manifest.rowCounts,
    pruned,
  }
}

/**
 * Gives the verified temporary file its final name. The manifest is written first, under its
 * final name and never over an existing file: it reserves the name (two backups in the same
 * millisecond take the next one), and a process killed before the rename leaves at most a
 * manifest without a backup, never a backup file that was not verified and described.
 */
function publish(
  dir: string,
  temp: string,
  kind: BackupKind,
  startedAt: Date,
  extension: string,
  described: Omit<BackupManifest, 'file' | 'createdAt'>,
): { file: string; manifest: BackupManifest } {
  for (let at = startedAt.getTime(); ; at++) {
    const createdAt = new Date(at)
    const name = backupFileName(kind, createdAt, extension)
    const file = join(dir, name)
    if (existsSync(file)) continue
    const manifest: BackupManifest = { file: name, createdAt: createdAt.toISOString(), ...described }
    if (!writeManifestExclusive(file, manifest)) continue
    try {
      renameSync(temp, file)
      fsyncDir(dir)
    } catch (error) {
      rmSync(`${file}.json`, { force: true })
      throw error
    }
    return { file, manifest }
  }
}

/**
 * Whether a database holds anything worth a backup before a migration: an applied migration, or
 * a row in any domain table.
 */
export async function holdsData(dialect: AuraDialect): Promise<boolean> {
  const tables = [HISTORY_TABLE, ...allTables.map((table) => table.name)]
  for (const table of tables) {
    if (!(await dialect.hasTable(table))) continue
    const row = await dialect.kysely
      .selectFrom(table)
      .select(sql<number>`1`.as('present'))
      .limit(1)
      .executeTakeFirst()
    if (row) return true
  }
  return false
}

/**
 * The automatic backup before `migrate` or `rollback` (docs/migrations.md, "Backup first"): taken on a file database
 * (SQLite) that holds data, verified like any backup; null when none was needed.
 */
export async function backupBeforeMigration(
  dialect: AuraDialect,
  options: BackupOptions = {},
): Promise<BackupResult | null> {
  if (!dialect.capabilities.fileBased || !(await holdsData(dialect))) return null
  return createBackup(dialect, options)
}
