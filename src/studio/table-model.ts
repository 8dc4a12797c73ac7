import { builtInRepositoryName } from '../repository/repositories.js'
import type { ReadRepository } from '../repository/read-repository.js'
import { Repository } from '../repository/repository.js'
import { SoftDeleteRepository } from '../repository/soft-delete-repository.js'
import { NotFoundError, ValidationError } from '../errors.js'
import { allTables } from '../schema/index.js'
import type { ColumnSpec, TableDef } from '../schema/define.js'
import type { StudioContext } from './routes.js'

/** A generic repository as the table browser uses it: reads, and writes where the table has them. */
type AnyRead = ReadRepository<TableDef, Record<string, unknown>>

/** One table as the studio browses it: the definition the library uses, and its repository. */
export interface BrowsedTable {
  readonly def: TableDef
  readonly repository: AnyRead
  /** Where it comes from: a built-in table, one the application extended, or the application's own. */
  readonly origin: 'built-in' | 'extended' | 'application'
}

const BUILT_IN: ReadonlyMap<string, TableDef> = new Map(allTables.map((t): [string, TableDef] => [t.name, t]))

/**
 * Tables with a page of their own instead of the generic browser: a configuration value may be
 * a secret, which the repository would decrypt; /configuration never reads it.
 */
export const OWN_PAGES: Readonly<Record<string, string>> = { configurations: '/configuration' }

/**
 * Every table of the database's schema model (`db.schemaTables()`: the built-in tables, the
 * application's extensions in their place, its own `defineTable` tables), each with the
 * repository the library reads and writes it through. Nothing is taken from the request.
 */
export function browsedTables(ctx: StudioContext): BrowsedTable[] {
  return ctx.db.schemaTables().map((def): BrowsedTable => {
    const name = builtInRepositoryName(def.name)
    if (name === undefined) {
      return { def, repository: ctx.db.table(def) as unknown as AnyRead, origin: 'application' }
    }
    return {
      def,
      repository: ctx.db[name] as unknown as AnyRead,
      origin: def === BUILT_IN.get(def.name) ? 'built-in' : 'extended',
    }
  })
}

/** The table called `name` (a path parameter), or a NotFoundError listing none of the request. */
export function browsedTable(ctx: StudioContext, name: string): BrowsedTable {
  const found = browsedTables(ctx).find((t) => t.def.name === name)
  if (!found) throw new NotFoundError('tables', name)
  return found
}

/**
 * The property `name` of `def` when it is one of its fields; else a ValidationError that names
 * the fields there are. A request's column name is only ever compared with the definition's.
 */
export function checkedField(def: TableDef, name: string, what: string): string {
  if (def.fields.includes(name)) return name
  throw new ValidationError(
    `${what}: ${def.name} has no column "${name}". Its columns: ${def.fields.join(', ')}.`,
    name,
  )
}

/** Whether the table's rows can be edited here: through `update`, with a row version to detect a stale edit. */
export function editable(table: BrowsedTable): boolean {
  return table.repository instanceof Repository && table.def.features.rowVersion && !OWN_PAGES[table.def.name]
}

/** Whether soft-deleted rows can be restored here. */
export function restorable(table: BrowsedTable): boolean {
  return table.repository instanceof SoftDeleteRepository
}

/** The fields a user may change: not the key, not library-managed, not sensitive. */
export function editableFields(def: TableDef): string[] {
  return def.fields.filter((field) => {
    const spec = def.columns[field]!
    return field !== def.primaryKey && !spec.managed && !spec.sensitive
  })
}

const TRUE = new Set(['true', 'yes', '1'])
const FALSE = new Set(['false', 'no', '0'])

/**
 * A value typed in a form or a query string as the column's kind takes it: numbers, booleans
 * (`true`/`false`), timestamps (ISO 8601) and text. Empty text is null where the column is
 * nullable. The library validates the result again (ranges, lengths, enumerations).
 */
export function parseValue(def: TableDef, field: string, text: string): unknown {
  const spec: ColumnSpec = def.columns[field]!
  if (text === '' && spec.nullable) return null
  const refuse = (expected: string) =>
    new ValidationError(`${def.name}.${field}: "${text.slice(0, 80)}" is not ${expected}`, field)
  switch (spec.kind) {
    case 'int':
    case 'bigint':
    case 'real': {
      const n = Number(text)
      if (text.trim() === '' || !Number.isFinite(n)) throw refuse('a number')
      return n
    }
    case 'bool':
      if (TRUE.has(text.toLowerCase())) return true
      if (FALSE.has(text.toLowerCase())) return false
      throw refuse('true or false')
    case 'timestamp': {
      const date = new Date(text)
      if (Number.isNaN(date.getTime())) throw refuse('a date and time (ISO 8601, e.g. 2026-01-31T12:00:00Z)')
      return date
    }
    default:
      return text
  }
}

/** A stored value as a form or a link spells it (the inverse of {@link parseValue}). */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (value instanceof Date) return value.toISOString()
  return String(value)
}

/** The key of a row from its URL segment, typed as the primary key's column. */
export function parseKey(def: TableDef, segment: string): unknown {
  let text: string
  try {
    text = decodeURIComponent(segment)
  } catch {
    throw new ValidationError(`${def.name}: the row key in the address is not valid`, def.primaryKey)
  }
  return parseValue(def, def.primaryKey, text)
}

/** The studio address of a row. */
export function rowHref(table: string, key: unknown): string {
  return `/tables/${table}/rows/${encodeURIComponent(formatValue(key))}`
}
