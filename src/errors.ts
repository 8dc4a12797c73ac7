/**
 * Every error Aura Data throws, with its stable `code`.
 *
 * Callers branch on `error.code` (or `instanceof`), never on message text. Messages never
 * contain SQL text or parameter values: those may hold user data. When a database error is
 * mapped, the original driver error is kept as the non-enumerable `cause`.
 */

/** The stable codes, one per error class. `docs/errors.md` documents each (a test keeps them in sync). */
export const ERROR_CODES = [
  'AURA_VALIDATION',
  'AURA_NOT_FOUND',
  'AURA_CONCURRENCY',
  'AURA_CONSTRAINT',
  'AURA_BUSY',
  'AURA_INTEGRITY',
  'AURA_MIGRATION',
  'AURA_BACKUP',
  'AURA_STORAGE',
  'AURA_USAGE',
  'AURA_REPLACED',
  'AURA_IMPORT',
  'AURA_CONNECTION_LOST',
  'AURA_DEADLINE',
  'AURA_COMMIT_UNKNOWN',
  'AURA_ACCESS_DENIED',
  'AURA_DATABASE',
] as const

export type AuraErrorCode = (typeof ERROR_CODES)[number]

/** The base class of every Aura Data error. */
export class AuraDataError extends Error {
  readonly code: AuraErrorCode
  /** Whether repeating the same operation later can succeed (busy database, serialization failure). */
  readonly retryable: boolean

  constructor(code: AuraErrorCode, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message)
    this.name = new.target.name
    this.code = code
    this.retryable = options?.retryable ?? false
    if (options?.cause !== undefined) {
      Object.defineProperty(this, 'cause', { value: options.cause, enumerable: false, writable: true })
    }
  }
}

/** Bad input, found before any SQL ran. `field` names the offending field when there is one. */
export class ValidationError extends AuraDataError {
  readonly field: string | undefined
  constructor(message: string, field?: string) {
    super('AURA_VALIDATION', message)
    this.field = field
  }
}

/** The row does not exist (or is soft-deleted and the call did not ask for deleted rows). */
export class NotFoundError extends AuraDataError {
  constructor(
    readonly table: string,
    readonly id: unknown,
  ) {
    super('AURA_NOT_FOUND', `${table} ${String(id)} was not found`)
  }
}

/** The row changed since it was read: the optimistic-concurrency check failed. Nothing was written. */
export class ConcurrencyError extends AuraDataError {
  constructor(
    readonly table: string,
    readonly id: unknown,
    readonly expectedVersion: number | null,
    readonly actualVersion: number | null,
    detail?: string,
  ) {
    super(
      'AURA_CONCURRENCY',
      detail ??
        `${table} ${String(id)} was changed by someone else: expected row version ${String(expectedVersion)}, ` +
          `found ${String(actualVersion)}. Reload it and apply the change again.`,
    )
  }
}

/** A unique or foreign-key constraint refused the write. */
export class ConstraintError extends AuraDataError {
  constructor(
    message: string,
    readonly constraint: 'unique' | 'foreign_key' | 'check' | 'not_null',
    options?: { cause?: unknown },
  ) {
    super('AURA_CONSTRAINT', message, options)
  }
}

/** The database stayed locked by another connection for longer than the busy timeout. Retryable. */
export class BusyError extends AuraDataError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('AURA_BUSY', message, { ...options, retryable: true })
  }
}

/** Stored data is not what was written: corrupt file, hash mismatch, tampered secret, wrong key. */
export class IntegrityError extends AuraDataError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('AURA_INTEGRITY', message, options)
  }
}

/** A migration could not be applied, rolled back or trusted (drift, lock, failure). */
export class MigrationError extends AuraDataError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('AURA_MIGRATION', message, options)
  }
}

/** A backup or restore was refused or failed; the live database was not touched. */
export class BackupError extends AuraDataError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('AURA_BACKUP', message, options)
  }
}

/**
 * The disk is full, or the file system failed a read or write. The failed operation committed
 * nothing; what was committed before is intact. Not retryable as such: space must be freed (or
 * the disk repaired) first.
 */
export class StorageError extends AuraDataError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('AURA_STORAGE', message, options)
  }
}

/** The API was used in a way that cannot work (finished unit of work, pending migrations, bad URL). */
export class UsageError extends AuraDataError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('AURA_USAGE', message, options)
  }
}

