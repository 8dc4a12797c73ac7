import {
  c,
  defineTable,
  NOW,
  type EntityOf,
  type InsertOf,
  type ResolvedTable,
  type UpdateOf,
} from './define.js'

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

/** The definition of `content_blobs` the types use: the application's extension when it declares one (`AuraTableExtensions`). */
export type ContentBlobsTable = ResolvedTable<'content_blobs', typeof contentBlobsTable>

/**
 * A row of `content_blobs` as the repositories return it.
 * @interface
 */
export type ContentBlob = EntityOf<ContentBlobsTable>
/**
 * What `add` takes for a row of `content_blobs`: the required fields, and the optional ones.
 * @interface
 */
export type NewContentBlob = InsertOf<ContentBlobsTable>
/**
 * What `update` takes for a row of `content_blobs`: the key and `rowVersion`, and the fields to change.
 * @interface
 */
export type ContentBlobUpdate = UpdateOf<ContentBlobsTable>
