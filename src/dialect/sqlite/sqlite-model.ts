import Database from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { quoteIdentifier } from '../sql-identifier.js'
import { sqliteColumns } from './sqlite-introspect.js'
import type { ModelIndex, ModelTable, SchemaModel, ScratchModel } from '../schema-model.js'

/** Reads the model of every ordinary table (not FTS5 virtual/shadow tables, not the engine's bookkeeping). */
export function readSqliteModel(db: Database.Database, ignore: readonly string[] = []): SchemaModel {
  const special = new Set(
    (
      db.prepare(`select name, type from pragma_table_list where schema = 'main'`).all() as {
        name: string
        type: string
      }[]
    )
      .filter((t) => t.type === 'virtual' || t.type === 'shadow')
      .map((t) => t.name),
  )
  const rows = db
    .prepare(`select type, name, tbl_name, sql from sqlite_schema where sql is not null order by name`)
    .all() as { type: string; name: string; tbl_name: string; sql: string }[]
  const tables = new Map<string, ModelTable>()
  for (const row of rows) {
    if (row.type !== 'table' || row.name.startsWith('sqlite_') || special.has(row.name)) continue
    if (ignore.includes(row.name)) continue
    const quoted = quoteIdentifier(row.name)
    const columns = sqliteColumns(db, row.name)
    const indexes = (
      db.prepare(`pragma index_list(${quoted})`).all() as {
        name: string
        unique: number
        origin: string
        partial: number
      }[]
    )
      .filter((ix) => ix.origin === 'c')
      .map((ix): ModelIndex => {
        const stored = rows.find((r) => r.type === 'index' && r.name === ix.name)?.sql ?? ''
        const keys = (
          db.prepare(`pragma index_xinfo(${quoteIdentifier(ix.name)})`).all() as {
            name: string | null
            desc: number
            key: number
          }[]
        ).filter((k) => k.key === 1)
        return {
          name: ix.name,
          columns: keys.map((k) => `${k.name ?? '<expression>'}${k.desc ? ' desc' : ''}`),
          unique: ix.unique === 1,
          where: ix.partial === 1 ? normaliseWhere(stored) : null,
          sql: stored,
        }
      })
      .sort((a, b) => a.name.localeCompare(b.name))
    const fks = new Map<
      number,
      { columns: string[]; table: string; referencedColumns: string[]; onDelete: string }
    >()
    for (const fk of db.prepare(`pragma foreign_key_list(${quoted})`).all() as {
      id: number
      table: string
      from: string
      to: string
      on_delete: string
    }[]) {
      const entry = fks.get(fk.id) ?? {
        columns: [],
        table: fk.table,
        referencedColumns: [],
        onDelete: fk.on_delete.toLowerCase(),
      }
      entry.columns.push(fk.from)
      entry.referencedColumns.push(fk.to)
      fks.set(fk.id, entry)
    }
    tables.set(row.name, {
      name: row.name,
      columns,
      checks: namedChecks(row.sql),
      indexes,
      foreignKeys: [...fks.values()].sort((a, b) => a.columns.join().localeCompare(b.columns.join())),
      triggers: rows.filter((r) => r.type === 'trigger' && r.tbl_name === row.name).map((r) => r.sql),
      sql: row.sql,
    })
  }
  return { tables }
}

/** The WHERE of a stored CREATE INDEX, spelled so that `"is_deleted" = 0` and `is_deleted = 0` compare equal. */
function normaliseWhere(createIndex: string): string | null {
  const at = createIndex.search(/\swhere\s/i)
  if (at < 0) return null
  return createIndex
    .slice(at)
    .replace(/^\s*where\s+/i, '')
    .replace(/"/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase()
}

/**
 * SQLite keeps CHECK constraints only in the CREATE TABLE text: pull out each
 * `constraint "name" check (…)` with its balanced parentheses. An unnamed CHECK gets a
 * positional name, so it still shows as a difference.
 */
function namedChecks(createSql: string): Map<string, string> {
  const checks = new Map<string, string>()
  const pattern = /(?:constraint\s+("(?:[^"]|"")*"|\w+)\s+)?check\s*\(/gi
  let unnamed = 0
  for (let match = pattern.exec(createSql); match; match = pattern.exec(createSql)) {
    let depth = 1
    let end = pattern.lastIndex
    for (; end < createSql.length && depth > 0; end++) {
      if (createSql[end] === '(') depth++
      else if (createSql[end] === ')') depth--
    }
    const body = createSql
      .slice(pattern.lastIndex, end - 1)
      .replace(/\s+/g, ' ')
      .trim()
    const name = match[1] ? match[1].replace(/^"|"$/g, '').replace(/""/g, '"') : `unnamed check #${++unnamed}`
    checks.set(name, body)
    pattern.lastIndex = end
  }
  return checks
}

/** A scratch in-memory SQLite database with a Kysely over it, closed by `close`. */
export function openScratchSqlite(): ScratchModel {
  const raw = new Database(':memory:')
  // As in the migrator: steps run with foreign keys off (a rebuild drops a referenced table).
  raw.pragma('foreign_keys = off')
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: raw }) })
  return { db, read: () => readSqliteModel(raw), close: () => db.destroy() }
}
