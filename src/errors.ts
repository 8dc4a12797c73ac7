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
  'AURA_USAGE',
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

/** The API was used in a way that cannot work (finished unit of work, pending migrations, bad URL). */
export class UsageError extends AuraDataError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('AURA_USAGE', message, options)
  }
}

/** Named factories for usage errors, so their wording (and the hint how to fix them) lives here. */
export const usage = {
  unitFinished: (state: 'committed' | 'rolled back') =>
    new UsageError(`This unit of work was already ${state}; start a new one with db.beginUnitOfWork().`),
  pendingMigrations: (names: readonly string[]) =>
    new UsageError(
      `The database has ${names.length} pending migration(s): ${names.join(', ')}. ` +
        `Run \`aura-db migrate\` (or await db.migrate()) first.`,
    ),
  badUrl: (url: string) =>
    new UsageError(
      `Unsupported database URL "${redactUrl(url)}". Use sqlite:<path>, sqlite::memory: or postgres://user@host:port/db.`,
    ),
  closed: () => new UsageError('The database is closed.'),
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
}

/** A database URL with any password replaced by `***`, safe to print. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]+):[^@]*@/i, '$1:***@')
}
