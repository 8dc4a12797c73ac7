import {
  closeSync,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeSync,
} from 'node:fs'
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path'
import { fsyncDir } from '../dialect/backup-fs.js'
import { backupErrors } from '../errors.js'

/** A regular backup: `aura_backup_<yyyyMMdd_HHmmss_SSS>.db` (SQLite) or `.dump` (PostgreSQL), UTC. */
export const BACKUP_FILE = /^aura_backup_(\d{8})_(\d{6})_(\d{3})\.(db|dump)$/

/** A safety backup taken by restore before it replaces the database: `aura_pre_restore_<…>.db|.dump`. */
export const SAFETY_FILE = /^aura_pre_restore_(\d{8})_(\d{6})_(\d{3})\.(db|dump)$/

/** Regular backups (retention: `--keep`) or safety backups (their own limit). */
export type BackupKind = 'regular' | 'safety'

const PREFIX: Record<BackupKind, string> = { regular: 'aura_backup_', safety: 'aura_pre_restore_' }

/** The manifest written beside every backup as `<backup file>.json`. */
export interface BackupManifest {
  /** The backup's file name (no directory). */
  readonly file: string
  /** Lower-case hex SHA-256 of the backup file. */
  readonly sha256: string
  readonly sizeBytes: number
  /** ISO-8601 UTC. */
  readonly createdAt: string
  /** The newest applied migration in the backup, null for a database without history. */
  readonly migration: string | null
  /** Rows per table in the backup. */
  readonly rowCounts: Readonly<Record<string, number>>
  /** `sqlite`, `pg_dump-custom` or `aura-logical-v1`. */
  readonly format: string
  readonly kind: BackupKind
  /**
   * The database the backup was taken of (`DialectBackup.sourceIdentity`). Absent in manifests
   * written before it was recorded: such backups are never pruned by retention.
   */
  readonly source?: string
}

/** One backup found in a backup directory, as `aura-db backups` lists it. */
export interface BackupEntry {
  /** Absolute path of the backup file. */
  readonly file: string
  readonly kind: BackupKind
  readonly createdAt: Date
  readonly sizeBytes: number
  /**
   * The backup was verified when written (its manifest exists, names it, and records its
   * current size). `restore` re-checks the full SHA-256 before trusting it.
   */
  readonly verified: boolean
  readonly manifest: BackupManifest | null
  /** The database it was taken of (the manifest's `source`); null when the manifest does not say. */
  readonly source: string | null
}

/** `yyyyMMdd_HHmmss_SSS` in UTC: name order is time order. */
function stamp(date: Date): string {
  const iso = date.toISOString()
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}_${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}_${iso.slice(20, 23)}`
}

/** The backup file name for a kind, time and extension (`.db`/`.dump`). */
export function backupFileName(kind: BackupKind, date: Date, extension: string): string {
  return `${PREFIX[kind]}${stamp(date)}${extension}`
}

/** The kind and time encoded in a backup file name, or null when the name is not a backup name. */
export function parseBackupName(name: string): { kind: BackupKind; createdAt: Date } | null {
  const regular = BACKUP_FILE.exec(name)
  const match = regular ?? SAFETY_FILE.exec(name)
  if (!match) return null
  const [, day, time, ms] = match as unknown as [string, string, string, string]
  const createdAt = new Date(
    `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}T${time.slice(0, 2)}:${time.slice(2, 4)}:${time.slice(4, 6)}.${ms}Z`,
  )
  if (Number.isNaN(createdAt.getTime())) return null
  return { kind: regular ? 'regular' : 'safety', createdAt }
}

/** Rejects a backup directory that cannot be right (empty, NUL byte); returns it absolute. */
export function resolveBackupDir(dir: string): string {
  if (typeof dir !== 'string' || dir.trim() === '') throw backupErrors.badDir(String(dir), 'it is empty')
  if (dir.includes('\0')) throw backupErrors.badDir(dir, 'it contains a NUL byte')
  return resolve(dir)
}

/**
 * Creates the backup directory with mode 0700 when it is missing (an existing directory keeps
 * its mode: it may be shared on purpose); refuses a path that exists and is not a directory.
 * Returns its real path.
 */
export function ensureBackupDir(dir: string): string {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 })
  const real = realpathSync(dir)
  if (!lstatSync(real).isDirectory()) throw backupErrors.badDir(dir, 'it is not a directory')
  return real
}

/**
 * Resolves the FILE argument of a restore to an absolute path inside the backup directory,
 * checking only the name (nothing is read or written):
 * - no NUL byte, no quote characters, no `..` segment;
 * - a bare name is looked up in `dir`; a path (absolute, or relative to the working directory)
 *   must lie directly in `dir`;
 * - the name must be a backup name (`aura_backup_…` or `aura_pre_restore_…`).
 */
export function resolveBackupFile(dir: string, input: string): string {
  if (typeof input !== 'string' || input === '') throw backupErrors.badName(String(input), 'it is empty')
  if (input.includes('\0')) throw backupErrors.badName(input, 'it contains a NUL byte')
  if (/["'`]/.test(input)) throw backupErrors.badName(input, 'it contains a quote character')
  if (input.split(/[\\/]/).includes('..'))
    throw backupErrors.badName(input, 'it contains a ".." path segment')
  const name = basename(input)
  if (!parseBackupName(name)) {
    throw backupErrors.badName(
      input,
      'it is not a backup file name (aura_backup_<yyyyMMdd_HHmmss_SSS>.db|.dump)',
    )
  }
  const realDir = existsSync(dir) ? realpathSync(dir) : resolve(dir)
  const isPath = isAbsolute(input) || input.includes('/') || input.includes(sep)
  if (!isPath) return join(realDir, name)
  const parent = resolve(dirname(input))
  const realParent = existsSync(parent) ? realpathSync(parent) : parent
  if (realParent !== realDir)
    throw backupErrors.badName(input, `it is outside the backup directory ${realDir}`)
  return join(realDir, name)
}

