import {
  c,
  defineTable,
  NEW_UUID,
  type EntityOf,
  type InsertOf,
  type ResolvedTable,
  type UpdateOf,
} from './define.js'

/** `Processing` is what the .NET app writes for a running export; `InProgress` is this library's. */
export const EXPORT_STATUSES = [
  'Queued',
  'InProgress',
  'Processing',
  'Completed',
  'Failed',
  'Cancelled',
] as const

/** `export_history`: one row per export job (queue, progress and outcome). */
export const exportHistoryTable = defineTable({
  name: 'export_history',
  primaryKey: 'id',
  keyGeneration: 'uuid',
  features: { audit: true, rowVersion: true, softDelete: false },
  columns: {
    id: c.uuid().withDefault(NEW_UUID),
    inputFile: c.text(500),
    outputFile: c.text(500),
    presetName: c.text(100).notBlank(),
    status: c.text(50).oneOf(EXPORT_STATUSES).withDefault('Queued'),
    progress: c.real().range(0, 100).withDefault(0),
    startedAt: c.timestamp().nullable(),
    completedAt: c.timestamp().nullable(),
    errorMessage: c.text(1000).nullable(),
    fileSize: c.bigint().range(0).nullable(),
    durationSeconds: c.real().range(0).nullable(),
    platform: c.text(50).nullable(),
    resolution: c.text(20).nullable(),
    codec: c.text(50).nullable(),
  },
  indexes: [
    ['status'],
    ['createdAt'],
    ['status', 'createdAt'],
    // Each status of a multi-status export query, newest first, ties by id (QueryPlansAtScale).
    ['status', 'createdAt', 'id'],
  ],
})

/** The definition of `export_history` the types use: the application's extension when it declares one (`AuraTableExtensions`). */
export type ExportHistoryTable = ResolvedTable<'export_history', typeof exportHistoryTable>

/**
 * A row of `export_history` as the repositories return it.
 * @interface
 */
export type ExportHistoryEntry = EntityOf<ExportHistoryTable>
/**
 * What `add` takes for a row of `export_history`: the required fields, and the optional ones.
 * @interface
 */
export type NewExportHistoryEntry = InsertOf<ExportHistoryTable>
/**
 * What `update` takes for a row of `export_history`: the key and `rowVersion`, and the fields to change.
 * @interface
 */
export type ExportHistoryEntryUpdate = UpdateOf<ExportHistoryTable>
