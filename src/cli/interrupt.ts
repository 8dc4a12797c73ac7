import { colourize } from './output.js'

/** The exit code of a process ended by a signal, as a shell reports it (128 + the signal's number). */
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 }

/**
 * Makes Ctrl-C (SIGINT) or SIGTERM during a long operation end it in words: `cleanUp` removes
 * what the operation would have removed on failure and returns the sentence saying what was
 * interrupted and what state things are in, which is printed before the process exits with
 * 128 + the signal's number. Node's default (exit at once, silently) would leave a full-size
 * temporary file behind until the next run. Returns the function that removes the handlers
 * once the operation is over.
 * Call it before the work starts and the returned function in a `finally` after it.
 */
export function onInterrupt(cleanUp: (signal: NodeJS.Signals) => string): () => void {
  const listener = (signal: NodeJS.Signals) => {
    let message: string
    try {
      message = cleanUp(signal)
    } catch (error) {
      message = `Interrupted; cleaning up failed: ${(error as Error).message}`
    }
    process.stderr.write(`${colourize(process.stderr, 'red', 'interrupted:')} ${message}\n`)
    process.exit(SIGNAL_EXIT[signal] ?? 1)
  }
  process.once('SIGINT', listener)
  process.once('SIGTERM', listener)
  return () => {
    process.off('SIGINT', listener)
    process.off('SIGTERM', listener)
  }
}
