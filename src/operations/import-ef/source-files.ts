import { createHash } from 'node:crypto'
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'

/** A file's SHA-256 (hex), or null when it does not exist. */
export interface SourceFiles {
  readonly file: string
  readonly sha256: string
  readonly walSha256: string | null
  readonly shmSha256: string | null
}

/** Bytes hashed at a time: memory stays flat whatever the file's size (a file may exceed 2 GiB). */
const HASH_CHUNK = 4 * 1024 * 1024

/** Called as a file is hashed: the bytes hashed so far and the file's size. */
export type HashProgress = (done: number, total: number) => void

function sha256File(file: string, progress?: HashProgress): string | null {
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
    const total = fstatSync(fd).size
    let done = 0
    for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) {
      hash.update(chunk.subarray(0, n))
      progress?.((done += n), total)
    }
    return hash.digest('hex')
  } finally {
    closeSync(fd)
  }
}

/** Hashes the legacy file and its `-wal` and `-shm` companions. */
export function hashSource(file: string, progress?: HashProgress): SourceFiles {
  return {
    file,
    sha256: sha256File(file, progress) ?? '',
    walSha256: sha256File(`${file}-wal`),
    shmSha256: sha256File(`${file}-shm`),
  }
}
