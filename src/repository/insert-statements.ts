import { sql, type Compilable, type Kysely } from 'kysely'
import type { DialectSql } from '../dialect/index.js'
import type { TableDef } from '../schema/define.js'
import type { ProjectOwnership } from '../schema/project-ownership.js'
import type { InsertPlan } from './insert-plan.js'

/*
 * The insert statements of a repository, built with the query cache's `v(i)` parameters in the
 * order of `insertParams` (row after row for several rows), each returning `columnNames`.
 */

/** `INSERT … VALUES (<the plan's values>) RETURNING …` of one row. */
export function insertRow(
  db: Kysely<any>,
  table: TableDef,
  plan: InsertPlan,
  columnNames: readonly string[],
  v: (i: number) => any,
): Compilable {
  return db
    .insertInto(table.name)
    .values(Object.fromEntries(plan.fields.map((field, i) => [table.columns[field]!.column, v(i)])))
    .returning(columnNames)
}

/**
 * The insert of a row that belongs to a project, refused in the same statement when the project
 * is soft-deleted: `INSERT … SELECT <values> WHERE NOT EXISTS (<the project, deleted>)`. No row
 * back means the project is soft-deleted (its children are invisible, so adding one would
 * succeed and vanish); a missing project still fails on the foreign key (ConstraintError). One
 * statement, so the hot path costs no extra round trip or point read. The two parameters after
 * the row's are the project id and the deleted flag.
 */
export function insertRowUnderLiveProject(
  db: Kysely<any>,
  table: TableDef,
  plan: InsertPlan,
  columnNames: readonly string[],
  v: (i: number) => any,
): Compilable {
  const n = plan.fields.length
  return db
    .insertInto(table.name)
    .columns(plan.fields.map((field) => table.columns[field]!.column))
    .expression(
      sql`select ${sql.join(plan.fields.map((_, i) => v(i)))} where not exists (select 1 from project_states where id = ${v(n)} and is_deleted = ${v(n + 1)})`,
    )
    .returning(columnNames)
}

/**
 * The multi-row insert of `rowCount` rows of one plan. Where the rows belong to a project
 * (`owner`), as {@link insertRowUnderLiveProject} for each row, the deleted flag the parameter
 * after the rows': a row whose project is soft-deleted is not inserted.
 */
export function insertRows(
  db: Kysely<any>,
  dialect: DialectSql,
  table: TableDef,
  plan: InsertPlan,
  rowCount: number,
  owner: ProjectOwnership | null,
  columnNames: readonly string[],
  v: (i: number) => any,
): Compilable {
  const width = plan.fields.length
  const columns = plan.fields.map((field) => table.columns[field]!.column)
  const rows = Array.from({ length: rowCount }, (_, r) => r)
  const insert = db.insertInto(table.name)
  if (!owner) {
    return insert
      .values(rows.map((r) => Object.fromEntries(columns.map((column, i) => [column, v(r * width + i)]))))
      .returning(columnNames)
  }
  // The values of a VALUES list in a subquery take no type from the target columns, so each is
  // cast to its column's type (never to varchar(n), which would truncate).
  const tuples = rows.map(
    (r) =>
      sql`(${sql.join(plan.kinds.map((kind, i) => sql`cast(${v(r * width + i)} as ${sql.raw(dialect.columnType(kind))})`))})`,
  )
  return insert
    .columns(columns)
    .expression(
      sql`select * from (values ${sql.join(tuples)}) as "v"(${sql.join(columns.map((c) => sql.id(c)))}) where not exists (select 1 from project_states where id = ${sql.ref(`v.${owner.column}`)} and is_deleted = ${v(rowCount * width)})`,
    )
    .returning(columnNames)
}
