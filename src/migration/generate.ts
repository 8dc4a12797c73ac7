import type { ColumnSpec, TableDef } from '../schema/define.js'
import { quoteIdentifier } from '../dialect/sql-identifier.js'
import { UsageError } from '../errors.js'
import {
  rawSql,
  renderAddColumn,
  renderCreateTable,
  renderDefault,
  renderIndex,
  postgresType,
  SQLITE_NEW_UUID,
  SQLITE_NOW,
  str,
  tableChecks,
} from './generate-code.js'
import type { PostgresColumnTypes } from './postgres-column-types.js'
import type { ModelColumn, ModelIndex, ModelTable, SchemaModel } from '../dialect/schema-model.js'

/** Renames stated on the command line (`--rename table.old=new`, `--rename old_table=new_table`). */
export interface Renames {
  readonly tables: ReadonlyMap<string, string>
  /** table (new name) → old column → new column. */
  readonly columns: ReadonlyMap<string, ReadonlyMap<string, string>>
}

/** Parses `--rename` arguments; a malformed one is a UsageError. */
export function parseRenames(args: readonly string[]): Renames {
  const tables = new Map<string, string>()
  const columns = new Map<string, Map<string, string>>()
  for (const arg of args) {
    const match = /^([a-z_][a-z0-9_]*)(?:\.([a-z_][a-z0-9_]*))?=([a-z_][a-z0-9_]*)$/.exec(arg)
    if (!match) {
      throw new UsageError(
        `--rename ${arg}: write table.old_column=new_column for a column or old_table=new_table for a table (physical snake_case names).`,
      )
    }
    const [, left, column, right] = match as unknown as [string, string, string | undefined, string]
    if (column === undefined) tables.set(left, right)
    else columns.set(left, new Map([...(columns.get(left) ?? []), [column, right]]))
  }
  return { tables, columns }
}

/** The source of a generated migration and what it does. */
export interface GeneratedMigration {
  readonly source: string
  /** One line per change, for the command's report. */
  readonly changes: readonly string[]
  /** The steps that lose data (also exported by the file as `dataLoss`). */
  readonly dataLoss: readonly string[]
}

const BOOL_CHECK = /^"[^"]+" in \(0, 1\)$/
const indent = (code: string, by = '  '): string =>
  code
    .split('\n')
    .map((line) => (line ? by + line : line))
    .join('\n')

const stripParens = (text: string): string =>
  text.startsWith('(') && text.endsWith(')') ? text.slice(1, -1) : text

/**
 * A column's old default (as SQLite stored it) as code for PostgreSQL's `setDefault`, for the
 * `down` of an altered column: the two functions the schema uses, or the literal itself.
 */
function defaultFromSqlite(stored: string, spec: ColumnSpec | undefined): string {
  if (stored === stripParens(SQLITE_NOW)) return 'sql`now()`'
  if (stored === stripParens(SQLITE_NEW_UUID)) return 'sql`gen_random_uuid()`'
  if (spec?.kind === 'bool' && (stored === '0' || stored === '1')) return stored === '1' ? 'true' : 'false'
  if (/^'.*'$/s.test(stored)) return str(stored.slice(1, -1).replace(/''/g, "'"))
  return rawSql(stored)
}

/**
 * PostgreSQL's spelling of a type SQLite reports, for a column whose PostgreSQL type the
 * migrations do not tell (created or changed by raw SQL): the usual type that maps to it.
 */
const pgTypeFromSqlite = (type: string): string =>
  ({ INTEGER: 'integer', REAL: 'double precision' })[type] ?? 'text'

/** An index of the model as code, for PostgreSQL (the `down` of a dropped or changed index). */
function renderModelIndex(table: string, ix: ModelIndex): string {
  if (ix.columns.some((c) => c.startsWith('<expression>'))) {
    throw new UsageError(
      `Index ${ix.name} on ${table} has an expression column; the generator cannot recreate it. Write this migration by hand (aura-db add NAME --empty).`,
    )
  }
  if (ix.where === null || ix.where === 'is_deleted = 0') {
    return renderIndex(table, {
      name: ix.name,
      columns: ix.columns,
      unique: ix.unique,
      live: ix.where !== null,
    })
  }
  let code = `await db.schema.createIndex(${str(ix.name)}).on(${str(table)}).columns([${ix.columns.map(str).join(', ')}])`
  if (ix.unique) code += '.unique()'
  return `${code}.where(${rawSql(ix.where)}).execute()`
}

