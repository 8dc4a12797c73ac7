/** Redraws at most this often: a terminal need not see every page. */
const REDRAW_MS = 100

/** Megabytes with one decimal when the whole amount is under 10 MB (else whole ones). */
function megabytes(bytes: number, scale: number): string {
  return (bytes / 1e6).toFixed(scale < 10e6 ? 1 : 0)
}

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

  /**
   * Shows `label: phase 42%` (the count done when the total is unknown), with the amounts in
   * megabytes when `bytes` gives them: `label: phase 120/391 MB 30%`.
   */
  update(
    phase: string,
    done: number,
    total: number,
    bytes: { readonly doneBytes?: number; readonly totalBytes?: number } = {},
  ): void {
    if (!this.#enabled) return
    const now = Date.now()
    if (done < total && now - this.#drawnAt < REDRAW_MS) return
    this.#drawnAt = now
    const amount = total > 0 ? `${Math.floor((100 * Math.min(done, total)) / total)}%` : String(done)
    const { doneBytes, totalBytes } = bytes
    const size =
      doneBytes !== undefined && totalBytes !== undefined
        ? ` ${megabytes(doneBytes, totalBytes)}/${megabytes(totalBytes, totalBytes)} MB`
        : ''
    process.stderr.write(`\r\u001b[K${this.#label}: ${phase}${size} ${amount}`)
    this.#shown = true
  }

  /** Clears the line, so the report that follows starts on a clean one. */
  finish(): void {
    if (this.#shown) process.stderr.write('\r\u001b[K')
    this.#shown = false
  }
}
