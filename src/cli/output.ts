import { createInterface } from 'node:readline/promises'
import { AuraDataError, ImportError, redactUrl, usage } from '../errors.js'
import {
  CheckFailedError,
  cliErrorCode,
  MISSING_DATABASE,
  NETWORK_CODES,
  type CliErrorCode,
} from './exit-codes.js'

type Colour = 'red' | 'green' | 'yellow' | 'dim' | 'bold'

const SGR: Record<Colour, [number, number]> = {
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  dim: [2, 22],
  bold: [1, 22],
}

/** A database URL anywhere in a message; its password is replaced before printing. */
const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/\S+/gi

/** What to print for an error: its code, one line, and a hint where one helps. */
export interface ErrorDescription {
  readonly code: CliErrorCode
  readonly message: string
  readonly hint?: string
}

/** A network error as Node reports it: a code, the address tried, or a wrapper of several. */
interface NetworkFailure {
  code?: unknown
  address?: unknown
  port?: unknown
  cause?: unknown
  errors?: unknown
}

/** The first network error code in a chain of causes (an AggregateError's included), with its address. */
function networkReason(cause: unknown): string | undefined {
  for (let e = cause as NetworkFailure | null | undefined; e;) {
    if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code))
      return typeof e.address === 'string' ? `${e.code} ${e.address}:${String(e.port)}` : e.code
    e = (Array.isArray(e.errors) ? e.errors[0] : e.cause) as NetworkFailure | null | undefined
  }
  return undefined
}

/**
 * Turns any error into one printable line (newlines folded, passwords in URLs redacted) and a
 * hint on how to fix it where one helps.
 */

export function describeError(error: unknown): ErrorDescription {
  const err = error as { message?: unknown; code?: unknown; errors?: unknown } | null
  let message = typeof err?.message === 'string' && err.message ? err.message : String(error)
  // Node reports a failed connection to every address of a host as an AggregateError without a message.
  if (!err?.message && Array.isArray(err?.errors) && err.errors.length > 0) {
    message = (err.errors[0] as Error).message
  }
  const code = typeof err?.code === 'string' ? err.code : undefined
  let hint: string | undefined
  if (error instanceof CheckFailedError) hint = error.hint
  else if (error instanceof AuraDataError) {
    if (error.code === 'AURA_BUSY')
      hint = 'Another process is writing to the database; try again when it is done.'
    else if (error.code === 'AURA_CONNECTION_LOST' || error.code === 'AURA_DEADLINE') {
      // The network's own reason (refused, unreachable, timed out) says where to look.
      const reason = networkReason(error.cause)
      if (reason) message = `${message} (${reason})`
      hint =
        'Check the host and port in --db (or AURA_DATABASE_URL), and that the server runs and is reachable from here.'
    }
  } else if (code && NETWORK_CODES.has(code)) {
    message = `Cannot reach the database server: ${message}`
    hint = 'Check --db (or AURA_DATABASE_URL) and that the server is running.'
  } else if (code === MISSING_DATABASE)
    hint = 'Create it with `aura-db init`, or check the database name in --db.'
  else if (code === '28P01' || code === '28000') hint = 'Check the user name and password in --db.'
  const line = message
    .split('\n')
    .map((part) => part.trim())
    .filter(Boolean)
    .join(' ')
    .replace(URL_IN_TEXT, (url) => redactUrl(url))
  const described = { code: cliErrorCode(error), message: line }
  return hint === undefined ? described : { ...described, hint }
}

/**
 * Everything the CLI prints goes through here:
 * - reports on stdout: with `--json`, exactly one JSON document per run, whether the command
 *   succeeded or failed (a failure adds `error: { code, message, hint }` to the report, or is the
 *   whole document when there was none); otherwise lines and aligned tables;
 * - colour only when stdout (or, for errors, stderr) is a terminal and `NO_COLOR` is unset;
 * - errors on stderr as one line plus an optional hint; the stack trace only with `AURA_DEBUG=1`.
 */
export class Output {
  /** `--json` was given: reports are JSON documents, human lines are suppressed. */
  readonly json: boolean
  /** The `--json` report, held until the command ends so that an error can join it. */
  #pending: object | undefined
  #written = false

