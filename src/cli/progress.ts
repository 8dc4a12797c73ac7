/** Redraws at most this often: a terminal need not see every page. */
const REDRAW_MS = 100

/**
 * A one-line progress display for long work (backup, restore) on stderr, shown only when stderr
 * is a terminal: piped output and `--json` documents never contain it.
 * The commands feed it from the `onProgress` events of the library's calls and call `finish()` at
 * the end.
 */
export class Progress {
  readonly #label: string
  readonly #enabled: boolean
  #drawnAt = 0
  #shown = false

  constructor(label: string, enabled: boolean = process.stderr.isTTY === true) {
    this.#label = label
    this.#enabled = enabled
  }

  /** Shows `label: phase  42%` (or `done/total` when the total is unknown). */
  update(phase: string, done: number, total: number): void {
    if (!this.#enabled) return
    const now = Date.now()
    if (done < total && now - this.#drawnAt < REDRAW_MS) return
    this.#drawnAt = now
    const amount = total > 0 ? `${Math.floor((100 * Math.min(done, total)) / total)}%` : String(done)
    process.stderr.write(`\r\u001b[K${this.#label}: ${phase} ${amount}`)
    this.#shown = true
  }

  /** Clears the line, so the report that follows starts on a clean one. */
  finish(): void {
    if (this.#shown) process.stderr.write('\r\u001b[K')
    this.#shown = false
  }
}
