import { sql, type CompiledQuery, type RawBuilder } from 'kysely'
import type { ColumnKind } from '../../schema/define.js'
import type { WritableCte } from '../writable-cte.js'

/** PostgreSQL's data-modifying CTEs (see {@link WritableCte}). */
export const postgresWritableCte: WritableCte = {
  withInsertAudit(query, keyColumn, audit): CompiledQuery {
    // `WITH w AS (<query>), a AS (INSERT INTO audit_entries … SELECT … FROM w) SELECT * FROM w`:
    // the audit parameters are numbered after the query's own ($n placeholders).
    const n = query.parameters.length
    return {
      ...query,
      sql:
        `with "w" as (${query.sql}), "a" as (insert into "audit_entries" ("occurred_at", "actor", "table_name", "row_id", "action", "changes_json", "correlation_id") ` +
        `select $${n + 1}, $${n + 2}, $${n + 3}, cast("w"."${keyColumn}" as text), 'insert', null, $${n + 4} from "w") select * from "w"`,
      parameters: [...query.parameters, ...audit],
    }
  },

  differs(kind: ColumnKind, current: RawBuilder<unknown>, value: unknown): RawBuilder<boolean> {
    if (kind === 'timestamp')
      return sql<boolean>`date_trunc('milliseconds', ${current}) is distinct from ${value}`
    if (kind === 'uuid') return sql<boolean>`cast(${current} as text) is distinct from ${value}`
    return sql<boolean>`${current} is distinct from ${value}`
  },
}
