/**
 * The table-definition language: one place that knows, for every column of every table, its
 * logical type, limits and enumerations. Everything that is generic over tables reads it:
 * validation (before any SQL), the snake_case ↔ camelCase mapping, value conversion per
 * dialect (timestamps, booleans) and the checked `where`/`orderBy` filter language.
 *
 * It also states the physical schema (defaults, CHECKs, indexes, foreign keys) completely
 * enough that `aura-db check` compares it with what the migrations produce and `aura-db add`
 * generates the migration for a difference (src/migration/schema-model.ts, src/migration/generate.ts).
 * The migrations do NOT read it: they are frozen in time (see docs/migrations.md,
 * "How the engine works"); a generated migration holds literal schema-builder calls.
 */

import { UsageError } from '../errors.js'

/** The logical column types; each dialect maps them to its physical types (see docs/schema.md). */
export type ColumnKind = 'uuid' | 'text' | 'json' | 'int' | 'bigint' | 'real' | 'bool' | 'timestamp'

/**
 * A column default: a literal, or one of the two database functions the schema uses (the
 * current time, a random version-4 UUID), spelled per dialect by the generator.
 */
export type DefaultValue = string | number | boolean | { readonly fn: 'now' | 'uuid' }

/** The current time as a column default. */
export const NOW: DefaultValue = { fn: 'now' }
/** A random version-4 UUID as a column default. */
export const NEW_UUID: DefaultValue = { fn: 'uuid' }

/** A foreign key on one column. */
export interface ReferenceSpec {
  readonly table: string
  readonly column: string
  readonly onDelete: 'cascade' | 'no action'
}

/** Runtime description of one column. */
export interface ColumnSpec {
  readonly kind: ColumnKind
  /** Physical snake_case name; filled in by {@link defineTable}. */
  readonly column: string
  readonly nullable: boolean
  /** The database supplies a value when the caller gives none. */
  readonly hasDefault: boolean
  /** The value the database supplies (absent for an identity column). */
  readonly defaultValue?: DefaultValue
  /** The database numbers the rows itself (SQLite AUTOINCREMENT, PostgreSQL identity). */
  readonly identity?: boolean
  readonly references?: ReferenceSpec
  /** Maximum length in characters (`text(n)`). */
  readonly maxLength?: number
  readonly enumValues?: readonly string[]
  readonly min?: number
  readonly max?: number
  /** Required strings must contain a non-whitespace character. */
  readonly notBlank?: boolean
  /** Filled by the library (audit, row version, soft delete): a caller's value is ignored. */
  readonly managed?: boolean
  /** Holds data that must never be printed (redacted in audit entries). */
  readonly sensitive?: boolean
}

type KindType = {
  uuid: string
  text: string
  json: string
  int: number
  bigint: number
  real: number
  bool: boolean
  timestamp: Date
}

/** A column under construction; the type parameters carry its TypeScript type to the entity types. */
export class Col<T, N extends boolean = false, D extends boolean = false, M extends boolean = false> {
  declare readonly _type: T
  declare readonly _nullable: N
  declare readonly _default: D
  declare readonly _managed: M

  constructor(readonly spec: Omit<ColumnSpec, 'column'>) {}

  /** The column accepts NULL (and may be omitted on insert). */
  nullable(): Col<T, true, D, M> {
    return new Col({ ...this.spec, nullable: true })
  }
  /** The database has this default: the column may be omitted on insert. */
  withDefault(value: DefaultValue): Col<T, N, true, M> {
    return new Col({ ...this.spec, hasDefault: true, defaultValue: value })
  }
  /** The database numbers the rows in insertion order; never reused. */
  identity(): Col<T, N, true, M> {
    return new Col({ ...this.spec, hasDefault: true, identity: true })
  }
  /** A foreign key to `table.column`. */
  references(
    table: string,
    column: string,
    onDelete: ReferenceSpec['onDelete'] = 'no action',
  ): Col<T, N, D, M> {
    return new Col({ ...this.spec, references: { table, column, onDelete } })
  }
  /** Only these values are legal (validated, and a CHECK constraint in the migration). */
  oneOf<const E extends string>(values: readonly E[]): Col<E, N, D, M> {
    return new Col({ ...this.spec, enumValues: values })
  }
  /** Inclusive numeric range. */
  range(min: number, max?: number): Col<T, N, D, M> {
    return new Col({ ...this.spec, min, ...(max === undefined ? {} : { max }) })
  }
  notBlank(): Col<T, N, D, M> {
    return new Col({ ...this.spec, notBlank: true })
  }
  /** Filled by the library, never by the caller; `value` is the database default, if any. */
  managed(value?: DefaultValue): Col<T, N, true, true> {
    return new Col({
      ...this.spec,
      managed: true,
      hasDefault: true,
      ...(value === undefined ? {} : { defaultValue: value }),
    })
  }
}

