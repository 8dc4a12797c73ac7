import { c, defineTable, NOW, type EntityOf, type InsertOf, type UpdateOf } from './define.js'

export const CONTENT_TYPES = ['Brief', 'Plan', 'Voice', 'Render', 'Timeline', 'Asset'] as const

/**
 * `content_blobs`: content-addressed, deduplicated, immutable content, keyed by the lower-case
 * hex SHA-256 of its UTF-8 bytes (so the caller supplies the key).
 */
export const contentBlobsTable = defineTable({
  name: 'content_blobs',
  primaryKey: 'contentHash',
  keyGeneration: 'none',
  features: { audit: true, rowVersion: false, softDelete: false },
  columns: {
    contentHash: c.text(64),
    content: c.text(),
    contentType: c.text(50).oneOf(CONTENT_TYPES),
    sizeBytes: c.bigint().range(0),
    referenceCount: c.int().range(0).withDefault(0),
    lastReferencedAt: c.timestamp().withDefault(NOW),
  },
  indexes: [['contentType'], ['lastReferencedAt'], ['referenceCount']],
})

export type ContentBlob = EntityOf<typeof contentBlobsTable>
export type NewContentBlob = InsertOf<typeof contentBlobsTable>
export type ContentBlobUpdate = UpdateOf<typeof contentBlobsTable>
