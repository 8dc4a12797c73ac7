import { createHash, randomBytes } from 'node:crypto'
import {
  closeSync,
  createReadStream,
  fsyncSync,
  lstatSync,
  openSync,
  readdirSync,
  rmSync,
  writeSync,
} from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'

/** Prefix of every temporary file a backup or restore writes; never a backup name. */
export const TEMP_PREFIX = '.tmp-aura-'

/**
 * A fresh temporary name in `dir`: `.tmp-aura-<pid>-<random><extension>`. The pid lets a later
 * run recognise (and remove) the leftovers of a process that was killed.
 */
export function tempPath(dir: string, extension: string): string {
  return join(dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}${extension}`)
}

/** Creates an empty file with mode 0600; fails when the name exists (never clobbers). */
export function createPrivateFile(path: string): void {
  closeSync(openSync(path, 'wx', 0o600))
}

/** Flushes a file's data to the disk. */
export function fsyncFile(path: string): void {
  const fd = openSync(path, 'r+')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** Flushes a directory entry change (create, rename, unlink) to the disk. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } catch (error) {
    // Some file systems refuse fsync on a directory; the rename itself is still atomic there.
    if (
      (error as NodeJS.ErrnoException).code !== 'EINVAL' &&
      (error as NodeJS.ErrnoException).code !== 'EISDIR'
    ) {
      throw error
    }
  } finally {
    closeSync(fd)
  }
}

/**
 * Bytes read per step of {@link hashFile}. Large: between two steps an application's work runs
 * (each step is one turn of the event loop), and with 64 KiB steps a steady writer committing
 * between them made the hash of a 400 MB backup take seconds. Hashing 8 MiB takes ~5 ms.
 */
const HASH_CHUNK_BYTES = 8 * 1024 * 1024

/**
 * Lower-case hex SHA-256 and size of a file, read in large chunks; the next chunk is read while
 * the current one is hashed. `onProgress` gets the bytes hashed so far and the file's size.
 */
export async function hashFile(
  path: string,
  onProgress?: (doneBytes: number, totalBytes: number) => void,
): Promise<{ sha256: string; sizeBytes: number }> {
  const hash = createHash('sha256')
  const handle = await open(path, 'r')
  let current = Buffer.allocUnsafe(HASH_CHUNK_BYTES)
  let spare = Buffer.allocUnsafe(HASH_CHUNK_BYTES)
  let sizeBytes = 0
  let pending = handle.read(current, 0, HASH_CHUNK_BYTES, 0)
  try {
    const { size } = await handle.stat()
    for (;;) {
      const { bytesRead } = await pending
      if (bytesRead === 0) break
      sizeBytes += bytesRead
      ;[current, spare] = [spare, current]
      pending = handle.read(current, 0, HASH_CHUNK_BYTES, sizeBytes)
      hash.update(spare.subarray(0, bytesRead))
      onProgress?.(sizeBytes, Math.max(size, sizeBytes))
    }
  } finally {
    // A read still under way must end before its file is closed.
    await pending.catch(() => undefined)
    await handle.close()
  }
  return { sha256: hash.digest('hex'), sizeBytes }
}

/**
 * Copies `from` to the new file `to` (mode 0600, never clobbering), hashing the bytes as they are
 * written, and flushes the copy: the hash describes exactly what landed in `to`.
 */
export async function copyFileHashed(
  from: string,
  to: string,
): Promise<{ sha256: string; sizeBytes: number }> {
  const hash = createHash('sha256')
  let sizeBytes = 0
  const fd = openSync(to, 'wx', 0o600)
  try {
    for await (const chunk of createReadStream(from)) {
      const buffer = chunk as Buffer
      hash.update(buffer)
      sizeBytes += buffer.length
      for (let offset = 0; offset < buffer.length;) offset += writeSync(fd, buffer, offset)
    }
    fsyncSync(fd)
  } catch (error) {
    closeSync(fd)
    rmSync(to, { force: true })
    throw error
  }
  closeSync(fd)
  return { sha256: hash.digest('hex'), sizeBytes }
}

/** Removes a SQLite file together with its journal, WAL and shared-memory files; missing ones are fine. */
export function removeDatabaseFiles(path: string): void {
  for (const suffix of ['', '-journal', '-wal', '-shm']) rmSync(path + suffix, { force: true })
}

/** A temporary name of {@link tempPath}, or a SQLite journal, WAL or shared-memory file of one. */
const TEMP_FILE = /^\.tmp-aura-(\d+)-[0-9a-f]+\.(?:db|dump)(?:-journal|-wal|-shm)?$/

/**
 * Removes this process's own temporary files in `dir` (and their journal, WAL or shared-memory
 * files): what an interrupted backup or restore leaves when it stops before cleaning up itself.
 * Returns how many it removed.
 */
export function removeOwnTemps(dir: string): number {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return 0
  }
  let removed = 0
  for (const name of names) {
    if (Number(TEMP_FILE.exec(name)?.[1]) !== process.pid) continue
    rmSync(join(dir, name), { force: true })
    removed++
  }
  return removed
}

/**
 * Removes the temporary files (backup copies, restore staging copies beside the database) that
 * a process killed meanwhile (SIGKILL, power loss) left in `dir`. Only files whose name is
 * exactly a temporary name of {@link tempPath} (or its `-journal`/`-wal`/`-shm`) are
 * considered, only regular files, and only when the process of the pid in the name is gone on
 * this host: a running backup or restore keeps its files, and so does one of another user
 * (EPERM). A pid reused by an unrelated live process keeps the file until that one ends: the
 * safe side.
 */
export function removeStaleTemps(dir: string): void {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return
  }
  for (const name of names) {
    const pid = Number(TEMP_FILE.exec(name)?.[1])
    if (!Number.isSafeInteger(pid) || pid <= 0 || isAlive(pid)) continue
    const path = join(dir, name)
    try {
      if (!lstatSync(path).isFile()) continue
      rmSync(path, { force: true })
    } catch {
      // Gone already, or not ours to remove: either way nothing to clean here.
    }
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