const sameIndex = (a: ModelIndex, b: ModelIndex): boolean =>
  a.unique === b.unique && a.where === b.where && a.columns.join() === b.columns.join()
const sameColumn = (a: ModelColumn, b: ModelColumn): boolean =>
  a.type === b.type &&
  a.notNull === b.notNull &&
  a.defaultValue === b.defaultValue &&
  a.primaryKey === b.primaryKey
const fkKey = (fk: ModelTable['foreignKeys'][number]): string =>
  `${fk.columns.join()}>${fk.table}(${fk.referencedColumns.join()}) ${fk.onDelete}`

/** The CREATE TABLE SQLite stored, under another name (the new table of a rebuild). */
function renameCreate(createSql: string, as: string): string {
  return createSql.replace(/^(\s*create\s+table\s+)("(?:[^"]|"")*"|\S+)/i, `$1${quoteIdentifier(as)}`)
}

interface Plan {
  up: string[]
  down: string[]
  changes: string[]
  dataLoss: string[]
  irreversible: string[]
}

/**
 * The migration from `before` (the schema the existing migrations produce) to `defs` (whose
 * schema is `after`), with `up` and `down` for both dialects. Throws a UsageError for a change it
 * must not guess (a drop together with an add, which may be a rename) and when nothing differs.
 */
export function generateMigration(
  name: string,
  defs: readonly TableDef[],
  before: SchemaModel,
  after: SchemaModel,
  renames: Renames,
  oldPostgresTypes?: PostgresColumnTypes,
): GeneratedMigration {
  const plan: Plan = { up: [], down: [], changes: [], dataLoss: [], irreversible: [] }
  const oldName = (table: string): string => [...renames.tables].find(([, to]) => to === table)?.[0] ?? table
  for (const [from, to] of renames.tables) {
    if (!before.tables.has(from))
      throw new UsageError(`--rename ${from}=${to}: the migrations create no table ${from}.`)
    if (!defs.some((d) => d.name === to))
      throw new UsageError(`--rename ${from}=${to}: no table ${to} is defined.`)
  }
  const created = defs.filter((d) => !before.tables.has(oldName(d.name)))
  const renamedFrom = new Set(renames.tables.keys())
  const dropped = [...before.tables.values()].filter(
    (t) => !renamedFrom.has(t.name) && !defs.some((d) => d.name === t.name),
  )
  if (created.length > 0 && dropped.length > 0) {
    throw new UsageError(
      `Table(s) ${dropped.map((t) => t.name).join(', ')} would be dropped and ${created.map((t) => t.name).join(', ')} created. ` +
        'A rename is never guessed: if one is the other renamed, say so with --rename old_table=new_table; ' +
        'otherwise create the new table(s) in one migration and drop the old in the next.',
    )
  }

  for (const [from, to] of renames.tables) {
    plan.up.push(`await db.schema.alterTable(${str(from)}).renameTo(${str(to)}).execute()`)
    plan.down.unshift(`await db.schema.alterTable(${str(to)}).renameTo(${str(from)}).execute()`)
    plan.changes.push(`rename table ${from} to ${to}`)
  }
  for (const def of defs) {
    const old = before.tables.get(oldName(def.name))
    if (!old) {
      plan.up.push(renderCreateTable(def), ...def.indexes.map((ix) => renderIndex(def.name, ix)))
      plan.down.unshift(`await db.schema.dropTable(${str(def.name)}).execute()`)
      plan.changes.push(`create table ${def.name}`)
      continue
    }
    alterTable(
      def,
      old,
      after.tables.get(def.name)!,
      renames.columns.get(def.name) ?? new Map(),
      plan,
      oldPostgresTypes?.get(old.name),
    )
  }
  for (const table of dropped.reverse()) {
    const what = `drop table ${table.name}`
    plan.up.push(
      `// DATA LOSS: ${what} and every row in it.`,
      `await db.schema.dropTable(${str(table.name)}).execute()`,
    )
    plan.changes.push(what)
    plan.dataLoss.push(what)
    plan.irreversible.push(what)
  }
  if (plan.changes.length === 0) {
    throw new UsageError(
      'The definitions and the migrations agree: there is nothing to generate. Use `aura-db add NAME --empty` for a hand-written migration.',
    )
  }
  return {
    source: renderFile(name, plan),
    changes: plan.changes,
    dataLoss: plan.dataLoss,
  }
}