const make = <K extends ColumnKind>(kind: K, maxLength?: number) =>
  new Col<KindType[K]>({ kind, nullable: false, hasDefault: false, ...(maxLength ? { maxLength } : {}) })

/** Column constructors, one per logical type ({@link ColumnKind}). */
export const c = {
  uuid: () => make('uuid'),
  text: (maxLength?: number) => make('text', maxLength),
  json: () => make('json'),
  int: () => make('int'),
  bigint: () => make('bigint'),
  real: () => make('real'),
  bool: () => make('bool'),
  timestamp: () => make('timestamp'),
}

/** Which standard column groups a table carries (audit: `createdAt`, `updatedAt`, `createdBy`, `modifiedBy`; `rowVersion`; soft delete: `isDeleted`, `deletedAt`, `deletedBy`). */
export interface TableFeatures {
  /** created_at, updated_at (+ created_by, modified_by unless `'timestamps'`). */
  readonly audit: boolean | 'timestamps'
  readonly rowVersion: boolean
  readonly softDelete: boolean
}

type AnyCol = Col<any, boolean, boolean, boolean>
type Columns = Record<string, AnyCol>

const auditColumns = {
  createdAt: c.timestamp().managed(NOW),
  updatedAt: c.timestamp().managed(NOW),
  createdBy: c.text(200).nullable().managed(),
  modifiedBy: c.text(200).nullable().managed(),
}
const timestampColumns = { createdAt: auditColumns.createdAt, updatedAt: auditColumns.updatedAt }
const rowVersionColumns = { rowVersion: c.int().managed(1) }
const softDeleteColumns = {
  isDeleted: c.bool().managed(false),
  deletedAt: c.timestamp().nullable().managed(),
  deletedBy: c.text(200).nullable().managed(),
}

type WithFeatures<C extends Columns, F extends TableFeatures> = C &
  (F['audit'] extends true ? typeof auditColumns : unknown) &
  (F['audit'] extends 'timestamps' ? typeof timestampColumns : unknown) &
  (F['rowVersion'] extends true ? typeof rowVersionColumns : unknown) &
  (F['softDelete'] extends true ? typeof softDeleteColumns : unknown)

/**
 * An index as written in a definition: its columns (property names, `'updatedAt desc'` for a
 * descending one), unique or not, and `live` for a partial index over the rows that are not
 * soft-deleted (`is_deleted` false). Named `ux_`/`ix_` + table (+ `_live`) + columns unless `name`.
 */
export type IndexInput<F extends string = string> =
  | readonly (F | `${F} desc`)[]
  | {
      readonly columns: readonly (F | `${F} desc`)[]
      readonly unique?: boolean
      readonly live?: boolean
      readonly name?: string
    }

/** An index of a finished definition, in physical names. */
export interface IndexSpec {
  readonly name: string
  /** Physical column names, each optionally followed by ` desc`. */
  readonly columns: readonly string[]
  readonly unique: boolean
  readonly live: boolean
}

/** A table-level CHECK constraint: `ck_<table>_<name>`, an SQL expression valid on both dialects. */
export interface CheckSpec {
  readonly name: string
  readonly expression: string
}

