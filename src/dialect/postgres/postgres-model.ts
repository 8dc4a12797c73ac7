import { sql, type Kysely } from 'kysely'
import type { ModelColumn, ModelForeignKey, ModelIndex, SchemaModel, ScratchModel } from '../schema-model.js'
import type { AuraDialect, ModelTarget } from '../dialect.js'
import { postgresColumns, postgresConstraints } from './postgres-introspect.js'

/**
 * Reads the model of every table of the current schema from PostgreSQL's catalogs, in the shape
 * `aura-db check` compares (src/migration/schema-model.ts). Every text comes from the server's
 * own deparsers (`format_type`, `pg_get_expr`, `pg_get_constraintdef`), so the definitions' side
 * and the migrations' side are spelled by the same code and compare as plain strings.
 */
export async function readPostgresModel(db: Kysely<any>): Promise<SchemaModel> {
  const columns = await postgresColumns(db)
  const indexes = await sql<{
    table_name: string
    name: string
    unique: boolean
    columns: string[]
    where: string | null
    definition: string
  }>`
    select t.relname as table_name, i.relname as name, x.indisunique as unique,
           -- pg_get_indexdef(oid, column, true) spells each key (a column or an expression);
           -- bit 0 of indoption is DESC.
           array(select pg_get_indexdef(x.indexrelid, k.ord::int, true)
                        || case when (x.indoption[k.ord - 1] & 1) = 1 then ' desc' else '' end
                 from generate_series(1, x.indnkeyatts) k(ord) order by k.ord)::text[] as columns,
           pg_get_expr(x.indpred, x.indrelid, true) as where,
           pg_get_indexdef(x.indexrelid) as definition
    from pg_index x
    join pg_class t on t.oid = x.indrelid
    join pg_class i on i.oid = x.indexrelid
    join pg_namespace n on n.oid = t.relnamespace and n.nspname = current_schema()
    where not x.indisprimary
      and not exists (select 1 from pg_constraint k where k.conindid = x.indexrelid)
    order by t.relname, i.relname`.execute(db)
  const constraints = await postgresConstraints(db)
  const tables = new Map<string, Table>()
  const table = (name: string): Table => {
    let t = tables.get(name)
    if (!t) {
      t = { name, columns: [], checks: new Map(), indexes: [], foreignKeys: [], triggers: [], sql: '' }
      tables.set(name, t)
    }
    return t
  }
  for (const col of columns) {
    table(col.table_name).columns.push({
      name: col.name,
      type: col.type,
      notNull: col.not_null,
      defaultValue: col.default_value,
      primaryKey: col.primary_key,
    })
  }
  for (const ix of indexes.rows) {
    if (!tables.has(ix.table_name)) continue
    table(ix.table_name).indexes.push({
      name: ix.name,
      columns: ix.columns,
      unique: ix.unique,
      where: ix.where,
      sql: ix.definition,
    })
  }
  for (const k of constraints) {
    if (!tables.has(k.table_name)) continue
    const t = table(k.table_name)
    if (k.type === 'c') t.checks.set(k.name, checkBody(k.definition))
    else
      t.foreignKeys.push({
        columns: k.columns,
        table: k.ref_table ?? '',
        referencedColumns: k.ref_columns,
        onDelete: k.on_delete,
      })
  }
  for (const t of tables.values())
    t.foreignKeys.sort((a, b) => a.columns.join().localeCompare(b.columns.join()))
  return { tables }
}

/** A table of the model while it is read. */
interface Table {
  readonly name: string
  readonly columns: ModelColumn[]
  readonly checks: Map<string, string>
  readonly indexes: ModelIndex[]
  readonly foreignKeys: ModelForeignKey[]
  readonly triggers: string[]
  readonly sql: string
}

/** `CHECK (expression)` as pg_get_constraintdef spells it, without the keyword and outer parentheses. */
function checkBody(definition: string): string {
  const match = /^CHECK \((.*)\)$/s.exec(definition)
  return (match ? match[1]! : definition).replace(/\s+/g, ' ').trim()
}

/**
 * A scratch schema on the PostgreSQL server `server` is connected to (dropped by `close`), for
 * building a model as on SQLite's in-memory scratch database.
 */
export async function openScratchPostgres(server: AuraDialect): Promise<ScratchModel> {
  const scratch = await server.createScratch()
  return { db: scratch.kysely, read: () => readPostgresModel(scratch.kysely), close: () => scratch.close() }
}

/** Scratch schemas on `server`, dropped afterwards: the model target of a PostgreSQL database. */
export function postgresModelTarget(server: AuraDialect): ModelTarget {
  return {
    dialect: 'postgres',
    open: () => openScratchPostgres(server),
    // The TemplateSearch migration's GIN expression index over the searched columns.
    searchIndexName: (table) => `ix_${table}_search`,
  }
}
