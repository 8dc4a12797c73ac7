import { sql, type CompiledQuery, type DatabaseConnection, type Driver, type QueryResult } from 'kysely'
import type { DialectName, ScriptMigration } from '../dialect/index.js'
import { scriptDialect } from '../dialect/index.js'
import { loadMigration, resolveMigrationName, type MigrationFile } from './migration-source.js'

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
      set: file.set,
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

/** The migrations a script covers, and which way. */
export interface ScriptPlan {
  readonly direction: 'up' | 'down'
  /** In the order the script runs them: oldest first going up, newest first going down. */
  readonly files: readonly MigrationFile[]
}

/**
 * Picks the migrations for a script from the database state `from` to the state `to`, each a
 * migration name (the newest one applied in that state) or `0` (nothing applied).
 * `from` defaults to `0`, `to` to the newest file. When `from` is newer than `to` the script
 * goes down, reverting the migrations after `to` up to and including `from`.
 */
export function planScript(
  files: readonly MigrationFile[],
  range: { from?: string | 0; to?: string | 0 } = {},
): ScriptPlan {
  const names = files.map((f) => f.name)
  const position = (name: string | 0 | undefined, fallback: number): number => {
    if (name === undefined) return fallback
    if (name === 0 || name === '0') return 0
    return names.indexOf(resolveMigrationName(names, name)) + 1
  }
  const from = position(range.from, 0)
  const to = position(range.to, files.length)
  return to >= from
    ? { direction: 'up', files: files.slice(from, to) }
    : { direction: 'down', files: files.slice(to, from).reverse() }
}
