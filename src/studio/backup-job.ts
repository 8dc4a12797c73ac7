import type { AuraDatabase } from '../database.js'
import type { BackupResult } from '../operations/backup.js'
import { describeError } from '../cli/output.js'

/** The state of the studio's backup, as `/api/backup` reports it to the page's progress bar. */
export type BackupJobState =
  | { readonly state: 'idle' }
  | {
      readonly state: 'running'
      readonly phase: 'copy' | 'verify'
      readonly done: number
      readonly total: number
    }
  | { readonly state: 'done'; readonly file: string; readonly sizeBytes: number }
  | { readonly state: 'failed'; readonly message: string }

/**
 * The one backup a studio runs at a time, through `db.backup` (verified, manifest, retention as
 * configured), with its progress kept for the page to poll.
 */
export class BackupJob {
  #state: BackupJobState = { state: 'idle' }
  #running: Promise<BackupResult | null> | null = null

  constructor(
    private readonly db: AuraDatabase,
    private readonly dir: string,
  ) {}

  get state(): BackupJobState {
    return this.#state
  }

  /** Starts a backup unless one is running; returns the running (or new) one. */
  start(): Promise<BackupResult | null> {
    if (this.#running) return this.#running
    this.#state = { state: 'running', phase: 'copy', done: 0, total: 0 }
    const run = this.db
      .backup({
        dir: this.dir,
        onProgress: (p) => (this.#state = { state: 'running', phase: p.phase, done: p.done, total: p.total }),
      })
      .then(
        (result) => {
          this.#state = { state: 'done', file: result.file, sizeBytes: result.sizeBytes }
          return result
        },
        (error: unknown) => {
          this.#state = { state: 'failed', message: describeError(error).message }
          return null
        },
      )
      .finally(() => {
        this.#running = null
      })
    this.#running = run
    return run
  }

  /** Waits for a running backup (before the studio closes the database). */
  async settle(): Promise<void> {
    await this.#running
  }
}
