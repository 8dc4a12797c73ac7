import { txRows, type Session, type TxContext } from './session.js'

/** `{ field: [old, new] }` of an update. */
export type AuditChanges = Record<string, [unknown, unknown]>

/** What an audit entry records of a value: JSON-able, dates as ISO text. */
function auditValue(value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : value
}

/**
 * Appends one `audit_entries` row in the caller's transaction: who (the unit's actor), when (the
 * unit's clock reading), which row, what happened, and for updates the changed fields.
 */
export async function writeAudit(
  session: Session,
  tx: TxContext,
  table: string,
  rowId: string,
  action: 'insert' | 'update' | 'soft_delete' | 'restore' | 'purge',
  changes: AuditChanges | null,
): Promise<void> {
  const changesJson =
    changes === null
      ? null
      : JSON.stringify(
          Object.fromEntries(
            Object.entries(changes).map(([field, [from, to]]) => [field, [auditValue(from), auditValue(to)]]),
          ),
        )
  const params = [
    session.dialect.encode('timestamp', tx.now),
    tx.actor,
    table,
    rowId,
    action,
    changesJson,
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
  await txRows(tx, query)
}
