import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { packageRoot } from '../paths.js'

/** One check of `aura-db verify --json`. */
export interface VerifyCheck {
  readonly name: string
  readonly ok: boolean
  readonly detail: string
}

/** The state of the studio's verification, as the health page shows it. */
export type VerifyJobState =
  | { readonly state: 'idle' }
  | { readonly state: 'running'; readonly startedAt: Date }
  | {
      readonly state: 'done'
      readonly finishedAt: Date
      readonly ok: boolean
      readonly checks: VerifyCheck[]
    }
  | { readonly state: 'failed'; readonly message: string }

/**
 * The one verification a studio runs at a time, in a child process (`aura-db verify --json` on
 * the studio's database): verify reads the whole database and migrates a scratch one, which on
 * SQLite's synchronous driver would hold the studio's event loop for as long (13–19 s on a
 * 950 MB file, every other page waiting). The child's report is kept for the health page.
 */
export class VerifyJob {
  #state: VerifyJobState = { state: 'idle' }

  /** `args`: the global options that name the database, its migrations and schema (`--db …`). */
  constructor(private readonly args: readonly string[]) {}

  get state(): VerifyJobState {
    return this.#state
  }

  /** Starts a verification unless one is running. */
  start(): void {
    if (this.#state.state === 'running') return
    this.#state = { state: 'running', startedAt: new Date() }
    const child = spawn(
      process.execPath,
      [join(packageRoot(), 'bin', 'aura-db.js'), '--json', ...this.args, 'verify'],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    )
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.on('error', (error) => (this.#state = { state: 'failed', message: error.message }))
    child.on('close', () => {
      this.#state = outcome(stdout)
    })
  }
}

/** The state a finished `verify --json` run leaves: its report, or its error document's message. */
function outcome(stdout: string): VerifyJobState {
  let document: { ok?: boolean; checks?: VerifyCheck[]; error?: { message: string } }
  try {
    document = JSON.parse(stdout) as typeof document
  } catch {
    return { state: 'failed', message: 'verify stopped without a report.' }
  }
  if (document.error) return { state: 'failed', message: document.error.message }
  return { state: 'done', finishedAt: new Date(), ok: document.ok === true, checks: document.checks ?? [] }
}