/** A finished table definition. */
export interface TableDef<C extends Columns = Columns, PK extends string = string> {
  /** Physical table name. */
  readonly name: string
  /** Property name of the primary key. */
  readonly primaryKey: PK
  /** How a missing primary key is filled on insert: a random UUID, or the caller must give it. */
  readonly keyGeneration: 'uuid' | 'none'
  readonly features: TableFeatures
  readonly columns: { readonly [K in keyof C]: ColumnSpec }
  /** Property names in declaration order. */
  readonly fields: readonly (keyof C & string)[]
  /** physical column → property. */
  readonly byColumn: ReadonlyMap<string, keyof C & string>
  readonly indexes: readonly IndexSpec[]
  readonly checks: readonly CheckSpec[]
  /**
   * Full-text search over these physical columns, kept by the database outside the table's
   * own definition (SQLite FTS5 table and triggers, PostgreSQL GIN expression index
   * `ix_<table>_search`); created by a hand-written migration, recognised by `check`.
   */
  readonly fullTextSearch?: readonly string[]
  /** Phantom: the column builders, for the entity types below. */
  readonly _columns?: C
}

export function camelToSnake(name: string): string {
  return name.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`)
}

/**
 * Defines a table. The standard audit / row-version / soft-delete columns are appended from
 * `features`, so every table spells them identically.
 */
export function defineTable<
  C extends Columns,
  PK extends keyof C & string,
  const F extends TableFeatures,
>(def: {
  name: string
  primaryKey: PK
  keyGeneration: 'uuid' | 'none'
  features: F
  columns: C
  indexes?: readonly IndexInput<keyof WithFeatures<C, F> & string>[]
  /** Table-level CHECKs beyond the per-column ones: name suffix → SQL expression. */
  checks?: Readonly<Record<string, string>>
  fullTextSearch?: readonly (keyof C & string)[]
}): TableDef<WithFeatures<C, F>, PK> {
  const all: Columns = { ...def.columns }
  if (def.features.audit === true) Object.assign(all, auditColumns)
  if (def.features.audit === 'timestamps') Object.assign(all, timestampColumns)
  if (def.features.rowVersion) Object.assign(all, rowVersionColumns)
  if (def.features.softDelete) Object.assign(all, softDeleteColumns)
  const columns: Record<string, ColumnSpec> = {}
  const byColumn = new Map<string, string>()
  addColumns(def.name, columns, byColumn, all)
  const indexes = buildIndexes(def.name, columns, def.indexes ?? [])
  const checks = Object.entries(def.checks ?? {}).map(([name, expression]) => ({ name, expression }))
  for (const check of checks) assertCheckNameFree(def.name, byColumn, check.name)
  return {
    name: def.name,
    primaryKey: def.primaryKey,
    keyGeneration: def.keyGeneration,
    features: def.features,
    columns: columns as TableDef<WithFeatures<C, F>, PK>['columns'],
    fields: Object.keys(columns) as (keyof WithFeatures<C, F> & string)[],
    byColumn: byColumn as ReadonlyMap<string, keyof WithFeatures<C, F> & string>,
    indexes,
    checks,
    ...(def.fullTextSearch ? { fullTextSearch: def.fullTextSearch.map((p) => columns[p]!.column) } : {}),
  }
}

/**
 * Refuses a table-level CHECK named like a column: both are created as `ck_<table>_<name>`, so
 * the CHECK a column's rule carries (`oneOf`, `range`, a boolean) and this one would share a
 * name, which PostgreSQL refuses when the migration runs and SQLite silently allows.
 */
function assertCheckNameFree(table: string, byColumn: ReadonlyMap<string, string>, name: string): void {
  if (byColumn.has(name)) {
    throw new UsageError(
      `${table}: the CHECK ${name} would be named ck_${table}_${name}, like the CHECKs of the column ${name}; give it another name.`,
    )
  }
}

/**
 * Adds the specs of `cols` to `columns` and `byColumn` under their snake_case names. Two
 * properties with one physical name (`jobId` and `job_id`) would read and write the same
 * column under two names: refused.
 */
function addColumns(
  table: string,
  columns: Record<string, ColumnSpec>,
  byColumn: Map<string, string>,
  cols: Columns,
): void {
  for (const [prop, col] of Object.entries(cols)) {
    const column = camelToSnake(prop)
    const clash = byColumn.get(column)
    if (clash !== undefined) {
      throw new UsageError(
        `${table}: the fields ${clash} and ${prop} are both stored in the column ${column}; rename one of them.`,
      )
    }
    columns[prop] = { ...col.spec, column }
    byColumn.set(column, prop)
  }
}

/** The finished indexes of a table whose columns are `columns`. */
function buildIndexes(
  table: string,
  columns: Readonly<Record<string, ColumnSpec>>,
  inputs: readonly IndexInput[],
): IndexSpec[] {
  const physical = (name: string): string => {
    const [prop, order] = name.split(' ') as [string, string | undefined]
    const spec = columns[prop]
    if (!spec) throw new UsageError(`Index of ${table} names ${prop}, which is not a column of the table.`)
    return order ? `${spec.column} ${order}` : spec.column
  }
  return inputs.map((input): IndexSpec => {
    const spec = 'columns' in input ? input : { columns: input as readonly string[] }
    const physicalColumns = spec.columns.map(physical)
    const unique = 'unique' in spec && spec.unique === true
    const live = 'live' in spec && spec.live === true
    const generated = [
      unique ? 'ux' : 'ix',
      table,
      ...(live ? ['live'] : []),
      ...physicalColumns.map((col) => col.split(' ')[0]!),
    ].join('_')
    return { name: ('name' in spec && spec.name) || generated, columns: physicalColumns, unique, live }
  })
}

/**
 * The non-enumerable property of an {@link extendTable} result that holds the definition it
 * extends. A registered symbol, not a module's own state: the application may load this
 * package twice (its ESM and CJS builds, or through tsx for a TypeScript schema module) and
 * still has to be recognised as extending the built-in table.
 */
const EXTENDS = Symbol.for('aura-data.extends')

/**
 * The definition `table` was made from by {@link extendTable} (following extensions of
 * extensions to the first one), or `table` itself when it is no extension.
 */
export function extensionBase(table: TableDef): TableDef {
  let base = table
  for (let next = baseOf(base); next; next = baseOf(base)) base = next
  return base
}

function baseOf(table: TableDef): TableDef | undefined {
  return (table as unknown as { [EXTENDS]?: TableDef })[EXTENDS]
}

/**
 * Whether two definitions describe the same table (name, key, features, columns, indexes,
 * CHECKs): the same built-in definition loaded by two copies of the package.
 */
export function sameDefinition(a: TableDef, b: TableDef): boolean {
  if (a === b) return true
  const shape = (t: TableDef) =>
    JSON.stringify([
      t.name,
      t.primaryKey,
      t.keyGeneration,
      t.features,
      t.columns,
      t.fields,
      t.indexes,
      t.checks,
    ])
  return shape(a) === shape(b)
}

/**
 * The definition of a table an application extends with its own columns (added by its own
 * migration), indexes and CHECKs: the same name, primary key and features as `base`, then the
 * new columns after the base's. Register it with `openDatabase({ tables })` so the repositories
 * read, write, validate, filter and audit the new fields; declare it in
 * {@link AuraTableExtensions} so the entity types have them (docs/migrations.md, "Your
 * application's own migrations and columns").
 *
 * The table already has rows when the column is added, so a new column must be nullable or
 * have a default; it cannot be library-managed or an identity. A name the base already has,
 * as a field or as a physical column, is refused.
 *
 * @example
 * export const projectStates = extendTable(projectStatesTable, {
 *   columns: { clientRef: c.text(100).nullable() },
 *   indexes: [['clientRef']],
 * })
 */
export function extendTable<B extends TableDef, X extends Columns>(
  base: B,
  extension: {
    columns: X
    indexes?: readonly IndexInput<(keyof ColsOf<B> | keyof X) & string>[]
    /** Table-level CHECKs: name suffix → SQL expression. */
    checks?: Readonly<Record<string, string>>
  },
): TableDef<ColsOf<B> & X, B['primaryKey']> {
  const columns: Record<string, ColumnSpec> = { ...base.columns }
  const byColumn = new Map<string, string>(base.byColumn)
  for (const [prop, col] of Object.entries(extension.columns)) {
    if (prop in columns) {
      throw new UsageError(`${base.name} already has the field ${prop}; an extension adds new fields only.`)
    }
    const { spec } = col
    if (spec.managed || spec.identity) {
      throw new UsageError(
        `${base.name}.${prop}: an extension column cannot be ${spec.identity ? 'an identity' : 'library-managed'}; only the built-in audit, row-version and soft-delete columns are.`,
      )
    }
    if (!spec.nullable && !spec.hasDefault) {
      throw new UsageError(
        `${base.name}.${prop} must be nullable or have a default: the table already has rows, which the migration adding the column must fill with something.`,
      )
    }
  }
  addColumns(base.name, columns, byColumn, extension.columns)
  const checks = [...base.checks]
  for (const [name, expression] of Object.entries(extension.checks ?? {})) {
    if (checks.some((check) => check.name === name)) {
      throw new UsageError(`${base.name} already has the CHECK ${name}; give the extension's another name.`)
    }
    assertCheckNameFree(base.name, byColumn, name)
    checks.push({ name, expression })
  }
  const indexes = [...base.indexes]
  for (const index of buildIndexes(base.name, columns, extension.indexes ?? [])) {
    if (indexes.some((other) => other.name === index.name)) {
      throw new UsageError(`${base.name} already has the index ${index.name}.`)
    }
    indexes.push(index)
  }
  type Result = TableDef<ColsOf<B> & X, B['primaryKey']>
  const table: Result = {
    name: base.name,
    primaryKey: base.primaryKey,
    keyGeneration: base.keyGeneration,
    features: base.features,
    columns: columns as Result['columns'],
    fields: Object.keys(columns) as Result['fields'],
    byColumn: byColumn as Result['byColumn'],
    indexes,
    checks,
    ...(base.fullTextSearch ? { fullTextSearch: base.fullTextSearch } : {}),
  }
  Object.defineProperty(table, EXTENDS, { value: base, enumerable: false })
  return table
}

