import type { Database } from 'better-sqlite3'
import type { IntrospectedTable, SchemaSnapshot } from '../introspector.js'
import { quoteIdentifier } from '../sql-identifier.js'

/** The columns of `table` as `pragma table_info` reports them, physical type in upper case. */
export function sqliteColumns(
  db: Database,
  table: string,
): { name: string; type: string; notNull: boolean; defaultValue: string | null; primaryKey: boolean }[] {
  // Quoted, not bound: pragmas take no parameters.
  const rows = db.prepare(`pragma table_info(${quoteIdentifier(table)})`).all() as {
    name: string
    type: string
    notnull: number
    dflt_value: string | null
    pk: number
  }[]
  return rows.map((col) => ({
    name: col.name,
    type: col.type.toUpperCase(),
    // SQLite reports an INTEGER PRIMARY KEY as nullable; it is a rowid alias and never NULL.
    notNull: col.notnull === 1 || col.pk > 0,
    defaultValue: col.dflt_value,
    primaryKey: col.pk > 0,
  }))
}

/** Reads the live schema of a SQLite database from `sqlite_schema` and the table pragmas. */
export function introspectSqlite(db: Database): SchemaSnapshot {
  const tables = db
    .prepare(
      `select name, sql from sqlite_schema where type = 'table' and name not like 'sqlite_%' order by name`,
    )
    .all() as { name: string; sql: string }[]
  // `pragma table_list` (SQLite 3.37+) tells virtual tables and their shadow tables apart.
  const roles = new Map(
    (
      db.prepare(`select name, type from pragma_table_list where schema = 'main'`).all() as {
        name: string
        type: string
      }[]
    )
      .filter((t) => t.type === 'virtual' || t.type === 'shadow')
      .map((t) => [t.name, t.type as 'virtual' | 'shadow']),
  )
  return {
    tables: tables.map(({ name, sql }): IntrospectedTable => {
      const role = roles.get(name)
      const quoted = quoteIdentifier(name)
      const columns = sqliteColumns(db, name).map(({ notNull, ...col }) => ({ ...col, nullable: !notNull }))
      const indexes = (
        db.prepare(`pragma index_list(${quoted})`).all() as { name: string; unique: number; origin: string }[]
      )
        // Automatic indexes behind PRIMARY KEY / UNIQUE constraints are not named by the schema.
        .filter((ix) => ix.origin === 'c')
        .map((ix) => ({
          name: ix.name,
          unique: ix.unique === 1,
          columns: (
            db.prepare(`pragma index_info(${quoteIdentifier(ix.name)})`).all() as { name: string }[]
          ).map((c) => c.name),
        }))
        .sort((a, b) => a.name.localeCompare(b.name))
      const fkRows = db.prepare(`pragma foreign_key_list(${quoted})`).all() as {
        id: number
        table: string
        from: string
        to: string
        on_delete: string
      }[]
      const byId = new Map<
        number,
        { columns: string[]; referencedColumns: string[]; table: string; onDelete: string }
      >()
      for (const fk of fkRows) {
        const entry = byId.get(fk.id) ?? {
          columns: [],
          referencedColumns: [],
          table: fk.table,
          onDelete: fk.on_delete,
        }
        entry.columns.push(fk.from)
        entry.referencedColumns.push(fk.to)
        byId.set(fk.id, entry)
      }
      const foreignKeys = [...byId.values()]
        .map((fk) => ({
          columns: fk.columns,
          referencedTable: fk.table,
          referencedColumns: fk.referencedColumns,
          onDelete: fk.onDelete.toLowerCase(),
        }))
        .sort((a, b) => a.columns.join().localeCompare(b.columns.join()))
      return { name, columns, indexes, foreignKeys, checks: extractChecks(sql), ...(role ? { role } : {}) }
    }),
  }
}

/** SQLite keeps CHECK constraints only in the CREATE TABLE text; pull out each `check (...)` body. */
function extractChecks(createSql: string): string[] {
  const checks: string[] = []
  const lower = createSql.toLowerCase()
  let from = 0
  for (;;) {
    const at = lower.indexOf('check (', from)
    if (at < 0) break
    let depth = 0
    let end = at + 6
    for (; end < createSql.length; end++) {
      if (createSql[end] === '(') depth++
      else if (createSql[end] === ')' && --depth === 0) break
    }
    checks.push(
      createSql
        .slice(at + 7, end)
        .replace(/\s+/g, ' ')
        .trim(),
    )
    from = end
  }
  return checks.sort()
}