/**
 * The SQLite file was replaced (a restore swapped a backup in) while this connection had the old
 * one open: the connection still points at the old, unlinked file, which SQLite refuses to write
 * (`SQLITE_READONLY_DBMOVED`). Retryable after reopening: close the database, open it again and
 * repeat the operation on the new connection.
 */
export class DatabaseReplacedError extends AuraDataError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('AURA_REPLACED', message, { ...options, retryable: true })
  }
}

/**
 * The connection to the database server was lost, or none could be made (server down or
 * restarting, connection terminated, network cut), before this call's work was committed:
 * nothing of it was committed. The connection was discarded. Retryable: the same call can
 * succeed once the server is back (`db.transaction` retries it by itself, see its `retries`).
 */
export class ConnectionLostError extends AuraDataError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('AURA_CONNECTION_LOST', message, { ...options, retryable: true })
  }
}

/**
 * A round trip to the database did not finish within the deadline (`postgres.deadlineMs`): a
 * stalled network or server. The connection was discarded, and nothing of this call's work was
 * committed. Retryable.
 */
export class DeadlineError extends AuraDataError {
  constructor(
    message: string,
    readonly deadlineMs: number,
    options?: { cause?: unknown },
  ) {
    super('AURA_DEADLINE', message, { ...options, retryable: true })
  }
}

/**
 * The connection was lost (or the deadline passed) after COMMIT was sent and before the server
 * answered: the unit may or may not be committed, and no one can tell from this side. Never
 * retried by itself: read the data back to see whether the work is there before repeating it.
 */
export class CommitUnknownError extends AuraDataError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('AURA_COMMIT_UNKNOWN', message, options)
  }
}

/** One value of a legacy database that an import cannot carry over as it is. */
export interface ImportProblem {
  /** The legacy table. */
  readonly table: string
  /** The row's key in the legacy table (null when the problem is the table itself). */
  readonly key: string | null
  /** The legacy column (null when the problem is the row or the table). */
  readonly column: string | null
  readonly reason: string
}

/**
 * An import of a legacy database was refused before anything was written to the target: the
 * file is not a SQLite database or is damaged, its schema is not the expected one, the target is
 * not empty, or some values cannot be carried over (`problems` names each: table, key, column).
 */
export class ImportError extends AuraDataError {
  readonly problems: readonly ImportProblem[]
  constructor(message: string, problems: readonly ImportProblem[] = []) {
    super('AURA_IMPORT', message)
    this.problems = problems
  }
}

/**
 * The database role this connection logs in as may not do this (PostgreSQL 42501): it lacks the
 * privilege on the table, or row-level security hides the row or refuses the new one (on a sync
 * hub: the role is not a member of the project, or a read-only one). Nothing was written.
 */
export class AccessDeniedError extends AuraDataError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('AURA_ACCESS_DENIED', message, options)
  }
}

/**
 * A failure none of the other codes describe: a driver error Aura Data does not classify, or an
 * unexpected error inside Aura Data. The original is the `cause`. On valid input this is a bug to
 * report; every public call turns any other error into one of these (see `toAuraDataError`).
 */
export class DatabaseError extends AuraDataError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('AURA_DATABASE', message, options)
  }
}

/**
 * The one place where an error of any origin becomes an AuraDataError: an AuraDataError passes
 * through; a driver error is classified by `classify` (the dialect's mapping by code, never by
 * message); anything else becomes a DatabaseError with the original as `cause`. Every public
 * call's errors go through here, so no raw driver error or TypeError reaches a caller.
 */
export function toAuraDataError(
  error: unknown,
  classify?: (error: unknown) => AuraDataError | undefined,
): AuraDataError {
  if (error instanceof AuraDataError) return error
  const mapped = classify?.(error)
  if (mapped) return mapped
  const code = (error as { code?: unknown } | null)?.code
  const kind = error instanceof Error ? error.name : typeof error
  return new DatabaseError(
    typeof code === 'string'
      ? `The database failed with ${code}, which Aura Data does not classify; nothing was committed by this call.`
      : `Unexpected ${kind} inside Aura Data (a bug: please report it with the cause); nothing was committed by this call.`,
    { cause: error },
  )
}

