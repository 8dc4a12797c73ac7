import { UsageError, ValidationError } from '../errors.js'

/** The exit codes of `aura-db` (docs/errors.md, "CLI exit codes"). */
export const ExitCode = {
  ok: 0,
  /** The command failed: database unreachable, a migration failed, a refusal. */
  failure: 1,
  /** The command line or its input was wrong; nothing was done. */
  usage: 2,
  /** A check failed: checksum drift, verification failure. */
  checkFailed: 3,
} as const

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

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

/** The exit code for an error that ended a command. */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CheckFailedError) return ExitCode.checkFailed
  if (error instanceof UsageError || error instanceof ValidationError) return ExitCode.usage
  return ExitCode.failure
}
