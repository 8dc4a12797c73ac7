import { sql, type Kysely } from 'kysely'
import type { IntrospectedTable, SchemaSnapshot } from '../dialect.js'

/** Reads the live schema of the current PostgreSQL schema (`current_schema()`) from the catalogs. */
export async function introspectPostgres(db: Kysely<any>): Promise<SchemaSnapshot> {
  const columns = await sql<{
    table_name: string
    column_name: string
    type: string
    not_null: boolean
    default_value: string | null
    primary_key: boolean
  }>`
    select c.relname as table_name, a.attname as column_name,
           format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null,
           pg_get_expr(d.adbin, d.adrelid) as default_value,
           exists (select 1 from pg_index i where i.indrelid = c.oid and i.indisprimary
                   and a.attnum = any(i.indkey)) as primary_key
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace and n.nspname = current_schema()
    join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    left join pg_attrdef d on d.adrelid = c.oid and d.adnum = a.attnum
    where c.relkind = 'r'
    order by c.relname, a.attnum`.execute(db)
  const indexes = await sql<{ table_name: string; index_name: string; unique: boolean; columns: string[] }>`
    select t.relname as table_name, i.relname as index_name, x.indisunique as unique,
           array(select a.attname from unnest(x.indkey) with ordinality k(attnum, ord)
                 join pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum order by k.ord)::text[] as columns
    from pg_index x
    join pg_class t on t.oid = x.indrelid
    join pg_class i on i.oid = x.indexrelid
    join pg_namespace n on n.oid = t.relnamespace and n.nspname = current_schema()
    where not x.indisprimary
      and not exists (select 1 from pg_constraint k where k.conindid = x.indexrelid)
    order by t.relname, i.relname`.execute(db)
  const constraints = await sql<{
    table_name: string
    type: string
    definition: string
    columns: string[] | null
    ref_table: string | null
    ref_columns: string[] | null
    on_delete: string
  }>`
    select t.relname as table_name, k.contype as type, pg_get_constraintdef(k.oid) as definition,
           array(select a.attname from unnest(k.conkey) with ordinality u(attnum, ord)
                 join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.attnum order by u.ord)::text[] as columns,
           r.relname as ref_table,
           array(select a.attname from unnest(k.confkey) with ordinality u(attnum, ord)
                 join pg_attribute a on a.attrelid = k.confrelid and a.attnum = u.attnum order by u.ord)::text[] as ref_columns,
           k.confdeltype as on_delete
    from pg_constraint k
    join pg_class t on t.oid = k.conrelid
    join pg_namespace n on n.oid = t.relnamespace and n.nspname = current_schema()
    left join pg_class r on r.oid = k.confrelid
    where k.contype in ('c', 'f')
    order by t.relname, pg_get_constraintdef(k.oid)`.execute(db)

  const onDeleteNames: Record<string, string> = {
    a: 'no action',
    r: 'restrict',
    c: 'cascade',
    n: 'set null',
    d: 'set default',
  }
  const tables = new Map<
    string,
    IntrospectedTable & { columns: any[]; indexes: any[]; foreignKeys: any[]; checks: string[] }
  >()
  const table = (name: string) => {
    let t = tables.get(name)
    if (!t) tables.set(name, (t = { name, columns: [], indexes: [], foreignKeys: [], checks: [] }))
    return t
  }
  for (const col of columns.rows) {
    table(col.table_name).columns.push({
      name: col.column_name,
      type: col.type,
      nullable: !col.not_null,
      defaultValue: col.default_value,
      primaryKey: col.primary_key,
    })
  }
  for (const ix of indexes.rows) {
    table(ix.table_name).indexes.push({ name: ix.index_name, unique: ix.unique, columns: ix.columns })
  }
  for (const k of constraints.rows) {
    if (k.type === 'c') table(k.table_name).checks.push(k.definition)
    else
      table(k.table_name).foreignKeys.push({
        columns: k.columns ?? [],
        referencedTable: k.ref_table ?? '',
        referencedColumns: k.ref_columns ?? [],
        onDelete: onDeleteNames[k.on_delete] ?? k.on_delete,
      })
  }
  for (const t of tables.values()) {
    t.foreignKeys.sort((a, b) => a.columns.join().localeCompare(b.columns.join()))
    t.checks.sort()
  }
  return { tables: [...tables.values()].sort((a, b) => a.name.localeCompare(b.name)) }
}
