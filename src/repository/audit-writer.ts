import type { CompiledQuery } from 'kysely'
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
 * `query` (an INSERT or UPDATE … RETURNING * of `table`) with the audit entry of each row it
 * returns written by the same statement, in a data-modifying CTE (dialects with
 * `capabilities.writableCte`): `WITH w AS (<query>), a AS (INSERT INTO audit_entries … SELECT
 * … FROM w) SELECT * FROM w`. The entry holds what {@link writeAudit} would write, the row id
 * as text. A row the statement did not write (no row back) gets no entry.
 */
export function withAudit(
  session: Session,
  tx: TxContext,
  table: string,
  keyColumn: string,
  query: CompiledQuery,
  action: 'insert' | 'update',
  changes: AuditChanges | null,
): CompiledQuery {
  const n = query.parameters.length
  const sql =
    `with w as (${query.sql}), a as (insert into "audit_entries" ("occurred_at", "actor", "table_name", "row_id", "action", "changes_json", "correlation_id") ` +
    `select $${n + 1}, $${n + 2}, $${n + 3}, cast(w."${keyColumn}" as text), $${n + 4}, $${n + 5}, $${n + 6} from w) select * from w`
  return {
    ...query,
    sql,
    parameters: [
      ...query.parameters,
      session.dialect.encode('timestamp', tx.now),
      tx.actor,
      table,
      action,
      changesJsonOf(changes),
      tx.correlationId,
    ],
  }
}

export async function writeAudit(
  session: Session,
  tx: TxContext,
  table: string,
  rowId: string,
  action: 'insert' | 'update' | 'soft_delete' | 'restore' | 'purge',
  changes: AuditChanges | null,
): Promise<void> {
  const changesJson = changesJsonOf(changes)
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