  constructor(options: { json: boolean }) {
    this.json = options.json
  }

  /** Records a report: `doc` as JSON with `--json` (written by {@link flush}), else whatever `human` prints. */
  report(doc: object, human: () => void): void {
    if (this.json) this.#pending = doc
    else human()
  }

  /**
   * Writes the `--json` report now. Called when the command ends, and by a command that keeps
   * running after its report (`studio`); an error after that goes to stderr only.
   */
  flush(): void {
    if (!this.json || this.#written || this.#pending === undefined) return
    this.#write(this.#pending)
  }

  #write(doc: object): void {
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`)
    this.#written = true
  }

  /** One line on stdout (human output only; callers use {@link report} to stay quiet under `--json`). */
  line(text = ''): void {
    process.stdout.write(`${text}\n`)
  }

  /**
   * An aligned table on stdout: a bold header, then one row per entry, columns padded to the
   * widest cell (measured without colour codes).
   */
  table(header: readonly string[], rows: readonly (readonly string[])[]): void {
    const widths = header.map((h, i) =>
      Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ''))),
    )
    const format = (cells: readonly string[]) =>
      cells
        .map((cell, i) =>
          i === cells.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visibleLength(cell)),
        )
        .join('  ')
        .trimEnd()
    this.line(this.paint('bold', format(header)))
    for (const row of rows) this.line(format(row))
  }

  /** `label  value` lines on stdout, the values aligned. */
  fields(rows: readonly (readonly [string, string])[]): void {
    const width = Math.max(...rows.map(([label]) => label.length))
    for (const [label, value] of rows) this.line(`${label.padEnd(width)}  ${value}`)
  }

  /** `text` in `colour` when stdout is a terminal, plain otherwise. */
  paint(colour: Colour, text: string): string {
    return colourize(process.stdout, colour, text)
  }

  /**
   * Prints an error to stderr: `error: <one line>`, `hint: …` where one helps, the stack with
   * AURA_DEBUG=1; with `--json`, also as the `error` of the one document on stdout. `stderr: false`
   * when something else (commander) already printed it there.
   */
  error(error: unknown, { stderr = true }: { stderr?: boolean } = {}): void {
    const { code, message, hint } = describeError(error)
    if (this.json && !this.#written) {
      // A refused import's problems are its whole answer (table, key, column of each value);
      // the one-line message names only the first few.
      const problems = error instanceof ImportError ? { problems: error.problems } : {}
      this.#write({ ...this.#pending, error: { code, message, hint: hint ?? null, ...problems } })
    }
    if (!stderr) return
    process.stderr.write(`${colourize(process.stderr, 'red', 'error:')} ${message}\n`)
    if (hint) process.stderr.write(`${colourize(process.stderr, 'dim', 'hint:')} ${hint}\n`)
    if (process.env.AURA_DEBUG === '1') {
      for (let e: unknown = error; e instanceof Error; e = e.cause)
        process.stderr.write(`${e.stack ?? e.message}\n`)
    }
  }

  /**
   * Asks a yes/no question on the terminal; `--yes` answers yes without asking. When stdin is
   * not a terminal and `--yes` was not given, refuses with a UsageError rather than guess.
   */
  async confirm(question: string, yes: boolean): Promise<boolean> {
    if (yes) return true
    if (!process.stdin.isTTY) throw usage.confirmationNeeded(question)
    const rl = createInterface({ input: process.stdin, output: process.stderr })
    try {
      const answer = await rl.question(`${question} [y/N] `)
      return /^y(es)?$/i.test(answer.trim())
    } finally {
      rl.close()
    }
  }
}

/** `text` in `colour` when `stream` is a terminal and NO_COLOR is unset; else as it is. */
export function colourize(stream: NodeJS.WriteStream, colour: Colour, text: string): string {
  if (!stream.isTTY || process.env.NO_COLOR) return text
  const [open, close] = SGR[colour]
  return `\u001b[${open}m${text}\u001b[${close}m`
}

function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[\d+m/g, '').length
}
