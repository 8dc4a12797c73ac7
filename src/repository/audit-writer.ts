import type { Session, TxContext } from './session.js'

/** `{ field: [old, new] }` of an update. */
export type AuditChanges = Record<string, [unknown, unknown]>

/** What an audit entry records of a value: JSON-able, dates as ISO text. */
function auditValue(value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : value
}

/** The `changes_json` of an entry: `{ field: [old, new] }` as JSON, or null. */
function changesJsonOf(changes: AuditChanges | null): string | null {
  return changes === null
    ? null
    : JSON.stringify(
        Object.fromEntries(
          Object.entries(changes).map(([field, [from, to]]) => [field, [auditValue(from), auditValue(to)]]),
        ),
      )
}

/**
 * Appends one `audit_entries` row in the caller's transaction: who (the unit's actor), when (the
 * unit's clock reading), which row, what happened, and for updates the changed fields. Nothing
 * reads its result, so it is deferred (`AuraTransaction.defer`): on PostgreSQL it travels with
 * the transaction's next statement or its COMMIT instead of costing a round trip of its own.
 */
export async function writeAudit(
  session: Session,
  tx: TxContext,
  table: string,
  rowId: string,
  action: 'insert' | 'update' | 'soft_delete' | 'restore' | 'purge',
  changes: AuditChanges | null,
): Promise<void> {
  const params = [
    session.dialect.encode('timestamp', tx.now),
    tx.actor,
    table,
    rowId,
    action,
    changesJsonOf(changes),
    tx.correlationId,
  ]
  const query = session.cache.compile('audit_entries:append', params, (v) =>
    tx.db.insertInto('audit_entries').values({
      occurred_at: v(0),
      actor: v(1),
      table_name: v(2),
      row_id: v(3),
      action: v(4),
      changes_json: v(5),
      correlation_id: v(6),
    }),
  )
  await tx.conn.defer(query)
}
