import {
  BusyError,
  ConstraintError,
  IntegrityError,
  storageErrors,
  type AuraDataError,
} from '../../errors.js'

/**
 * Maps a better-sqlite3 error to an AuraDataError by its extended result code
 * (`err.code`, e.g. `SQLITE_CONSTRAINT_UNIQUE`), never by message text. The driver error is
 * kept as `cause`; SQL and values stay out of the message. Undefined for an error it does not
 * classify (`toAuraDataError` makes that a DatabaseError).
 */
export function mapSqliteError(error: unknown): AuraDataError | undefined {
  const code = (error as { code?: unknown } | null)?.code
  if (!(error instanceof Error) || typeof code !== 'string') return undefined
  switch (code) {
    case 'SQLITE_CONSTRAINT_UNIQUE':
    case 'SQLITE_CONSTRAINT_PRIMARYKEY':
      return new ConstraintError('A row with the same unique key already exists.', 'unique', { cause: error })
    case 'SQLITE_CONSTRAINT_FOREIGNKEY':
      return new ConstraintError(
        'The write refers to a row that does not exist (foreign key).',
        'foreign_key',
        {
          cause: error,
        },
      )
    case 'SQLITE_CONSTRAINT_CHECK':
      return new ConstraintError('A CHECK constraint refused the value.', 'check', { cause: error })
    case 'SQLITE_CONSTRAINT_NOTNULL':
      return new ConstraintError('A required column was NULL.', 'not_null', { cause: error })
    case 'SQLITE_BUSY':
    case 'SQLITE_BUSY_SNAPSHOT':
    case 'SQLITE_BUSY_RECOVERY':
    case 'SQLITE_LOCKED':
      return new BusyError(
        'The database is locked by another connection; the busy timeout ran out. Retry later.',
        {
          cause: error,
        },
      )
    case 'SQLITE_CORRUPT':
    case 'SQLITE_NOTADB':
      return new IntegrityError('The SQLite database file is corrupt or not a database.', { cause: error })
    case 'SQLITE_FULL':
      return storageErrors.diskFull(error)
    // The file was renamed over (restore's atomic swap) while this connection had the old one
    // open: every later write on this connection fails the same way, so the caller must reopen.
    case 'SQLITE_READONLY_DBMOVED':
      return storageErrors.replaced(error)
    default:
      // Every extended I/O code (SQLITE_IOERR_WRITE, SQLITE_IOERR_FSYNC, …) is the same failure.
      if (code === 'SQLITE_IOERR' || code.startsWith('SQLITE_IOERR_')) return storageErrors.io(error)
      if (code === 'SQLITE_READONLY' || code.startsWith('SQLITE_READONLY_'))
        return storageErrors.readOnly(error)
      if (code === 'SQLITE_CANTOPEN' || code.startsWith('SQLITE_CANTOPEN_'))
        return storageErrors.cannotOpen('file', error)
      return undefined
  }
}
