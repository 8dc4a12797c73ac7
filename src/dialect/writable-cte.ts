import type { CompiledQuery, RawBuilder } from 'kysely'
import type { ColumnKind } from '../schema/define.js'

/**
 * The SQL of a database whose statements can write in their WITH clause (PostgreSQL's
 * data-modifying CTEs): a row and its audit entries, or an update and the read of the row it
 * replaces, go in one statement, one round trip. SQLite allows only SELECT there (and a
 * statement is a function call there anyway): its dialect has none.
 */
export interface WritableCte {
  /**
   * `query`, an `INSERT … RETURNING`, with the `insert` audit entry of every row it returns
   * written by the same statement. `audit` fills occurred_at, actor, table_name and
   * correlation_id (the parameters after the query's); each entry holds the key as text and no
   * changes. A row the statement did not insert gets none.
   */
  withInsertAudit(
    query: CompiledQuery,
    keyColumn: string,
    audit: readonly [unknown, unknown, unknown, unknown],
  ): CompiledQuery
  /**
   * Whether `value`, an entity value of `kind` given as a parameter, differs from the stored
   * `current`, compared as the repositories compare entity values: timestamps to the millisecond
   * (the database may keep microseconds, which a Date drops), UUIDs as text.
   */
  differs(kind: ColumnKind, current: RawBuilder<unknown>, value: unknown): RawBuilder<boolean>
}