function alterTable(
  def: TableDef,
  old: ModelTable,
  now: ModelTable,
  columnRenames: ReadonlyMap<string, string>,
  plan: Plan,
  oldPostgresTypes: ReadonlyMap<string, string> | undefined,
): void {
  const t = def.name
  for (const [from, to] of columnRenames) {
    if (!old.columns.some((c) => c.name === from))
      throw new UsageError(`--rename ${t}.${from}=${to}: the migrations give ${t} no column ${from}.`)
    if (!now.columns.some((c) => c.name === to))
      throw new UsageError(`--rename ${t}.${from}=${to}: ${t} defines no column ${to}.`)
  }
  // Old columns under their new names, so both sides speak of the same column.
  const rename = (column: string): string => columnRenames.get(column) ?? column
  const oldColumnName = (column: string): string =>
    [...columnRenames].find(([, to]) => to === column)?.[0] ?? column
  const oldColumns = new Map(old.columns.map((c) => [rename(c.name), { ...c, name: rename(c.name) }]))
  const newColumns = new Map(now.columns.map((c) => [c.name, c]))
  const specOf = (column: string): ColumnSpec | undefined =>
    Object.values(def.columns).find((s) => s.column === column)
  const added = now.columns.filter((c) => !oldColumns.has(c.name)).map((c) => specOf(c.name)!)
  const droppedColumns = [...oldColumns.values()].filter((c) => !newColumns.has(c.name))
  const changed = now.columns.filter((c) => oldColumns.has(c.name) && !sameColumn(c, oldColumns.get(c.name)!))
  if (added.length > 0 && droppedColumns.length > 0) {
    const gone = droppedColumns.map((c) => c.name)
    const come = added.map((c) => c.column)
    throw new UsageError(
      `${t}: column(s) ${gone.join(', ')} would be dropped and ${come.join(', ')} added. A rename is never guessed: ` +
        `if ${come[0]} is ${gone[0]} renamed, run aura-db add NAME --rename ${t}.${gone[0]}=${come[0]}; ` +
        'otherwise add the new column(s) in one migration and drop the old in the next.',
    )
  }
  const oldChecks = old.checks
  const newChecks = now.checks
  const checkChanged = (name: string): boolean =>
    oldChecks.has(name) && newChecks.has(name) && oldChecks.get(name) !== newChecks.get(name)
  const addedChecks = [...newChecks.keys()].filter((n) => !oldChecks.has(n) || checkChanged(n))
  const droppedChecks = [...oldChecks.keys()].filter((n) => !newChecks.has(n) || checkChanged(n))
  const oldFks = new Map(old.foreignKeys.map((fk) => [fkKey({ ...fk, columns: fk.columns.map(rename) }), fk]))
  const newFks = new Map(now.foreignKeys.map((fk) => [fkKey(fk), fk]))
  const addedFks = [...newFks].filter(([k]) => !oldFks.has(k)).map(([, fk]) => fk)
  const droppedFks = [...oldFks].filter(([k]) => !newFks.has(k)).map(([, fk]) => fk)
  const addedIndexes = def.indexes
    .map((d) => now.indexes.find((ix) => ix.name === d.name)!)
    .filter((ix) => {
      const before = old.indexes.find((o) => o.name === ix.name)
      return !before || !sameIndex(before, { ...ix, columns: ix.columns })
    })
  const droppedIndexes = old.indexes.filter((ix) => {
    const after = now.indexes.find((n) => n.name === ix.name)
    return !after || !sameIndex(ix, after)
  })
  if (
    columnRenames.size +
      added.length +
      droppedColumns.length +
      changed.length +
      addedChecks.length +
      droppedChecks.length +
      addedFks.length +
      droppedFks.length +
      addedIndexes.length +
      droppedIndexes.length ===
    0
  ) {
    return
  }

  const changes: string[] = []
  for (const [from, to] of columnRenames) changes.push(`rename column ${t}.${from} to ${to}`)
  for (const c of added) changes.push(`add column ${t}.${c.column}`)
  for (const c of droppedColumns) {
    const what = `drop column ${t}.${c.name}`
    changes.push(what)
    plan.dataLoss.push(what)
    plan.irreversible.push(what)
  }
  for (const c of changed) {
    const before = oldColumns.get(c.name)!
    changes.push(`alter column ${t}.${c.name}`)
    if (before.type !== c.type)
      plan.dataLoss.push(
        `change the type of ${t}.${c.name} from ${before.type} to ${c.type} (values may not convert)`,
      )
  }
  for (const n of droppedChecks.filter((n) => !addedChecks.includes(n))) changes.push(`drop check ${n}`)
  for (const n of addedChecks) changes.push(`${droppedChecks.includes(n) ? 'change' : 'add'} check ${n}`)
  for (const fk of droppedFks) changes.push(`drop foreign key ${t}(${fk.columns.join(', ')})`)
  for (const fk of addedFks) changes.push(`add foreign key ${t}(${fk.columns.join(', ')})`)
  for (const ix of droppedIndexes.filter((d) => !addedIndexes.some((a) => a.name === d.name)))
    changes.push(`drop index ${ix.name}`)
  for (const ix of addedIndexes)
    changes.push(`${droppedIndexes.some((d) => d.name === ix.name) ? 'change' : 'create'} index ${ix.name}`)
  plan.changes.push(...changes)

  // --- PostgreSQL (and SQLite when no rebuild is needed): statement by statement. ---
  const alter = (body: string): string => `await db.schema.alterTable(${str(t)})${body}.execute()`
  const pgChecks = new Map(
    tableChecks(def)
      .filter((c) => !c.sqliteOnly)
      .map((c) => [c.name, c.expression]),
  )
  const isPgCheck = (name: string, expression: string): boolean =>
    !BOOL_CHECK.test(expression) || pgChecks.has(name)
  const fkName = (columns: readonly string[]): string => `fk_${t}_${columns.join('_')}`
  const addFk = (fk: ModelTable['foreignKeys'][number]): string =>
    alter(
      `.addForeignKeyConstraint(${str(fkName(fk.columns))}, [${fk.columns.map(str).join(', ')}], ${str(fk.table)}, [${fk.referencedColumns.map(str).join(', ')}]${fk.onDelete === 'no action' ? '' : `, (fk) => fk.onDelete(${str(fk.onDelete)})`})`,
    )
  const up: string[] = []
  const down: string[] = []
  // The down of a rename and of what referred to the old names: after the new things are gone.
  const renameBack: string[] = []
  const restore: string[] = []
  for (const [from, to] of columnRenames) {
    up.push(alter(`.renameColumn(${str(from)}, ${str(to)})`))
    renameBack.push(alter(`.renameColumn(${str(to)}, ${str(from)})`))
  }
  for (const ix of droppedIndexes) {
    up.push(`await db.schema.dropIndex(${str(ix.name)}).execute()`)
    restore.push(renderModelIndex(t, ix))
  }
  for (const n of droppedChecks) {
    const expression = oldChecks.get(n)!
    if (!isPgCheck(n, expression)) continue
    up.push(alter(`.dropConstraint(${str(n)})`))
    restore.push(alter(`.addCheckConstraint(${str(n)}, ${rawSql(expression)})`))
  }
  for (const fk of droppedFks) {
    up.push(alter(`.dropConstraint(${str(fkName(fk.columns))})`))
    restore.push(addFk(fk))
  }
  for (const c of droppedColumns) {
    up.push(`// DATA LOSS: drop column ${t}.${c.name} and its values.`, alter(`.dropColumn(${str(c.name)})`))
  }
  for (const spec of added) {
    up.push(alter(renderAddColumn(spec, false)))
    down.unshift(alter(`.dropColumn(${str(spec.column)})`))
  }
  for (const c of changed) {
    const spec = specOf(c.name)!
    const before = oldColumns.get(c.name)!
    const forward: string[] = []
    const back: string[] = []
    // PostgreSQL converts between text and numbers only when told how: USING a cast. The down
    // goes back to the exact type the migrations declared (varchar(100), not text), when known.
    const retype = (type: string): string =>
      `await sql.raw(${str(`alter table ${quoteIdentifier(t)} alter column ${quoteIdentifier(c.name)} type ${type} using ${quoteIdentifier(c.name)}::${type}`)}).execute(db)`
    const retypeUp = before.type !== c.type ? [retype(postgresType(spec))] : []
    const retypeDown =
      before.type !== c.type
        ? [retype(oldPostgresTypes?.get(oldColumnName(c.name)) ?? pgTypeFromSqlite(before.type))]
        : []
    if (before.notNull !== c.notNull) {
      forward.push(`.alterColumn(${str(c.name)}, (col) => col.${c.notNull ? 'setNotNull' : 'dropNotNull'}())`)
      back.push(
        `.alterColumn(${str(c.name)}, (col) => col.${before.notNull ? 'setNotNull' : 'dropNotNull'}())`,
      )
    }
    if (before.defaultValue !== c.defaultValue) {
      forward.push(
        spec.defaultValue === undefined
          ? `.alterColumn(${str(c.name)}, (col) => col.dropDefault())`
          : `.alterColumn(${str(c.name)}, (col) => col.setDefault(${renderDefault(spec, spec.defaultValue)}))`,
      )
      back.push(
        before.defaultValue === null
          ? `.alterColumn(${str(c.name)}, (col) => col.dropDefault())`
          : `.alterColumn(${str(c.name)}, (col) => col.setDefault(${defaultFromSqlite(before.defaultValue, spec)}))`,
      )
    }
    up.push(...retypeUp, ...forward.map(alter))
    down.unshift(...retypeDown, ...back.map(alter))
  }
  for (const n of addedChecks) {
    const expression = newChecks.get(n)!
    if (!pgChecks.has(n)) continue
    up.push(alter(`.addCheckConstraint(${str(n)}, ${rawSql(expression)})`))
    down.unshift(alter(`.dropConstraint(${str(n)})`))
  }
  for (const fk of addedFks) {
    up.push(addFk(fk))
    down.unshift(alter(`.dropConstraint(${str(fkName(fk.columns))})`))
  }
  for (const ix of addedIndexes) {
    up.push(
      renderIndex(
        t,
        def.indexes.find((d) => d.name === ix.name)!,
      ),
    )
    down.unshift(`await db.schema.dropIndex(${str(ix.name)}).execute()`)
  }

  // SQLite alters a column, a CHECK or a foreign key only by rebuilding the table, and cannot add
  // a column that is NOT NULL without a default, references a table, or carries a CHECK.
  const needsRebuild =
    changed.length > 0 ||
    addedChecks.length > 0 ||
    droppedChecks.length > 0 ||
    addedFks.length > 0 ||
    droppedFks.length > 0 ||
    added.some((s) => (!s.nullable && s.defaultValue === undefined) || s.references) ||
    droppedColumns.some((c) => c.primaryKey)
  down.push(...renameBack, ...restore)
  const header = `// ${t}`
  if (!needsRebuild) {
    plan.up.push(header, ...up)
    plan.down.unshift(header, ...down)
    return
  }
  const tmp = `${t}__rebuild`
  // Columns on both sides of the rebuild: new name → old name.
  const kept = now.columns
    .filter((c) => oldColumns.has(c.name))
    .map((c) => [c.name, [...columnRenames].find(([, to]) => to === c.name)?.[0] ?? c.name] as const)
  const copy = (into: string, intoColumns: readonly string[], fromColumns: readonly string[]): string =>
    `await sql\`insert into ${quoteIdentifier(into)} (${intoColumns.map(quoteIdentifier).join(', ')}) select ${fromColumns.map(quoteIdentifier).join(', ')} from ${quoteIdentifier(t)}\`.execute(db)`
  const swap = [
    `await db.schema.dropTable(${str(t)}).execute()`,
    `await db.schema.alterTable(${str(tmp)}).renameTo(${str(t)}).execute()`,
  ]
  const replay = (statements: readonly string[]): string[] =>
    statements.map((s) => `await sql.raw(${str(s)}).execute(db)`)
  // A rebuild copies the columns it knows of. Another migration set (an application's, or the
  // package's for an application's rebuild) may have added columns since: copying without them
  // would drop them silently, so the step refuses instead.
  const guard = (known: readonly string[]): string[] => [
    `const unknown = (await sql<{ name: string }>\`select name from pragma_table_info(${'${'}${str(t)}}) where name not in (${'${'}sql.join([${known.map(str).join(', ')}])})\`.execute(db)).rows.map((r) => r.name)`,
    `if (unknown.length > 0) throw new Error(${str(`Rebuilding ${t} would drop its columns `)} + unknown.join(', ') + ${str(`, which this migration does not know (another migration set added them). Roll that set back first, or write this step by hand (aura-db add --empty).`)})`,
  ]
  const survivingTriggers = old.triggers
  const rebuildUp = [
    '// Table rebuild (https://www.sqlite.org/lang_altertable.html#otheralter): a new table, the',
    '// listed columns copied, the old one dropped, the new one renamed; the engine runs it with',
    '// foreign keys off and checks them afterwards.',
    ...guard(old.columns.map((c) => c.name)),
    renderCreateTable(def, tmp),
    copy(
      tmp,
      kept.map(([n]) => n),
      kept.map(([, o]) => o),
    ),
    ...swap,
    ...def.indexes.map((ix) => renderIndex(t, ix)),
    ...replay(survivingTriggers),
  ]
  const rebuildDown = [
    ...guard(now.columns.map((c) => c.name)),
    `await sql.raw(${str(renameCreate(old.sql, tmp))}).execute(db)`,
    copy(
      tmp,
      kept.map(([, o]) => o),
      kept.map(([n]) => n),
    ),
    ...swap,
    ...replay(old.indexes.map((ix) => ix.sql)),
    ...replay(old.triggers),
  ]
  plan.up.push(
    header,
    ...(droppedColumns.length > 0
      ? droppedColumns.map((c) => `// DATA LOSS: drop column ${t}.${c.name} and its values.`)
      : []),
    'if (pg) {',
    indent(up.join('\n')),
    '} else {',
    indent(rebuildUp.join('\n')),
    '}',
  )
  plan.down.unshift(
    header,
    'if (pg) {',
    indent(down.join('\n')),
    '} else {',
    indent(rebuildDown.join('\n')),
    '}',
  )
}

