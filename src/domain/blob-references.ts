import type { AuraDialect } from '../dialect/index.js'
import type { TxContext } from '../repository/session.js'

/** The columns of `project_versions` that reference `content_blobs`. */
export const VERSION_HASH_COLUMNS = [
  'brief_hash',
  'plan_hash',
  'voice_hash',
  'render_hash',
  'timeline_hash',
] as const

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
  dialect: AuraDialect,
  hashes: readonly string[],
  delta: 1 | -1,
): Promise<void> {
  const counts = new Map<string, number>()
  for (const h of hashes) counts.set(h, (counts.get(h) ?? 0) + delta)
  for (const [hash, by] of counts) {
    await tx.db
      .updateTable('content_blobs')
      .set((eb) => ({
        reference_count: eb('reference_count', '+', by),
        ...(by > 0 ? { last_referenced_at: dialect.encode('timestamp', tx.now) } : {}),
      }))
      .where('content_hash', '=', hash)
      .execute()
  }
}
