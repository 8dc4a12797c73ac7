import {
  AccessDeniedError,
  AuraDataError,
  BusyError,
  ConnectionLostError,
  ConstraintError,
  storageErrors,
  usage,
} from '../../errors.js'

/** SQLSTATEs after which the whole transaction can simply run again. */
const RETRYABLE = new Set(['40001', '40P01'])

/**
 * PostgreSQL refuses to run a prepared statement whose result columns changed since it was
 * prepared (0A000 "cached plan must not change result type", raised by RevalidateCachedQuery):
 * another process added a column to a table a `select *` reads. Preparing it again, under a new
 * name, is all it takes.
 */
export function isStalePreparedStatement(error: unknown): boolean {
  const e = error as { code?: unknown; routine?: unknown } | null
  return e?.code === '0A000' && e.routine === 'RevalidateCachedQuery'
}

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}

/**
 * Maps a pg error to an AuraDataError by SQLSTATE, never by message text. The driver error is
 * kept as `cause`; the message holds neither SQL nor values (pg's `detail` would).
 */
export function mapPostgresError(error: unknown): AuraDataError | undefined {
  switch (sqlState(error)) {
    case '23505':
      return new ConstraintError('A row with the same unique key already exists.', 'unique', { cause: error })
    case '23503':
      return new ConstraintError(
        'The write refers to a row that does not exist (foreign key).',
        'foreign_key',
        {
          cause: error,
        },
      )
    case '23514':
      return new ConstraintError('A CHECK constraint refused the value.', 'check', { cause: error })
    case '23502':
      return new ConstraintError('A required column was NULL.', 'not_null', { cause: error })
    case '55P03':
    case '40001':
    case '40P01':
      return new BusyError(
        'The transaction conflicted with a concurrent one (lock or serialization); retry it.',
        {
          cause: error,
        },
      )
    case '42501':
      return new AccessDeniedError(
        'The database role may not do this: it lacks the privilege, or row-level security refused the row (on a sync hub: not a member of the project, or read-only).',
        { cause: error },
      )
    case '53100':
      return storageErrors.diskFull(error)
    case '58030':
      return storageErrors.io(error)
    case '3D000':
      // As a missing SQLite file is (openDatabase with create: false): a wrong URL, a UsageError.
      return usage.postgresDatabaseMissing(error)
    case '25006':
      return storageErrors.readOnly(error)
    case '0A000':
      return isStalePreparedStatement(error)
        ? new BusyError(
            'Another process changed the columns of a table this statement reads (a migration); it is prepared again on the next try. Retry it.',
            { cause: error },
          )
        : undefined
    default:
      return undefined
  }
}

/**
 * Whether a unit that failed with `error` provably committed nothing and can simply run again
 * at once: a serialization failure or deadlock, a statement prepared before another process
 * changed the table's columns, a connection lost before COMMIT was sent. Not a CommitUnknownError
 * (the unit may have committed), and not a DeadlineError: it is `retryable` for the caller, but
 * rerunning it by itself would multiply the wait of a stalled network past the deadline.
 */
export function isRetryablePostgresError(error: unknown): boolean {
  if (error instanceof ConnectionLostError) return true
  const raw = error instanceof AuraDataError ? error.cause : error
  if (isStalePreparedStatement(raw)) return true
  const state = sqlState(raw)
  return state !== undefined && RETRYABLE.has(state)
}
