import { createHash } from 'node:crypto'
import { closeSync, openSync, readSync } from 'node:fs'

/** A file's SHA-256 (hex), or null when it does not exist. */
export interface SourceFiles {
  readonly file: string
  readonly sha256: string
  readonly walSha256: string | null
  readonly shmSha256: string | null
}

/** Bytes hashed at a time: memory stays flat whatever the file's size (a file may exceed 2 GiB). */
const HASH_CHUNK = 4 * 1024 * 1024

function sha256File(file: string): string | null {
  let fd: number
  try {
    fd = openSync(file, 'r')
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return null
    throw error
  }
  try {
    const hash = createHash('sha256')
    const chunk = Buffer.allocUnsafe(HASH_CHUNK)
    for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) hash.update(chunk.subarray(0, n))
    return hash.digest('hex')
  } finally {
    closeSync(fd)
  }
}

/** Hashes the legacy file and its `-wal` and `-shm` companions. */
export function hashSource(file: string): SourceFiles {
  return {
    file,
    sha256: sha256File(file) ?? '',
    walSha256: sha256File(`${file}-wal`),
    shmSha256: sha256File(`${file}-shm`),
  }
}
