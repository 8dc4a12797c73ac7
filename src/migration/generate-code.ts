import type { ColumnSpec, DefaultValue, IndexSpec, TableDef } from '../schema/define.js'

/**
 * The literal schema-builder code the generator writes into a migration, one function per
 * element of a definition. The code runs inside `up`/`down` with `db`, `ctx`, `sql` (from
 * `ctx`) and `pg` (`ctx.dialect === 'postgres'`) in scope, and spells every physical type,
 * default and CHECK the way InitialCreate does, so a generated table is indistinguishable from a
 * hand-written one.
 */

/** A JavaScript string literal. */
export const str = (value: string): string =>
  `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`
/** A `sql\`…\`` template holding raw SQL text. */
export const rawSql = (text: string): string =>
  `sql\`${text.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${')}\``
/** An SQL string literal. */
const sqlLit = (value: string): string => `'${value.replace(/'/g, "''")}'`
const q = (name: string): string => `"${name.replace(/"/g, '""')}"`

/** SQLite has no UUID function: a random version-4 UUID from random bytes (as in InitialCreate). */
export const SQLITE_NEW_UUID =
  "(lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (random() & 3), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))))"
/** ISO-8601 UTC text with milliseconds, so that text order is time order. */
export const SQLITE_NOW = "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"

/** The column's physical type on PostgreSQL. */
export function postgresType(spec: ColumnSpec): string {
  switch (spec.kind) {
    case 'uuid':
      return 'uuid'
    case 'text':
      return spec.maxLength ? `varchar(${spec.maxLength})` : 'text'
    case 'json':
      // Plain text, not jsonb: content hashes are computed over the exact bytes.
      return 'text'
    case 'int':
      return 'integer'
    case 'bigint':
      return 'bigint'
    case 'real':
      return 'double precision'
    case 'bool':
      return 'boolean'
    case 'timestamp':
      return 'timestamptz'
  }
}

/** The column's declared type on SQLite (which ignores declared lengths; validation enforces them). */
function sqliteType(spec: ColumnSpec): string {
  switch (spec.kind) {
    case 'int':
    case 'bigint':
    case 'bool':
      return 'integer'
    case 'real':
      return 'real'
    default:
      return 'text'
  }
}

/** The column's physical type per dialect, as code. */
export function renderType(spec: ColumnSpec): string {
  const pg = postgresType(spec)
  const sqlite = sqliteType(spec)
  return pg === sqlite ? str(pg) : `pg ? ${str(pg)} : ${str(sqlite)}`
}

/** A default as code for `defaultTo`/`setDefault`. */
export function renderDefault(spec: ColumnSpec, value: DefaultValue): string {
  if (typeof value === 'object') {
    return value.fn === 'now'
      ? `pg ? sql\`now()\` : ${rawSql(SQLITE_NOW)}`
      : `pg ? sql\`gen_random_uuid()\` : ${rawSql(SQLITE_NEW_UUID)}`
  }
  // SQLite stores booleans as INTEGER 0/1.
  if (typeof value === 'boolean')
    return spec.kind === 'bool' ? `pg ? ${value} : ${value ? 1 : 0}` : String(value)
  return typeof value === 'number' ? String(value) : str(value)
}

/** The `(col) => col…` callback of `addColumn`, or '' when the column needs none. */
export function renderColumnBuilder(spec: ColumnSpec, primaryKey: boolean): string {
  if (spec.identity) {
    // Ids ascend in insertion order: AUTOINCREMENT stops SQLite from reusing the largest id
    // after a delete; PostgreSQL's identity column never reuses values.
    return `(col) => (pg ? col.generatedAlwaysAsIdentity().primaryKey() : col.notNull().primaryKey().autoIncrement())`
  }
  let chain = 'col'
  // SQLite lets a PRIMARY KEY column hold NULL unless it is declared NOT NULL.
  if (!spec.nullable || primaryKey) chain += '.notNull()'
  if (primaryKey) chain += '.primaryKey()'
  if (spec.defaultValue !== undefined) chain += `.defaultTo(${renderDefault(spec, spec.defaultValue)})`
  return chain === 'col' ? '' : `(col) => ${chain}`
}

