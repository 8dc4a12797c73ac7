import { BusyError, ConstraintError, storageErrors, usage, type AuraDataError } from '../../errors.js'

/** SQLSTATEs after which the whole transaction can simply run again. */
const RETRYABLE = new Set(['40001', '40P01'])

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
    case '53100':
      return storageErrors.diskFull(error)
    case '58030':
      return storageErrors.io(error)
    case '3D000':
      // As a missing SQLite file is (openDatabase with create: false): a wrong URL, a UsageError.
      return usage.postgresDatabaseMissing(error)
    case '25006':
      return storageErrors.readOnly(error)
    default:
      return undefined
  }
}

export function isRetryablePostgresError(error: unknown): boolean {
  const state = sqlState(error) ?? sqlState((error as { cause?: unknown } | null)?.cause)
  return state !== undefined && RETRYABLE.has(state)
}
