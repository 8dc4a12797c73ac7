import { Kysely, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, type Driver } from 'kysely'
import type { ScriptDialect, ScriptMigration } from '../dialect.js'
import { inlineParameters, quoteString } from '../script-literals.js'

function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL'
  if (typeof value === 'number' || typeof value === 'bigint') return String(value)
  if (typeof value === 'boolean') return value ? '1' : '0'
  if (value instanceof Date) return quoteString(value.toISOString())
  return quoteString(String(value))
}

const NOW = `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`

/**
 * SQLite scripts: every migration in its own `BEGIN IMMEDIATE … COMMIT` with its history row.
 * SQLite has no procedural blocks to guard a migration with, so the script must run exactly once
 * against a database at the script's starting point; it says so in its header.
 */
export const sqliteScriptDialect: ScriptDialect = {
  name: 'sqlite',
  createKysely(driver: Driver) {
    return new Kysely<any>({
      dialect: {
        createDriver: () => driver,
        createQueryCompiler: () => new SqliteQueryCompiler(),
        createAdapter: () => new SqliteAdapter(),
        createIntrospector: (db) => new SqliteIntrospector(db),
      },
    })
  },
  inline(sql, parameters) {
    return inlineParameters(
      sql,
      parameters,
      (rest, ordinal) => (rest[0] === '?' ? { index: ordinal, length: 1 } : null),
      literal,
    )
  },
  render(migrations: readonly ScriptMigration[]) {
    const lines = [
      '-- Aura Data migration script for SQLite.',
      '-- Run it exactly once, with -bail, e.g. `sqlite3 -bail aura.db < script.sql`, on a database whose',
      "-- history matches the script's starting point: SQLite has no procedural blocks, so statements are",
      '-- not guarded. Without -bail, sqlite3 goes on after a failed statement and commits the rest.',
      // As the engine does (SqliteAuraDialect.migrationTransaction): foreign keys off, so that a
      // table rebuild does not cascade into child tables, and checked before each commit.
      'PRAGMA foreign_keys = OFF;',
      'CREATE TEMP TABLE IF NOT EXISTS aura_foreign_key_check (violations integer CHECK (violations = 0));',
      // Declared exactly as the engine declares it, so a scripted database introspects like a migrated one.
      `CREATE TABLE IF NOT EXISTS aura_migrations (name varchar(255) NOT NULL, checksum varchar(64) NOT NULL, applied_at text NOT NULL, execution_ms integer NOT NULL, migration_set varchar(50) DEFAULT 'aura-data' NOT NULL, CONSTRAINT aura_migrations_pkey PRIMARY KEY (migration_set, name));`,
    ]
    for (const m of migrations) {
      lines.push('', `-- ${m.direction}: ${m.name}`, 'BEGIN IMMEDIATE;')
      for (const statement of m.statements) lines.push(`${statement};`)
      lines.push(
        '-- Fails (and with -bail stops before COMMIT) when a row points at no parent.',
        'INSERT INTO aura_foreign_key_check SELECT count(*) FROM pragma_foreign_key_check;',
        m.direction === 'up'
          ? historyInsert(m)
          : // Names are unique across sets (the engine refuses a duplicate), so the name is the key.
            `DELETE FROM aura_migrations WHERE name = ${literal(m.name)};`,
        'COMMIT;',
      )
    }
    return lines.join('\n') + '\n'
  },
}

/**
 * The history row of a migration. A package migration leaves `migration_set` to its default:
 * SQLite has no `ADD COLUMN IF NOT EXISTS`, so the script cannot upgrade a history table older
 * than migration sets, and this way it still runs on one (the engine adds the column on its next
 * `migrate`). An application migration needs the column.
 */
function historyInsert(m: ScriptMigration): string {
  const values = `${literal(m.name)}, ${literal(m.checksum)}, ${NOW}, 0`
  return m.set === 'aura-data'
    ? `INSERT INTO aura_migrations (name, checksum, applied_at, execution_ms) VALUES (${values});`
    : `INSERT INTO aura_migrations (name, checksum, applied_at, execution_ms, migration_set) VALUES (${values}, ${literal(m.set)});`
}