/** The column builders of a definition. */
export type ColsOf<T> = T extends TableDef<infer C, string> ? C : never
type ValueOf<X> = X extends Col<infer T, infer N, boolean, boolean> ? (N extends true ? T | null : T) : never
type IsOptional<X> =
  X extends Col<any, infer N, infer D, boolean>
    ? N extends true
      ? true
      : D extends true
        ? true
        : false
    : false
type IsManaged<X> = X extends Col<any, boolean, boolean, infer M> ? M : false

/** The entity as read from the database: camelCase, `Date` timestamps, booleans. */
export type EntityOf<T> = { -readonly [K in keyof ColsOf<T>]: ValueOf<ColsOf<T>[K]> }

/** What `add` accepts: required fields are those without a default; library-managed fields are excluded. */
export type InsertOf<T> = {
  [
    K in keyof ColsOf<T> as IsManaged<ColsOf<T>[K]> extends true
      ? never
      : IsOptional<ColsOf<T>[K]> extends true
        ? never
        : K
  ]: ValueOf<ColsOf<T>[K]>
} & {
  [
    K in keyof ColsOf<T> as IsManaged<ColsOf<T>[K]> extends true
      ? never
      : IsOptional<ColsOf<T>[K]> extends true
        ? K
        : never
  ]?: ValueOf<ColsOf<T>[K]>
}

