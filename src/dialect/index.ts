import { usage } from '../errors.js'
import type { AuraDialect, DialectName, ScriptDialect } from './dialect.js'
import { PostgresAuraDialect } from './postgres/postgres-dialect.js'
import { postgresScriptDialect } from './postgres/postgres-script.js'
import { SqliteAuraDialect } from './sqlite/sqlite-dialect.js'
import { sqliteScriptDialect } from './sqlite/sqlite-script.js'

export type { AuraDialect, DialectName, SchemaSnapshot, ScriptDialect, ScriptMigration } from './dialect.js'

/** The database URL used when none is given: `AURA_DATABASE_URL`, else `sqlite:./data/aura.db`. */
export function defaultDatabaseUrl(): string {
  return process.env.AURA_DATABASE_URL || 'sqlite:./data/aura.db'
}

export type ParsedUrl =
  { dialect: 'sqlite'; path: string } | { dialect: 'postgres'; connectionString: string }

/** Parses `sqlite:<path>`, `sqlite::memory:`, `sqlite://<path>` or `postgres(ql)://…`; anything else is a UsageError. */
export function parseDatabaseUrl(url: string): ParsedUrl {
  if (/^postgres(ql)?:\/\//i.test(url)) return { dialect: 'postgres', connectionString: url }
  const match = /^sqlite:(?:\/\/)?(.+)$/i.exec(url)
  if (match?.[1]) return { dialect: 'sqlite', path: match[1] }
  throw usage.badUrl(url)
}

/** Opens the dialect for a URL. */
export function createDialect(url: string): AuraDialect {
  const parsed = parseDatabaseUrl(url)
  return parsed.dialect === 'sqlite'
    ? new SqliteAuraDialect({ path: parsed.path })
    : new PostgresAuraDialect({ connectionString: parsed.connectionString })
}

const scriptDialects: Record<DialectName, ScriptDialect> = {
  sqlite: sqliteScriptDialect,
  postgres: postgresScriptDialect,
}

/** The script tools of a dialect: compile migrations to SQL without a database. */
export function scriptDialect(name: DialectName): ScriptDialect {
  return scriptDialects[name]
}
