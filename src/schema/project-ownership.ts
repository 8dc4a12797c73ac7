import type { TableDef } from './define.js'

/** The field (and column) by which a table's rows belong to a project. */
export interface ProjectOwnership {
  readonly field: string
  readonly column: string
}

const owners = new WeakMap<TableDef, ProjectOwnership | null>()

/**
 * How rows of `table` belong to a project, read from its foreign keys: a required column that
 * references `project_states.id` with `on delete cascade` (the rows live and die with their
 * project: scenes, assets, checkpoints, versions, and an application's tables declared the same
 * way). Null for every other table. Such rows are invisible while their project is soft-deleted,
 * and none can be added to a soft-deleted project.
 */
export function projectOwnershipOf(table: TableDef): ProjectOwnership | null {
  let owner = owners.get(table)
  if (owner === undefined) {
    owner = null
    if (table.name !== 'project_states') {
      for (const field of table.fields) {
        const spec = table.columns[field]!
        const ref = spec.references
        if (
          ref?.table === 'project_states' &&
          ref.column === 'id' &&
          ref.onDelete === 'cascade' &&
          !spec.nullable
        ) {
          owner = { field, column: spec.column }
          break
        }
      }
    }
    owners.set(table, owner)
  }
  return owner
}
