import { ConstraintError } from '../errors.js'
import type { TableDef } from '../schema/define.js'

/**
 * A foreign-key `ConstraintError` reworded to name the table a repository call wrote and the
 * references involved; any other error is returned as it is. The dialects cannot do this
 * themselves: SQLite reports only "FOREIGN KEY constraint failed", without the table or the
 * column, and only the repository knows which table its call wrote.
 *
 * A write (insert, update, restore) fails on a reference of its own table to a missing row; a
 * hard delete fails because rows of another table still refer to the deleted row.
 */
export function nameForeignKeyFailure(
  table: TableDef,
  operation: 'write' | 'delete',
  error: unknown,
): unknown {
  if (!(error instanceof ConstraintError) || error.constraint !== 'foreign_key') return error
  const cause = error.cause ?? error
  if (operation === 'delete') {
    return new ConstraintError(
      `${table.name}: the row cannot be deleted while rows of another table still refer to it (foreign key); delete those first.`,
      'foreign_key',
      { cause },
    )
  }
  const references = Object.entries(table.columns).flatMap(([field, spec]) =>
    spec.references ? [`${field} → ${spec.references.table}.${spec.references.column}`] : [],
  )
  const which =
    references.length === 1
      ? `${references[0]} names a row that does not exist`
      : `one of its references (${references.join(', ')}) names a row that does not exist`
  return new ConstraintError(`${table.name}: ${which} (foreign key); nothing was written.`, 'foreign_key', {
    cause,
  })
}
