import { createHash, randomBytes } from 'node:crypto'
import { closeSync, createReadStream, fsyncSync, openSync, rmSync, writeSync } from 'node:fs'
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

/** Lower-case hex SHA-256 and size of a file, read as a stream. */
export async function hashFile(path: string): Promise<{ sha256: string; sizeBytes: number }> {
  const hash = createHash('sha256')
  let sizeBytes = 0
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer)
    sizeBytes += (chunk as Buffer).length
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