/** `.addColumn(…)` for one column of a create or alter table. */
export function renderAddColumn(spec: ColumnSpec, primaryKey: boolean): string {
  const type = spec.identity ? `pg ? 'bigint' : 'integer'` : renderType(spec)
  const builder = renderColumnBuilder(spec, primaryKey)
  return `.addColumn(${str(spec.column)}, ${type}${builder ? `, ${builder}` : ''})`
}

/** The CHECK constraints a column carries, per dialect: name → SQL expression. */
export function columnChecks(
  table: string,
  spec: ColumnSpec,
): { name: string; expression: string; sqliteOnly: boolean }[] {
  const name = `ck_${table}_${spec.column}`
  const col = q(spec.column)
  const out: { name: string; expression: string; sqliteOnly: boolean }[] = []
  if (spec.enumValues) {
    out.push({ name, expression: `${col} in (${spec.enumValues.map(sqlLit).join(', ')})`, sqliteOnly: false })
  }
  if (spec.min !== undefined) {
    const expression =
      spec.max === undefined
        ? `${col} >= ${spec.min}`
        : spec.min === spec.max
          ? `${col} = ${spec.min}`
          : `${col} >= ${spec.min} and ${col} <= ${spec.max}`
    out.push({ name, expression, sqliteOnly: false })
  }
  // SQLite has no boolean type: a CHECK keeps the INTEGER at 0 or 1.
  if (spec.kind === 'bool') out.push({ name, expression: `${col} in (0, 1)`, sqliteOnly: true })
  return out
}

/** Every CHECK of a table (column ones, then the table-level ones). */
export function tableChecks(def: TableDef): { name: string; expression: string; sqliteOnly: boolean }[] {
  return [
    ...Object.values(def.columns).flatMap((spec) => columnChecks(def.name, spec)),
    ...def.checks.map((ck) => ({
      name: `ck_${def.name}_${ck.name}`,
      expression: ck.expression,
      sqliteOnly: false,
    })),
  ]
}

/** `await db.schema.createTable(…)…execute()` for a definition, optionally under another name (a rebuild). */
export function renderCreateTable(def: TableDef, as: string = def.name): string {
  const lines = [`await db.schema`, `  .createTable(${str(as)})`]
  for (const spec of Object.values(def.columns)) {
    lines.push(`  ${renderAddColumn(spec, def.byColumn.get(spec.column) === def.primaryKey)}`)
  }
  for (const spec of Object.values(def.columns)) {
    if (!spec.references) continue
    const { table, column, onDelete } = spec.references
    lines.push(
      `  .addForeignKeyConstraint(${str(`fk_${def.name}_${spec.column}`)}, [${str(spec.column)}], ${str(table)}, [${str(column)}]${onDelete === 'no action' ? '' : `, (fk) => fk.onDelete(${str(onDelete)})`})`,
    )
  }
  const checks = tableChecks(def)
  for (const ck of checks.filter((c) => !c.sqliteOnly)) {
    lines.push(`  .addCheckConstraint(${str(ck.name)}, ${rawSql(ck.expression)})`)
  }
  const sqliteOnly = checks.filter((c) => c.sqliteOnly)
  if (sqliteOnly.length > 0) {
    lines.push(
      `  .$call((t) => (pg ? t : t${sqliteOnly.map((ck) => `.addCheckConstraint(${str(ck.name)}, ${rawSql(ck.expression)})`).join('')}))`,
    )
  }
  lines.push(`  .execute()`)
  return lines.join('\n')
}

/** `await db.schema.createIndex(…)…execute()`; a live index is partial on `is_deleted` false. */
export function renderIndex(table: string, ix: IndexSpec): string {
  let code = `await db.schema.createIndex(${str(ix.name)}).on(${str(table)}).columns([${ix.columns.map(str).join(', ')}])`
  if (ix.unique) code += '.unique()'
  // Booleans are INTEGER on SQLite: each planner uses the index only for the same spelling.
  if (ix.live) code += '.where(pg ? sql`is_deleted = false` : sql`is_deleted = 0`)'
  return `${code}.execute()`
}
