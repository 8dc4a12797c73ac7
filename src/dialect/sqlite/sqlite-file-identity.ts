import { statSync } from 'node:fs'
import { storageErrors } from '../../errors.js'

/**
 * Which file a SQLite handle opened (device and inode), to notice when the path stops naming it.
 * SQLite keeps writing to the file it opened: once that file is deleted, commits are
 * acknowledged and lost with it; once another file is renamed over the path, this handle's WAL
 * and the new file's pages no longer match and the new file is corrupted. Neither is reported
 * by SQLite in WAL mode, so writes check the path first.
 */
export class SqliteFileIdentity {
  readonly #path: string
  readonly #dev: number
  readonly #ino: number

  constructor(path: string) {
    const stat = statSync(path)
    this.#path = path
    this.#dev = stat.dev
    this.#ino = stat.ino
  }

  /** Throws DatabaseReplacedError when the path is gone or names another file than the one opened. */
  assertUnchanged(): void {
    const stat = statSync(this.#path, { throwIfNoEntry: false })
    if (stat && stat.ino === this.#ino && stat.dev === this.#dev) return
    throw storageErrors.fileGone(this.#path, stat ? 'replaced by another file' : 'deleted')
  }
}
