import { sql, type Compilable, type Kysely } from 'kysely'
import type { WritableCte } from '../dialect/writable-cte.js'
import type { TableDef } from '../schema/define.js'

/** What a read-and-update statement writes: the shape its SQL depends on. */
export interface ReadAndUpdateShape {
  readonly table: TableDef
  readonly keyColumn: string
  /** The columns the entity maps, in order. */
  readonly columnNames: readonly string[]
  /** The fields given to change. */
  readonly fields: readonly string[]
  /** The managed fields set with them (`updatedAt`, `modifiedBy`). */
  readonly managed: readonly string[]
  /** Whether the statement checks the row version it was given. */
  readonly versioned: boolean
}

/**
 * The statement of `updateIn` on a dialect with data-modifying CTEs, built with the query
 * cache's `v(i)` parameters (the fields' values, the managed ones', the key, the row version
 * when `versioned`, the soft-delete flag when the table has one): a CTE reads and locks the row
 * (`FOR UPDATE`), the UPDATE writes it only if it is still live, still has the row version and a
 * given field differs (as `cte.differs` compares), and the statement returns the row read
 * (`aura_row` 'old') and the row written ('new').
 */
export function readAndUpdateStatement(
  kysely: Kysely<any>,
  cte: WritableCte,
  shape: ReadAndUpdateShape,
  v: (i: number) => any,
): Compilable {
  const { table, keyColumn, fields, managed, versioned } = shape
  const name = table.name
  const columnsOf = (relation: string) => shape.columnNames.map((column) => `${relation}.${column}`)
  const at = fields.length + managed.length
  const current = (field: string) => sql.ref(`old.${table.columns[field]!.column}`)
  /** Whether the given value of field i differs from the row's, as `sameValue` compares them. */
  const differs = (i: number) => cte.differs(table.columns[fields[i]!]!.kind, current(fields[i]!), v(i))
  const set: Record<string, unknown> = {}
  fields.forEach((field, i) => {
    const column = table.columns[field]!.column
    // A timestamp equal to the millisecond is left as stored: PostgreSQL keeps microseconds,
    // which the Date value would drop.
    set[column] =
      table.columns[field]!.kind === 'timestamp'
        ? sql`case when ${differs(i)} then ${v(i)} else ${current(field)} end`
        : v(i)
  })
  managed.forEach((field, i) => (set[table.columns[field]!.column] = v(fields.length + i)))
  if (table.features.rowVersion) set.row_version = sql`${sql.ref(`${name}.row_version`)} + 1`
  return kysely
    .with('old', (db) => db.selectFrom(name).select(columnsOf(name)).where(keyColumn, '=', v(at)).forUpdate())
    .with('upd', (db) => {
      let q = db
        .updateTable(name)
        .set(set)
        .from('old')
        .whereRef(`${name}.${keyColumn}`, '=', `old.${keyColumn}`)
      if (versioned) q = q.where(`${name}.row_version`, '=', v(at + 1))
      if (table.features.softDelete) q = q.where(`${name}.is_deleted`, '=', v(at + (versioned ? 2 : 1)))
      return q
        .where(
          sql<boolean>`(${sql.join(
            fields.map((_, i) => differs(i)),
            sql` or `,
          )})`,
        )
        .returning(columnsOf(name))
    })
    .selectFrom('old')
    .select(sql.lit('old').as('aura_row'))
    .select(columnsOf('old'))
    .unionAll(kysely.selectFrom('upd').select(sql.lit('new').as('aura_row')).select(columnsOf('upd')))
}