/** What `update` accepts: the key, the row version read (when the table has one) and any changed fields. */
export type UpdateOf<T> = {
  [K in keyof ColsOf<T> as IsManaged<ColsOf<T>[K]> extends true ? never : K]?: ValueOf<ColsOf<T>[K]>
} & (T extends TableDef<any, infer PK> ? { [K in PK]: EntityOf<T>[K] } : never) &
  ('rowVersion' extends keyof ColsOf<T> ? { rowVersion: number } : unknown)

/**
 * The definitions an application registered in place of built-in ones, by table name, for the
 * entity and repository types. Empty in the library; an application that extends a built-in
 * table declares its definition here (module augmentation) and registers the same definition
 * with `openDatabase({ tables })`, which makes the types and the runtime agree:
 *
 * ```ts
 * declare module 'aura-data' {
 *   interface AuraTableExtensions {
 *     project_states: typeof projectStates
 *   }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface AuraTableExtensions {}

/**
 * The definition of the built-in table `Name`: the application's extension declared in
 * {@link AuraTableExtensions}, else `Base`. A declared type that is no extension of `Base`
 * (a base column is missing or of another type) is ignored.
 */
export type ResolvedTable<Name extends string, Base extends TableDef> = Name extends keyof AuraTableExtensions
  ? AuraTableExtensions[Name] extends TableDef
    ? ColsOf<AuraTableExtensions[Name]> extends ColsOf<Base>
      ? AuraTableExtensions[Name]
      : Base
    : Base
  : Base