function renderFile(name: string, plan: Plan): string {
  // Only the bindings the statements use: the file must pass the repository's lint as generated.
  const body = (lines: readonly string[]): string => {
    const code = lines.join('\n')
    const prelude = [
      ...(/\bsql[`.]/.test(code) ? ['const { sql } = ctx'] : []),
      ...(/\bpg\b/.test(code) ? ["const pg = ctx.dialect === 'postgres'"] : []),
    ]
    return indent([...prelude, ...lines].join('\n'))
  }
  const down =
    plan.irreversible.length > 0
      ? indent(
          `throw new Error(${str(`${name} cannot be rolled back: it lost data (${plan.irreversible.join('; ')}). Restore the backup taken before it (aura-db restore).`)})`,
        )
      : body(plan.down)
  return `/**
 * ${name}: generated by \`aura-db add\` from the difference between the table definitions
 * (src/schema) and the schema the earlier migrations produce. Review it before committing.
 *
${plan.changes.map((c) => ` * - ${c}`).join('\n')}
${plan.dataLoss.length > 0 ? ` *\n * DATA LOSS (printed by \`aura-db migrate\`):\n${plan.dataLoss.map((c) => ` * - ${c}`).join('\n')}\n` : ''} *
 * Frozen in time: literal schema-builder calls, no application imports; imports only types
 * from 'kysely' (the engine passes \`sql\` in \`ctx\`). One file serves SQLite and PostgreSQL.
 */
import type { Kysely, sql as SqlTag } from 'kysely'

export interface MigrationContext {
  dialect: 'sqlite' | 'postgres'
  sql: typeof SqlTag
}

/** The steps that lose data; \`aura-db migrate\` prints them before it applies this migration. */
export const dataLoss: readonly string[] = [${plan.dataLoss.map(str).join(', ')}]

export async function up(db: Kysely<any>, ${/\b(sql|pg)\b/.test(plan.up.join('\n')) ? 'ctx' : '_ctx'}: MigrationContext): Promise<void> {
${body(plan.up)}
}

export async function down(${plan.irreversible.length > 0 ? '_db' : 'db'}: Kysely<any>, ${plan.irreversible.length > 0 || !/\b(sql|pg)\b/.test(plan.down.join('\n')) ? '_ctx' : 'ctx'}: MigrationContext): Promise<void> {
${down}
}
`
}
