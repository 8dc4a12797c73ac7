import { c, defineTable, type EntityOf, type InsertOf, type ResolvedTable, type UpdateOf } from './define.js'

/** `import`: one entry per import of the .NET app's database (`table_name` `*`, `row_id` the file's SHA-256). */
export const AUDIT_ACTIONS = ['insert', 'update', 'soft_delete', 'restore', 'purge', 'import'] as const

/**
 * `audit_entries`: the append-only "what changed" trail. The database assigns the ascending
 * `id`; the row has its own `occurredAt` and no standard audit columns (it would audit itself).
 */
export const auditEntriesTable = defineTable({
  name: 'audit_entries',
  primaryKey: 'id',
  keyGeneration: 'none',
  features: { audit: false, rowVersion: false, softDelete: false },
  columns: {
    id: c.bigint().identity(),
    occurredAt: c.timestamp(),
    actor: c.text(200).nullable(),
    tableName: c.text(100),
    rowId: c.text(200),
    action: c.text(20).oneOf(AUDIT_ACTIONS),
    changesJson: c.json().nullable(),
    correlationId: c.text(100).nullable(),
  },
  indexes: [['tableName', 'rowId'], ['occurredAt'], ['actor']],
})

/** The definition of `audit_entries` the types use: the application's extension when it declares one (`AuraTableExtensions`). */
export type AuditEntriesTable = ResolvedTable<'audit_entries', typeof auditEntriesTable>

/**
 * A row of `audit_entries` as the repositories return it.
 * @interface
 */
export type AuditEntry = EntityOf<AuditEntriesTable>
/**
 * What `add` takes for a row of `audit_entries`: the required fields, and the optional ones.
 * @interface
 */
export type NewAuditEntry = InsertOf<AuditEntriesTable>
/**
 * What `update` takes for a row of `audit_entries`: the key and `rowVersion`, and the fields to change.
 * @interface
 */
export type AuditEntryUpdate = UpdateOf<AuditEntriesTable>