/** Reads and checks a backup's manifest (`<file>.json`): present, a regular file, well-formed, naming this file. */
export function readManifest(file: string): BackupManifest {
  const path = `${file}.json`
  let stat
  try {
    stat = lstatSync(path)
  } catch {
    throw backupErrors.noManifest(file)
  }
  if (!stat.isFile()) throw backupErrors.badManifest(file, 'it is not a regular file')
  let manifest: Partial<BackupManifest>
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8')) as Partial<BackupManifest>
  } catch (error) {
    throw backupErrors.badManifest(file, `not valid JSON: ${(error as Error).message}`)
  }
  if (
    typeof manifest !== 'object' ||
    manifest === null ||
    typeof manifest.sha256 !== 'string' ||
    !/^[0-9a-f]{64}$/.test(manifest.sha256) ||
    typeof manifest.sizeBytes !== 'number' ||
    typeof manifest.createdAt !== 'string' ||
    (manifest.source !== undefined && typeof manifest.source !== 'string')
  ) {
    throw backupErrors.badManifest(file, 'sha256, sizeBytes or createdAt is missing or malformed')
  }
  if (manifest.file !== basename(file)) {
    throw backupErrors.badManifest(file, `it describes ${String(manifest.file)}, not ${basename(file)}`)
  }
  return manifest as BackupManifest
}

/**
 * Writes a manifest under its final name without ever replacing an existing file (`wx`), and
 * flushes it. Returns false when the name is taken.
 */
export function writeManifestExclusive(file: string, manifest: BackupManifest): boolean {
  let fd: number
  try {
    fd = openSync(`${file}.json`, 'wx', 0o600)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  }
  try {
    const buffer = Buffer.from(JSON.stringify(manifest, null, 2) + '\n', 'utf8')
    for (let offset = 0; offset < buffer.length;) offset += writeSync(fd, buffer, offset)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  return true
}

/**
 * The backups in a directory, newest first: regular and safety backups, each with whether it
 * was verified (see {@link BackupEntry.verified}) and the database it was taken of. Other files
 * are ignored; a missing directory has no backups. With `of` (a source identity, as
 * `db.dialect.backups().sourceIdentity()` gives), only that database's backups: several
 * databases may share a directory.
 *
 * @example
 * for (const b of listBackups('./data/backups')) console.log(b.file, b.createdAt, b.verified, b.source)
 */
export function listBackups(dir: string, { of }: { of?: string } = {}): BackupEntry[] {
  const root = resolveBackupDir(dir)
  if (!existsSync(root)) return []
  const entries: BackupEntry[] = []
  for (const name of readdirSync(root)) {
    const parsed = parseBackupName(name)
    if (!parsed) continue
    const file = join(root, name)
    const stat = lstatSync(file)
    if (!stat.isFile()) continue
    let manifest: BackupManifest | null = null
    try {
      manifest = readManifest(file)
    } catch {
      manifest = null
    }
    entries.push({
      file,
      kind: parsed.kind,
      createdAt: parsed.createdAt,
      sizeBytes: stat.size,
      verified: manifest !== null && manifest.sizeBytes === stat.size,
      manifest,
      source: manifest?.source ?? null,
    })
  }
  return (of === undefined ? entries : entries.filter((entry) => entry.source === of)).sort(
    (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (basename(a.file) < basename(b.file) ? 1 : -1),
  )
}

/**
 * Retention: keeps the newest `keep` backups of one kind of the database `source` in `dir` and
 * deletes the older ones with their manifests. Only backups whose manifest names that source are
 * counted or touched: several databases may share a backup directory (`./backups` is the default
 * of every PostgreSQL database), and one's retention must never delete another's backups.
 * Returns the deleted files.
 */
export function pruneBackups(
  dir: string,
  kind: BackupKind,
  keep: number,
  extension: string,
  source: string,
): string[] {
  const old = listBackups(dir)
    .filter(
      (entry) => entry.kind === kind && entry.file.endsWith(extension) && entry.manifest?.source === source,
    )
    .slice(keep)
  for (const entry of old) {
    rmSync(entry.file, { force: true })
    rmSync(`${entry.file}.json`, { force: true })
  }
  if (old.length > 0) fsyncDir(dir)
  return old.map((entry) => entry.file)
}

export { removeStaleTemps } from '../dialect/backup-fs.js'
