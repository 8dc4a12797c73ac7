import { CommanderError } from 'commander'
import { AuraDataError, type AuraErrorCode } from '../errors.js'

/** The exit codes of `aura-db` (docs/errors.md, "CLI exit codes"). */
export const ExitCode = {
  ok: 0,
  /** The command failed: database unreachable, a migration failed, a refusal, a declined confirmation. */
  failure: 1,
  /** The command line or its input was wrong (a missing database included); nothing was done. */
  usage: 2,
  /** A check failed: checksum drift, verification failure. */
  checkFailed: 3,
} as const

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/**
 * The `code` of an error in a `--json` error document: the library's codes, plus those only the
 * command line has (docs/errors.md).
 */
export type CliErrorCode = AuraErrorCode | 'AURA_CHECK_FAILED' | 'AURA_CANCELLED' | 'AURA_UNEXPECTED'

/**
 * Thrown by a command after it printed its report, when what it checked is not fine (drift,
 * failed verification): the message goes to stderr and the process exits with 3.
 */
export class CheckFailedError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message)
    this.name = 'CheckFailedError'
  }
}

/** The user answered no to a confirmation (`rollback`, `restore`): nothing was changed, exit 1. */
export class CancelledError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CancelledError'
  }
}

/** Node's network error codes: the server could not be reached at all. */
export const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
])

/** PostgreSQL's SQLSTATE for a database that does not exist; on SQLite a missing file is a UsageError. */
export const MISSING_DATABASE = '3D000'

/** PostgreSQL's SQLSTATEs for a refused login (wrong password, no such role, pg_hba). */
const LOGIN_REFUSED = new Set(['28P01', '28000'])

/** The CLI error code of any error that ended a command. */
export function cliErrorCode(error: unknown): CliErrorCode {
  if (error instanceof CheckFailedError) return 'AURA_CHECK_FAILED'
  if (error instanceof CancelledError) return 'AURA_CANCELLED'
  if (error instanceof AuraDataError) return error.code
  if (error instanceof CommanderError) return 'AURA_USAGE'
  const code = (error as { code?: unknown } | null)?.code
  // The same missing database is a UsageError on SQLite: both dialects exit 2.
  if (code === MISSING_DATABASE) return 'AURA_USAGE'
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || LOGIN_REFUSED.has(code))) return 'AURA_DATABASE'
  if (Array.isArray((error as { errors?: unknown } | null)?.errors)) return 'AURA_DATABASE'
  return 'AURA_UNEXPECTED'
}

/** The exit code for an error that ended a command. */
export function exitCodeFor(error: unknown): ExitCode {
  switch (cliErrorCode(error)) {
    case 'AURA_CHECK_FAILED':
      return ExitCode.checkFailed
    case 'AURA_USAGE':
    case 'AURA_VALIDATION':
      return ExitCode.usage
    default:
      return ExitCode.failure
  }
}
