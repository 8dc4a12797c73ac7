import Database from 'better-sqlite3'
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  statSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** How many times a copy torn by the app's writes is taken again before giving up. */
const COPY_ATTEMPTS = 50

/** Private copies are made in `$TMPDIR/aura-legacy-<pid>-…`: the pid says whether their owner still runs. */
const COPY_DIR = /^aura-legacy-(\d+)-/

/** The `-wal` header (magic, version, page size, checkpoint sequence, salts): a new one after each restart. */
const WAL_HEADER = 32

/**
 * What says whether a copy of `file` and its `-wal` is one snapshot: the file's identity (it
 * was not replaced) and the `-wal`'s header (it was not restarted).
 */
function snapshotMark(file: string): string {
  const db = existsSync(file) ? String(statSync(file, { bigint: true }).ino) : 'none'
  let wal = 'none'
  try {
    const fd = openSync(`${file}-wal`, 'r')
    try {
      const header = Buffer.alloc(WAL_HEADER)
      wal = header.subarray(0, readSync(fd, header, 0, WAL_HEADER, 0)).toString('hex')
    } finally {
      closeSync(fd)
    }
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') throw error
  }
  return `${db}:${wal}`
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to another user; only ESRCH means it is gone.
    return (error as { code?: string }).code !== 'ESRCH'
  }
}

/**
 * Removes the private copies that imports killed before their cleanup left behind (they hold
 * the app's plaintext API keys): every `aura-legacy-<pid>-*` directory of `$TMPDIR` whose process
 * no longer runs. A copy of a running import (this one's or another's) is left alone.
 */
export function removeStaleLegacyCopies(): void {
  const root = tmpdir()
  let names: string[]
  try {
    names = readdirSync(root)
  } catch {
    return
  }
  for (const name of names) {
    const pid = COPY_DIR.exec(name)?.[1]
    if (pid === undefined || Number(pid) === process.pid || isRunning(Number(pid))) continue
    rmSync(join(root, name), { recursive: true, force: true })
  }
}

/** A private directory (mode 0700) named after this process, for {@link removeStaleLegacyCopies}. */
export function makeLegacyCopyDir(): string {
  return mkdtempSync(join(tmpdir(), `aura-legacy-${process.pid}-`))
}

/**
 * Copies a SQLite file in WAL mode and its `-wal` to `copy` as one consistent snapshot while
 * the app may be writing to it.
 *
 * On SQLite in WAL mode, commits only append to the `-wal`, and a checkpoint copies committed
 * pages from the `-wal` into the file; only once everything is copied does the next commit
 * restart the `-wal` (a new header). So as long as the `-wal` was not restarted between the start
 * of the file's copy and the end of the `-wal`'s, every page a checkpoint changed in the file
 * during the copy is also in the copied `-wal`, which SQLite reads over the file, and a `-wal`
 * torn by an append is a valid prefix (frames are checksummed: SQLite reads up to the last
 * complete commit). When the `-wal` was restarted (or removed, or the file replaced), the copy is
 * taken again.
 *
 * Returns false when that happened on every attempt.
 */
export function copySnapshot(file: string, copy: string): boolean {
  const reader = holdSnapshot(file)
  try {
    return copyUntilConsistent(file, copy)
  } finally {
    reader?.close()
  }
}

/**
 * A read transaction on the app's file while it is in WAL mode (its `-wal` and `-shm` exist, so
 * this opens no new file beside it): SQLite restarts the `-wal` only when no reader uses it, so
 * while this is held the copy is not torn and the first attempt succeeds, however busy the app
 * is. A checkpoint may still copy frames into the file meanwhile; they are in the copied `-wal`
 * too. Without a `-wal` there is nothing to hold (and opening would create one): null.
 */
function holdSnapshot(file: string): Database.Database | null {
  if (!existsSync(`${file}-wal`) || !existsSync(`${file}-shm`)) return null
  let db: Database.Database | undefined
  try {
    db = new Database(file, { readonly: true, fileMustExist: true })
    db.exec('begin')
    db.prepare('select count(*) from sqlite_schema').get()
    return db
  } catch {
    // Unreadable as SQLite (the checks after the copy name why) or the app just closed it:
    // the copy falls back to retrying torn attempts.
    db?.close()
    return null
  }
}

function copyUntilConsistent(file: string, copy: string): boolean {
  for (let attempt = 0; attempt < COPY_ATTEMPTS; attempt++) {
    const before = snapshotMark(file)
    rmSync(`${copy}-wal`, { force: true })
    copyFileSync(file, copy)
    try {
      copyFileSync(`${file}-wal`, `${copy}-wal`)
    } catch (error) {
      // No -wal: the app is closed (it checkpoints and removes the -wal) or not in WAL mode.
      if ((error as { code?: string }).code !== 'ENOENT') throw error
    }
    if (snapshotMark(file) === before) return true
  }
  return false
}
