import { BusyError, ConstraintError, IntegrityError, storageErrors } from '../../errors.js'

/**
 * Maps a better-sqlite3 error to an AuraDataError by its extended result code
 * (`err.code`, e.g. `SQLITE_CONSTRAINT_UNIQUE`), never by message text. The driver error is
 * kept as `cause`; SQL and values stay out of the message.
 */
export function mapSqliteError(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code
  if (!(error instanceof Error) || typeof code !== 'string') return error
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
    default:
      // Every extended I/O code (SQLITE_IOERR_WRITE, SQLITE_IOERR_FSYNC, …) is the same failure.
      return code === 'SQLITE_IOERR' || code.startsWith('SQLITE_IOERR_') ? storageErrors.io(error) : error
  }
}
