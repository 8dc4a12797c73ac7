import { createHash } from 'node:crypto'
import { IntegrityError } from '../errors.js'

/** The lower-case hex SHA-256 of the UTF-8 bytes of `content`: the key of a content blob. */
export function contentHash(content: string): string {
  return createHash('sha256').update(content, 'utf8').digest('hex')
}

/** The number of UTF-8 bytes of `content`. */
export function utf8Size(content: string): number {
  return Buffer.byteLength(content, 'utf8')
}

/**
 * Throws an IntegrityError unless `content` hashes to `hash`: stored content that changed after
 * it was written is never handed out as if it were the original.
 */
export function verifyContent(hash: string, content: string): void {
  if (contentHash(content) !== hash) {
    throw new IntegrityError(
      `content_blobs ${hash}: the stored content does not match its SHA-256 hash; ` +
        'the database was changed outside Aura Data or is damaged. Restore it from a backup.',
    )
  }
}
