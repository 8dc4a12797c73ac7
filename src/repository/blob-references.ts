import { VERSION_HASH_COLUMNS } from '../schema/project-versions.js'
import { txRows, type Session, type TxContext } from './session.js'

/** The non-null blob hashes a version row references, one entry per reference. */
export function versionHashes(row: Record<string, unknown>): string[] {
  return VERSION_HASH_COLUMNS.map((c) => row[c]).filter((h): h is string => typeof h === 'string')
}

/**
 * Adds `delta` (+1 or -1) to the reference count of each hash, once per occurrence.
 *
 * `reference_count` counts live references: versions that are not soft-deleted. A soft-deleted
 * version still points at its blobs (the foreign key keeps them from being collected), so
 * restoring it can take its references back.
 */
export async function adjustReferences(
  tx: TxContext,
  session: Pick<Session, 'dialect' | 'cache'>,
  hashes: readonly string[],
  delta: 1 | -1,
): Promise<void> {
  const counts = new Map<string, number>()
  for (const h of hashes) counts.set(h, (counts.get(h) ?? 0) + delta)
  const { dialect, cache } = session
  for (const [hash, by] of counts) {
    const taken = by > 0
    const values = taken ? [by, dialect.encode('timestamp', tx.now), hash] : [by, hash]
    const query = cache.compile(`content_blobs:references:${taken}`, values, (v) =>
      tx.db
        .updateTable('content_blobs')
        .set((eb) => ({
          reference_count: eb('reference_count', '+', v(0)),
          ...(taken ? { last_referenced_at: v(1) } : {}),
        }))
        .where('content_hash', '=', v(taken ? 2 : 1)),
    )
    await txRows(tx, query)
  }
}
