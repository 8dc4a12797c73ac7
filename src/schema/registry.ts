import { UsageError } from '../errors.js'
import { extensionBase, sameDefinition, type TableDef } from './define.js'
import { allTables } from './index.js'

/** The built-in definitions by table name. */
const BUILT_IN_TABLES: ReadonlyMap<string, TableDef> = new Map(
  allTables.map((table): [string, TableDef] => [table.name, table]),
)

/** The migration history's table: a definition of that name would let the repositories write it. */
const RESERVED_TABLES = new Set(['aura_migrations'])

/** The exported name of a built-in definition: `project_states` → `projectStatesTable`. */
function definitionName(table: string): string {
  return `${table.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase())}Table`
}

/**
 * Checks the definitions an application registers (`openDatabase({ tables })`, the `tables`
 * of its schema module for `aura-db`) and returns them by name. Each is an extension of a
 * built-in table, made by `extendTable` from the built-in definition (so a look-alike of the
 * same name cannot replace it), or a table of the application's own under a name no built-in
 * table has; one definition per name. A UsageError names the first offender; `where` says
 * where the list came from.
 */
export function registerTables(
  tables: readonly TableDef[] | undefined,
  where = 'openDatabase({ tables })',
): ReadonlyMap<string, TableDef> {
  const registered = new Map<string, TableDef>()
  if (tables === undefined) return registered
  if (!Array.isArray(tables))
    throw new UsageError(`${where}: \`tables\` must be an array of table definitions.`)
  tables.forEach((table: unknown, i) => {
    if (!isTableDef(table)) {
      throw new UsageError(
        `${where}: tables[${i}] is not a table definition; make it with defineTable or extendTable.`,
      )
    }
    const { name } = table
    if (registered.has(name)) {
      throw new UsageError(`${where}: the table ${name} is registered twice; pass one definition per table.`)
    }
    if (RESERVED_TABLES.has(name)) {
      throw new UsageError(`${where}: ${name} is the migration history's table, not one to define.`)
    }
    const builtIn = BUILT_IN_TABLES.get(name)
    if (builtIn && !sameDefinition(extensionBase(table), builtIn)) {
      throw new UsageError(
        `${where}: ${name} is a built-in table; register an extension of its definition ` +
          `(extendTable(${definitionName(name)}, { columns })) instead of a definition of your own.`,
      )
    }
    registered.set(name, table)
  })
  return registered
}

function isTableDef(value: unknown): value is TableDef {
  if (typeof value !== 'object' || value === null) return false
  const table = value as Partial<TableDef>
  return (
    typeof table.name === 'string' &&
    typeof table.primaryKey === 'string' &&
    Array.isArray(table.fields) &&
    typeof table.columns === 'object' &&
    table.byColumn instanceof Map
  )
}

/**
 * The whole schema with the application's definitions: the built-in tables in their order, an
 * extension in place of the table it extends, then the application's own tables in the order
 * given (so one that references another comes after it). What `aura-db check` and `add`
 * compare with the migrations.
 */
export function schemaTables(registered: ReadonlyMap<string, TableDef>): TableDef[] {
  return [
    ...allTables.map((table) => registered.get(table.name) ?? table),
    ...[...registered.values()].filter((table) => !BUILT_IN_TABLES.has(table.name)),
  ]
}
