import { sql, type CompiledQuery, type DatabaseConnection, type Driver, type QueryResult } from 'kysely'
import type { DialectName, ScriptMigration } from '../dialect/index.js'
import { scriptDialect } from '../dialect/index.js'
import { loadMigration, type MigrationFile } from './migration-source.js'

/** A driver that records every statement instead of running it; reads return no rows. */
class RecordingDriver implements Driver {
  readonly queries: CompiledQuery[] = []
  readonly #connection: DatabaseConnection = {
    executeQuery: async <R>(query: CompiledQuery): Promise<QueryResult<R>> => {
      this.queries.push(query)
      return { rows: [], numAffectedRows: 0n }
    },
    // eslint-disable-next-line require-yield
    streamQuery: async function* () {
      throw new Error('A migration script cannot stream query results')
    },
  }
  async init() {}
  async acquireConnection() {
    return this.#connection
  }
  async beginTransaction() {}
  async commitTransaction() {}
  async rollbackTransaction() {}
  async releaseConnection() {}
  async destroy() {}
}

/**
 * Compiles migrations to SQL without a database: each migration's `up` (or `down`) runs against a
 * Kysely over a recording driver with the target dialect's compiler, and the recorded statements
 * are inlined into literals. A migration that reads data to decide what to do cannot be scripted
 * faithfully (its reads return nothing); Aura Data's migrations do not read.
 */
export async function compileMigrations(
  dialect: DialectName,
  files: readonly MigrationFile[],
  direction: 'up' | 'down',
): Promise<ScriptMigration[]> {
  const tools = scriptDialect(dialect)
  const compiled: ScriptMigration[] = []
  for (const file of files) {
    const mod = await loadMigration(file)
    const driver = new RecordingDriver()
    const db = tools.createKysely(driver)
    await mod[direction](db, { dialect, sql })
    compiled.push({
      name: file.name,
      checksum: file.checksum,
      direction,
      statements: driver.queries.map((q) => tools.inline(q.sql, q.parameters)),
    })
  }
  return compiled
}

/** The complete SQL script for `files` in `direction`, for `dialect`. */
export async function generateScript(
  dialect: DialectName,
  files: readonly MigrationFile[],
  direction: 'up' | 'down',
): Promise<string> {
  return scriptDialect(dialect).render(await compileMigrations(dialect, files, direction))
}