/** Named factories for usage errors, so their wording (and the hint how to fix them) lives here. */
export const usage = {
  badMergeMode: (given: string) =>
    new UsageError(
      `--merge takes no value (keep the target's rows) or "update" (update differing rows from the legacy file); got ${JSON.stringify(given)}.`,
    ),
  versionRestoreRenamed: () =>
    new UsageError(
      'projectVersions.restore takes one id (it undoes the soft delete of a version). To take a project back to a version, call projectVersions.revertTo(projectId, versionId).',
    ),
  badRetries: (given: unknown) =>
    new UsageError(
      `retries must be a whole number from 0 up; got ${JSON.stringify(given) ?? String(given)}.`,
    ),
  unitPoisoned: (failure: unknown) =>
    new UsageError(
      'An operation of this unit of work failed, so the unit was rolled back instead of committed: nothing of it was written. ' +
        'The first failure is the cause.',
      { cause: failure },
    ),
  unitFinished: (state: 'committed' | 'rolled back') =>
    new UsageError(`This unit of work was already ${state}; start a new one with db.beginUnitOfWork().`),
  pendingMigrations: (names: readonly string[]) =>
    new UsageError(
      `The database has ${names.length} pending migration(s): ${names.join(', ')}. ` +
        `Run \`aura-db migrate\` (or await db.migrate()) first.`,
    ),
  badUrl: (url: string) =>
    new UsageError(
      `Unsupported database URL "${redactUrl(url)}". ` +
        // A bare path is the likeliest slip; it is not taken as SQLite, since a typo in a
        // postgres:// URL would then silently create a SQLite file named after it.
        (/^[a-z][a-z0-9+.-]*:/i.test(url) ? '' : `Did you mean sqlite:${url}? `) +
        'Use sqlite:<path>, sqlite::memory: or postgres://user@host:port/db.',
    ),
  closed: () => new UsageError('The database is closed.'),
  portInUse: (port: number) =>
    new UsageError(
      `Port ${port} is in use by another program (or another studio). Pick another with --port, or --port 0 for a free one.`,
    ),
  notACount: (setting: string, text: string) =>
    new ValidationError(`${setting} takes a whole number of at least 1 (got "${text}").`, 'keep'),
  badPoolerMode: (given: string) =>
    new UsageError(
      `Unsupported pooler setting "${given}": use aura_pooler=transaction (and aura_direct=host:port for the server itself) in the URL.`,
    ),
  poolerNeedsDirect: (what: string) =>
    new UsageError(
      `${what} need a session of their own, which a transaction pooler cannot give: name the PostgreSQL ` +
        'server itself with aura_direct=host:port in the URL, postgres.directUrl, or AURA_DIRECT_DATABASE_URL.',
    ),
  nestedUnitOfWork: () =>
    new UsageError(
      'A unit of work was started inside db.transaction(); use the unit passed to the callback ' +
        '(its repositories share its transaction) instead of starting another one.',
    ),
  databaseMissing: (location: string) =>
    new UsageError(
      `The database ${location} does not exist. Create it with \`aura-db init\` (or open it with create: true), or check its path in the URL.`,
    ),
  postgresDatabaseMissing: (cause: unknown) =>
    new UsageError(
      'The PostgreSQL database named in the URL does not exist. Create it with `aura-db init` (or open it with create: true, as a role with CREATEDB), or check the database name in the URL.',
      { cause },
    ),
  unknownMigration: (name: string, known: readonly string[]) =>
    new UsageError(
      `There is no migration named "${name}". ` +
        (known.length ? `Known: ${known.join(', ')}.` : 'There are no migrations.') +
        ' Use the full name or the part after the timestamp; `aura-db list` shows them.',
    ),
  badMigrationName: (name: string) =>
    new UsageError(
      `"${name}" is not a valid migration name: use PascalCase (AddProjectTags) or snake_case ` +
        `(add_project_tags), letters and digits only, starting with a letter.`,
    ),
  confirmationNeeded: (question: string) =>
    new UsageError(`${question} Refusing to ask on a non-interactive input: pass --yes to confirm.`),
  noSecretKey: () =>
    new UsageError(
      'No secret key is configured: set AURA_SECRET_KEY (32 bytes, base64) or pass secretKeyFile to openDatabase().',
    ),
  badPort: (given: string) =>
    new UsageError(`--port must be a whole number from 0 to 65535 (0 picks a free port); got "${given}".`),
  docsNeedPostgres: (given?: string) =>
    new UsageError(
      (given === undefined ? '' : `"${redactUrl(given)}" is not a PostgreSQL URL. `) +
        'The schema docs need a PostgreSQL server for their PostgreSQL column: pass --postgres ' +
        'postgres://user@host:port/db (only a scratch schema is created there, and dropped).',
    ),
  replicasNeedPostgres: () =>
    new UsageError(
      'Read replicas (postgres.replicas) need a PostgreSQL database URL; SQLite has no replicas.',
    ),
  badReplica: (given: unknown) =>
    new UsageError(
      `A read replica must be a postgres:// URL; got ${typeof given === 'string' ? `"${redactUrl(given)}"` : String(given)}.`,
    ),
  badReplicaLag: (given: unknown) =>
    new UsageError(
      `maxReplicaLagMs must be a number of milliseconds above 0; got ${JSON.stringify(given) ?? String(given)}.`,
    ),
  checkNeedsPostgres: (given: string) =>
    new UsageError(
      `"${redactUrl(given)}" is not a PostgreSQL URL. check --postgres compares on a PostgreSQL ` +
        'server: pass postgres://user@host:port/db (only scratch schemas are created there, and dropped).',
    ),
}

