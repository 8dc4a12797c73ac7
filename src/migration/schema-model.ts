import { sql, type Kysely } from 'kysely'
import { UsageError } from '../errors.js'
import type { ModelColumn, ModelForeignKey, ModelIndex, SchemaModel } from '../dialect/schema-model.js'
import { SQLITE_MODEL, type ModelTarget } from '../dialect/index.js'
import type { TableDef } from '../schema/define.js'
import { loadMigration, type MigrationFile } from './migration-source.js'
import { renderCreateTable, renderIndex } from './generate-code.js'

/** The schema `files` produce: each migration's `up`, in order, on a scratch database. */
export async function modelOfMigrations(
  files: readonly MigrationFile[],
  target: ModelTarget = SQLITE_MODEL,
): Promise<SchemaModel> {
  const scratch = await target.open()
  try {
    for (const file of files) {
      const migration = await loadMigration(file)
      await migration.up(scratch.db, { dialect: target.dialect, sql })
    }
    return await scratch.read()
  } finally {
    await scratch.close()
  }
}

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
  ...args: string[]
) => (db: Kysely<any>, ctx: { dialect: 'sqlite' | 'postgres'; sql: typeof sql }) => Promise<void>

/** Runs generated migration code (a function body over `db` and `ctx`). */
export async function runGenerated(
  body: string,
  db: Kysely<any>,
  dialect: 'sqlite' | 'postgres',
): Promise<void> {
  await new AsyncFunction('db', 'ctx', body)(db, { dialect, sql })
}

/**
 * The schema the definitions describe: the generator's own CREATE TABLE and CREATE INDEX code
 * for every table, run on a scratch database. `check` therefore also proves that what `add`
 * would write creates exactly the definitions.
 */
export async function modelOfDefinitions(
  tables: readonly TableDef[],
  target: ModelTarget = SQLITE_MODEL,
): Promise<SchemaModel> {
  const scratch = await target.open()
  try {
    const body = [
      `const { sql } = ctx`,
      `const pg = ctx.dialect === 'postgres'`,
      ...tables.flatMap((t) => [renderCreateTable(t), ...t.indexes.map((ix) => renderIndex(t.name, ix))]),
    ].join('\n')
    try {
      await runGenerated(body, scratch.db, target.dialect)
    } catch (error) {
      throw new UsageError(
        `The table definitions do not make a schema: ${(error as Error).message}. Check the columns each index, CHECK and foreign key names.`,
        { cause: error },
      )
    }
    return await scratch.read()
  } finally {
    await scratch.close()
  }
}

/** One difference between the definitions and the migrations, named for a person. */
export interface SchemaDifference {
  readonly table: string
  /** `table.column`, `table index name`, or `table`. */
  readonly subject: string
  readonly problem: string
}

const describeColumn = (c: ModelColumn): string =>
  `${c.type}${c.notNull ? ' not null' : ' null'}${c.defaultValue === null ? '' : ` default ${c.defaultValue}`}${c.primaryKey ? ' primary key' : ''}`
const describeIndex = (ix: ModelIndex): string =>
  `${ix.unique ? 'unique ' : ''}(${ix.columns.join(', ')})${ix.where ? ` where ${ix.where}` : ''}`
const describeFk = (fk: ModelForeignKey): string =>
  `(${fk.columns.join(', ')}) → ${fk.table}(${fk.referencedColumns.join(', ')}) on delete ${fk.onDelete}`

/**
 * Every difference between `defined` (the definitions) and `migrated` (the migrations), table by
 * table: tables, columns (type, NOT NULL, default, primary key), CHECKs by name, indexes by name
 * (columns, order, unique, partial WHERE) and foreign keys.
 */
export function compareModels(defined: SchemaModel, migrated: SchemaModel): SchemaDifference[] {
  const out: SchemaDifference[] = []
  const names = [...new Set([...defined.tables.keys(), ...migrated.tables.keys()])].sort()
  for (const name of names) {
    const want = defined.tables.get(name)
    const have = migrated.tables.get(name)
    if (!have) {
      out.push({ table: name, subject: name, problem: 'table is defined but no migration creates it' })
      continue
    }
    if (!want) {
      out.push({
        table: name,
        subject: name,
        problem: 'table exists after the migrations but is not defined',
      })
      continue
    }
    for (const col of want.columns) {
      const other = have.columns.find((c) => c.name === col.name)
      if (!other)
        out.push({
          table: name,
          subject: `${name}.${col.name}`,
          problem: `column is defined (${describeColumn(col)}) but no migration adds it`,
        })
      else if (describeColumn(col) !== describeColumn(other))
        out.push({
          table: name,
          subject: `${name}.${col.name}`,
          problem: `defined as ${describeColumn(col)}, the migrations give ${describeColumn(other)}`,
        })
    }
    for (const col of have.columns) {
      if (!want.columns.some((c) => c.name === col.name))
        out.push({
          table: name,
          subject: `${name}.${col.name}`,
          problem: 'column exists after the migrations but is not defined',
        })
    }
    for (const [check, expression] of want.checks) {
      const other = have.checks.get(check)
      if (other === undefined)
        out.push({
          table: name,
          subject: `${name} check ${check}`,
          problem: `CHECK (${expression}) is defined but no migration adds it`,
        })
      else if (other !== expression)
        out.push({
          table: name,
          subject: `${name} check ${check}`,
          problem: `defined as CHECK (${expression}), the migrations give CHECK (${other})`,
        })
    }
    for (const [check, expression] of have.checks) {
      if (!want.checks.has(check))
        out.push({
          table: name,
          subject: `${name} check ${check}`,
          problem: `CHECK (${expression}) exists after the migrations but is not defined`,
        })
    }
    for (const ix of want.indexes) {
      const other = have.indexes.find((i) => i.name === ix.name)
      if (!other)
        out.push({
          table: name,
          subject: `${name} index ${ix.name}`,
          problem: `index ${describeIndex(ix)} is defined but no migration creates it`,
        })
      else if (describeIndex(ix) !== describeIndex(other))
        out.push({
          table: name,
          subject: `${name} index ${ix.name}`,
          problem: `defined as ${describeIndex(ix)}, the migrations give ${describeIndex(other)}`,
        })
    }
    for (const ix of have.indexes) {
      if (!want.indexes.some((i) => i.name === ix.name))
        out.push({
          table: name,
          subject: `${name} index ${ix.name}`,
          problem: `index ${describeIndex(ix)} exists after the migrations but is not defined`,
        })
    }
    const wantFks = want.foreignKeys.map(describeFk)
    const haveFks = have.foreignKeys.map(describeFk)
    for (const fk of wantFks.filter((f) => !haveFks.includes(f)))
      out.push({
        table: name,
        subject: `${name} foreign key`,
        problem: `foreign key ${fk} is defined but no migration adds it`,
      })
    for (const fk of haveFks.filter((f) => !wantFks.includes(f)))
      out.push({
        table: name,
        subject: `${name} foreign key`,
        problem: `foreign key ${fk} exists after the migrations but is not defined`,
      })
  }
  return out
}
