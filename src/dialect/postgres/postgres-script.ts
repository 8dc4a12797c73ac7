import { Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, type Driver } from 'kysely'
import type { ScriptDialect, ScriptMigration } from '../dialect.js'
import { inlineParameters, quoteString } from '../script-literals.js'

function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL'
  if (typeof value === 'number' || typeof value === 'bigint') return String(value)
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (value instanceof Date) return `${quoteString(value.toISOString())}::timestamptz`
  return quoteString(String(value))
}

/** A dollar-quote tag that does not occur in the body, so the body needs no escaping. */
function dollarQuote(body: string): string {
  let tag = '$aura$'
  for (let n = 1; body.includes(tag); n++) tag = `$aura${n}$`
  return `${tag}${body}${tag}`
}

/**
 * PostgreSQL scripts are idempotent: each migration is a `DO` block that runs its statements
 * (with EXECUTE, so no statement is parsed as PL/pgSQL) only when the history table says it has
 * not been applied (up) or has been (down). A DO block is one transaction, as in the engine.
 */
export const postgresScriptDialect: ScriptDialect = {
  name: 'postgres',
  createKysely(driver: Driver) {
    return new Kysely<any>({
      dialect: {
        createDriver: () => driver,
        createQueryCompiler: () => new PostgresQueryCompiler(),
        createAdapter: () => new PostgresAdapter(),
        createIntrospector: (db) => new PostgresIntrospector(db),
      },
    })
  },
  inline(sql, parameters) {
    return inlineParameters(
      sql,
      parameters,
      (rest) => {
        const match = /^\$(\d+)/.exec(rest)
        return match ? { index: Number(match[1]) - 1, length: match[0].length } : null
      },
      literal,
    )
  },
  render(migrations: readonly ScriptMigration[]) {
    const lines = [
      '-- Aura Data migration script for PostgreSQL. Idempotent: safe to run more than once (psql -f script.sql).',
      // Declared as the engine declares it (src/migration/migrator.ts), and a history table
      // older than migration sets gains the column as the engine adds it.
      "CREATE TABLE IF NOT EXISTS aura_migrations (name varchar(255) NOT NULL, checksum varchar(64) NOT NULL, applied_at timestamptz NOT NULL, execution_ms integer NOT NULL, migration_set varchar(50) DEFAULT 'aura-data' NOT NULL, CONSTRAINT aura_migrations_pkey PRIMARY KEY (migration_set, name));",
      "ALTER TABLE aura_migrations ADD COLUMN IF NOT EXISTS migration_set varchar(50) DEFAULT 'aura-data' NOT NULL;",
    ]
    for (const m of migrations) {
      const where = `migration_set = ${literal(m.set)} AND name = ${literal(m.name)}`
      const body = [
        `BEGIN`,
        `  IF ${m.direction === 'up' ? 'NOT ' : ''}EXISTS (SELECT 1 FROM aura_migrations WHERE ${where}) THEN`,
        ...m.statements.map((statement) => `    EXECUTE ${dollarQuote(statement)};`),
        m.direction === 'up'
          ? `    INSERT INTO aura_migrations (name, checksum, applied_at, execution_ms, migration_set) VALUES (${literal(m.name)}, ${literal(m.checksum)}, now(), 0, ${literal(m.set)});`
          : `    DELETE FROM aura_migrations WHERE ${where};`,
        `  END IF;`,
        `END`,
      ].join('\n')
      lines.push('', `-- ${m.direction}: ${m.name}`, `DO ${dollarQuote(body)};`)
    }
    return lines.join('\n') + '\n'
  },
}