/**
 * A database URL with any password replaced by `***`, safe to print: the one after the user name
 * (also with an empty user name, and up to the last `@` of the authority, since an unencoded `@`
 * in a password still reaches the driver) and a `password=` query parameter, which pg reads too.
 */
export function redactUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@?#]*):[^/?#]*@/i, '$1:***@')
    .replace(/([?&]password=)[^&#]*/gi, '$1***')
}

/** A file name or path safe to print: control characters (NUL included) shown as `\uXXXX`. */
function printable(text: string): string {
  return JSON.stringify(text).slice(1, -1)
}

/**
 * A migration step left rows whose foreign key points at no parent (SQLite's `foreign_key_check`
 * before the step commits). The engine wraps it in a MigrationError naming the step.
 */
export function danglingReferences(rows: readonly { table: string; parent: string }[]): IntegrityError {
  const pairs = [...new Set(rows.map((r) => `${r.table} → ${r.parent}`))]
  return new IntegrityError(
    `it left ${rows.length} row(s) referring to missing parents (${pairs.join(', ')}). ` +
      `A table rebuild must copy every row of the old table before dropping it.`,
  )
}

/** Named factories for backup and restore errors: the wording, and how to fix each problem, lives here. */
export const backupErrors = {
  badName: (input: string, reason: string) =>
    new BackupError(
      `Refusing backup name "${printable(input)}": ${reason}. ` +
        `Name a backup file of the backup directory, e.g. aura_backup_20250131_120000_000.db (see \`aura-db backups\`).`,
    ),
  badDir: (dir: string, reason: string) =>
    new BackupError(`Refusing backup directory "${printable(dir)}": ${reason}.`),
  notFound: (file: string) =>
    new BackupError(`Backup ${file} does not exist. List the backups with \`aura-db backups\`.`),
  notRegularFile: (file: string, what: string) =>
    new BackupError(`Refusing ${file}: it is ${what}, not a regular file. Restore reads only regular files.`),
  wrongDialect: (file: string, extension: string) =>
    new BackupError(
      `Refusing ${file}: this database takes ${extension} backups; the file is a backup of another database kind.`,
    ),
  noManifest: (file: string) =>
    new BackupError(
      `Refusing ${file}: its manifest ${file}.json is missing, so the file cannot be checked. ` +
        `Only backups written by \`aura-db backup\` can be restored.`,
    ),
  badManifest: (file: string, detail: string) =>
    new BackupError(`Refusing ${file}: its manifest ${file}.json is unreadable (${detail}).`),
  manifestMismatch: (
    file: string,
    what: 'size' | 'sha256',
    expected: string | number,
    actual: string | number,
  ) =>
    new BackupError(
      `Refusing ${file}: it does not match its manifest: ${what} is ${String(actual)}, the manifest says ${String(expected)}. ` +
        `The file changed after the backup was written.`,
    ),
  otherDatabase: (file: string, source: string, target: string) =>
    new BackupError(
      `Refusing ${file}: it is a backup of another database (${source}), not of ${target}. ` +
        `To replace this database with it anyway, pass --force-other-database (forceOtherDatabase: true).`,
    ),
  empty: (file: string) => new BackupError(`Refusing ${file}: the file is empty (0 bytes), not a backup.`),
  notSqlite: (file: string) =>
    new BackupError(
      `Refusing ${file}: it is not a SQLite database (the file does not start with the SQLite header).`,
    ),
  truncated: (file: string, actualBytes: number, expectedBytes: number) =>
    new BackupError(
      `Refusing ${file}: the file is truncated: it has ${actualBytes} bytes, its header says ${expectedBytes}.`,
    ),
  corrupt: (file: string, detail: string) =>
    new BackupError(`Refusing ${file}: the database is corrupt (${detail}).`),
  integrityCheck: (file: string, problems: readonly string[]) =>
    new BackupError(`Refusing ${file}: it fails quick_check: ${problems.join('; ')}.`),
  historyUnreadable: (file: string, detail: string) =>
    new BackupError(`Refusing ${file}: its migration history cannot be read (${detail}).`),
  notPostgresBackup: (file: string) =>
    new BackupError(
      `Refusing ${file}: it is neither a pg_dump custom-format archive nor an Aura logical export.`,
    ),
  unreadableArchive: (file: string, detail: string) =>
    new BackupError(`Refusing ${file}: the backup cannot be read completely (${detail}).`),
  newerSchema: (file: string, unknown: readonly string[]) =>
    new BackupError(
      `Refusing ${file}: it was taken from a newer schema: migration ${unknown.join(', ')} is unknown to this ` +
        `version of the code. Upgrade aura-data (or add the migration files) and restore again.`,
    ),
  historyDiverged: (file: string, expected: string, found: string) =>
    new BackupError(
      `Refusing ${file}: its migration history is not a prefix of this code's migrations ` +
        `(found ${found} where the code has ${expected}).`,
    ),
  inUse: (location: string, detail: string) =>
    new BackupError(
      `Refusing to restore over ${location}: another process has the database open (${detail}). ` +
        `Stop the application (and any other aura-db command) using it, then restore again.`,
    ),
  inMemory: () => new BackupError('An in-memory database has no file to restore into.'),
  inMemoryCommand: () =>
    new BackupError(
      'sqlite::memory: is a new, empty database in every process: `aura-db backup` has nothing to back up. Back up a database file (sqlite:<path>) instead.',
    ),
  noDatabase: (location: string) => new BackupError(`Nothing to back up: ${location} does not exist.`),
  unreadableDatabase: (location: string, detail: string) =>
    new BackupError(
      `Cannot take a safety backup of ${location}: the current database is unreadable (${detail}). ` +
        `Move the damaged file away by hand, then restore again (nothing was changed).`,
    ),
  cancelled: () => new BackupError('Restore cancelled: nothing was changed.'),
  confirmationRequired: () =>
    new UsageError(
      'Restore replaces the whole database: confirm it with { yes: true } or a confirm callback (CLI: --yes, ' +
        'which is required when stdin is not a terminal).',
    ),
  toolMissing: (tool: string) =>
    new BackupError(
      `${tool} is not on PATH; it is needed for this PostgreSQL backup (install postgresql-client).`,
    ),
  toolFailed: (tool: string, code: number | null, detail: string) =>
    new BackupError(`${tool} failed (exit ${String(code)}): ${detail || 'no message'}`),
  failed: (detail: string, cause: unknown) =>
    new BackupError(
      `Backup failed: ${detail}. Nothing was deleted and no partial backup was left under a backup name.`,
      { cause },
    ),
  restoreFailed: (location: string, detail: string, safetyBackup: string | null, cause: unknown) =>
    new BackupError(
      `Restore of ${location} failed: ${detail}.` +
        (safetyBackup ? ` The previous state is in the safety backup ${safetyBackup}.` : ''),
      { cause },
    ),
}

/** Named factories for storage errors, shared by both dialects' error mapping. */
export const storageErrors = {
  readOnly: (cause: unknown) =>
    new StorageError(
      'The database is read-only here (the file or its directory is not writable, or the file system ' +
        'is mounted read-only): this write was not committed. Commands that only look (status, list, ' +
        'verify, backups) open it read-only and still work.',
      { cause },
    ),
  cannotOpen: (location: string, cause: unknown) =>
    new StorageError(
      `The database ${location} cannot be opened: the file or its directory is missing, not readable, or ` +
        `(for a write) not writable. Check the path and its permissions.`,
      { cause },
    ),
  replaced: (cause: unknown) =>
    new DatabaseReplacedError(
      'The database file was replaced (restored from a backup) while this connection had the old one ' +
        'open; nothing was written. Close the database, open it again, and retry on the new connection.',
      { cause },
    ),
  fileGone: (path: string, how: 'deleted' | 'replaced by another file') =>
    new DatabaseReplacedError(
      `The database file ${path} was ${how} while this connection had it open; nothing was written ` +
        '(a write now would be lost, or would corrupt the file at that path). Close the database and open it again.',
    ),
  diskFull: (cause: unknown) =>
    new StorageError(
      'The disk holding the database is full: this write was not committed (earlier commits are intact). ' +
        'Free some disk space, then retry.',
      { cause },
    ),
  io: (cause: unknown) =>
    new StorageError(
      'The file system failed a read or write of the database (I/O error); the operation was not ' +
        'committed. Check the disk and the file system, then retry.',
      { cause },
    ),
}

/**
 * Named factories for secret-key and encrypted-value errors. None of them ever quotes a key or a
 * value: only where the key came from, the configuration key, and key ids (hash prefixes).
 */
export const secretErrors = {
  badKey: (source: string, reason: string) =>
    new UsageError(
      `${source} is not a usable secret key: ${reason}. It must be exactly 32 random bytes, given as ` +
        `standard base64 (44 characters), e.g. from \`openssl rand -base64 32\`.`,
    ),
  keyFileUnreadable: (file: string, reason: string) =>
    new UsageError(`The secret key file ${file} cannot be read (${reason}).`),
  twoKeys: () => new UsageError('Pass either secretKey or secretKeyFile to openDatabase(), not both.'),
  rotationInUnit: () =>
    new UsageError(
      'Rotate the secret key with db.configurations.rotateKey(), outside a unit of work: the new key ' +
        'may only be used once the re-encryption has committed.',
    ),
  notEncrypted: (key: string) =>
    new IntegrityError(
      `The sensitive configuration value ${key} is not an encrypted value: it was altered outside the library.`,
    ),
  wrongKey: (key: string, storedKeyId: string, keyIds: readonly string[]) =>
    new IntegrityError(
      `The sensitive configuration value ${key} was encrypted with key ${storedKeyId}, but the configured ` +
        `secret key is ${keyIds.join(' / ')}. Open the database with the key it was written with.`,
    ),
  tampered: (key: string) =>
    new IntegrityError(
      `The sensitive configuration value ${key} failed authentication: it was tampered with, or the key is wrong.`,
    ),
}

/** The wording of refused imports (`aura-db import ef`). */
export const importErrors = {
  missingFile: (file: string) => new ImportError(`The legacy database ${file} does not exist.`),
  notSqlite: (file: string) =>
    new ImportError(
      `${file} is not a SQLite database (its header is not "SQLite format 3"); nothing was imported.`,
    ),
  damaged: (file: string, detail: string) =>
    new ImportError(
      `The legacy database ${file} is damaged (${detail}); nothing was imported. Import from an intact copy (a backup of the .NET app's aura.db).`,
    ),
  keepsChanging: (file: string) =>
    new ImportError(
      `The legacy database ${file} changed during every attempt to copy it (the app checkpoints it while writing); nothing was imported. Close the .NET app, or import when it is idle.`,
    ),
  wrongSchema: (file: string, problems: readonly ImportProblem[], lastMigration: string | null) =>
    new ImportError(
      `${file} is not a database of the .NET Aura app in a shape Aura Data can import (${
        lastMigration === null ? 'no EF migration history' : `app version of EF migration ${lastMigration}`
      }): ${problems
        .slice(0, 5)
        .map((p) => `${p.table}${p.column ? `.${p.column}` : ''}: ${p.reason}`)
        .join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}. Nothing was imported.`,
      problems,
    ),
  values: (problems: readonly ImportProblem[]) =>
    new ImportError(
      `${problems.length} value(s) of the legacy database cannot be imported as they are; nothing was written. ` +
        `First: ${problems
          .slice(0, 3)
          .map((p) => `${p.table} ${p.key ?? ''} ${p.column ?? ''}: ${p.reason}`.replace(/ +/g, ' '))
          .join('; ')}. The report lists each (table, key, column).`,
      problems,
    ),
  targetNotEmpty: (tables: readonly string[]) =>
    new ImportError(
      `The target database already holds data (${tables.join(', ')}): import into a new or empty migrated ` +
        `database, or pass --merge (merge: true) to add only the rows whose keys are not there yet.`,
    ),
  noSecretKey: (count: number) =>
    new ImportError(
      `The legacy database has ${count} sensitive configuration value(s), stored there in plaintext; they are ` +
        `stored encrypted here, so a secret key is needed: set AURA_SECRET_KEY (32 bytes, base64, e.g. from ` +
        `\`openssl rand -base64 32\`) or AURA_SECRET_KEY_FILE. Nothing was imported.`,
    ),
}
