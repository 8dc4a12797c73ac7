import { sql, type Kysely } from 'kysely'
import type { IntegrityCheckResult } from '../dialect.js'
import { quoteIdentifier } from '../sql-identifier.js'

/** How many problems a check's detail spells out. */
const PROBLEMS_SHOWN = 10

/**
 * PostgreSQL checks structure and constraints as it writes; what can still go wrong is a foreign
 * key bypassed by disabled triggers (`session_replication_role = replica`, a bulk load). This
 * re-checks every foreign key of the current schema: child rows whose key is set and has no
 * parent row.
 */
export async function checkPostgresIntegrity(db: Kysely<any>): Promise<IntegrityCheckResult[]> {
  const { rows: keys } = await sql<{
    name: string
    child: string
    parent: string
    child_cols: string[]
    parent_cols: string[]
  }>`
    select c.conname as name, ch.relname as child, pa.relname as parent,
           array(select a.attname from unnest(c.conkey) with ordinality k(n, i)
                   join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n order by k.i)::text[] as child_cols,
           array(select a.attname from unnest(c.confkey) with ordinality k(n, i)
                   join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n order by k.i)::text[] as parent_cols
      from pg_constraint c
      join pg_class ch on ch.oid = c.conrelid
      join pg_class pa on pa.oid = c.confrelid
     where c.contype = 'f' and ch.relnamespace = (select oid from pg_namespace where nspname = current_schema())
     order by ch.relname, c.conname`.execute(db)
  const problems: string[] = []
  for (const key of keys) {
    const notNull = key.child_cols.map((col) => `c.${quoteIdentifier(col)} is not null`).join(' and ')
    const matches = key.child_cols
      .map((col, i) => `p.${quoteIdentifier(key.parent_cols[i]!)} = c.${quoteIdentifier(col)}`)
      .join(' and ')
    const { rows } = await sql<{
      n: string | number
    }>`select count(*) as n from ${sql.raw(quoteIdentifier(key.child))} c
      where ${sql.raw(notNull)} and not exists (select 1 from ${sql.raw(quoteIdentifier(key.parent))} p where ${sql.raw(matches)})`.execute(
      db,
    )
    const n = Number(rows[0]!.n)
    if (n > 0) problems.push(`${key.child}.${key.name}: ${n} row(s) refer to missing ${key.parent} rows`)
  }
  const more = problems.length - PROBLEMS_SHOWN
  return [
    {
      name: 'foreign keys',
      ok: problems.length === 0,
      detail:
        problems.length === 0
          ? `${keys.length} foreign key(s), no rows refer to missing parents`
          : problems.slice(0, PROBLEMS_SHOWN).join('; ') + (more > 0 ? `; and ${more} more` : ''),
    },
  ]
}
