import { createDialect, defaultDatabaseUrl, type AuraDialect } from './dialect/index.js'
import { usage } from './errors.js'
import { Migrator, type MigrationRun, type MigrationStatus } from './migration/migrator.js'

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** `sqlite:<path>`, `sqlite::memory:` or `postgres://…`; default `AURA_DATABASE_URL`, else `sqlite:./data/aura.db`. */
  readonly url?: string
  /** Default actor for audit fields; a unit of work may override it. */
  readonly actor?: string | null
  /** Directory of the migration files; the package's own by default. */
  readonly migrationsDir?: string
  /** Apply pending migrations while opening (off by default: migrating is a decision). */
  readonly migrate?: boolean
}

/**
 * An open Aura Data database: the facade over one dialect, its migration engine, transactions
 * and repositories.
 */
export class AuraDatabase {
  readonly dialect: AuraDialect
  readonly migrator: Migrator
  readonly defaultActor: string | null
  #closed = false

  constructor(dialect: AuraDialect, options: OpenDatabaseOptions) {
    this.dialect = dialect
    this.defaultActor = options.actor ?? null
    this.migrator = new Migrator(
      dialect,
      options.migrationsDir ? { migrationsDir: options.migrationsDir } : {},
    )
  }

  /** Applies pending migrations (operations.md); throws the MigrationError of a failed step. */
  async migrate(options: { to?: string } = {}): Promise<MigrationRun> {
    this.assertOpen()
    const run = await this.migrator.migrate(options)
    if (run.error) throw run.error
    return run
  }

  /** Reverts migrations newest first: after `to`, all for `0`, the newest one by default. */
  async rollback(options: { to?: string | 0 } = {}): Promise<MigrationRun> {
    this.assertOpen()
    const run = await this.migrator.rollback(options)
    if (run.error) throw run.error
    return run
  }

  /** Current, applied and pending migrations and any drift. */
  status(): Promise<MigrationStatus> {
    this.assertOpen()
    return this.migrator.status()
  }

  /** Closes the connection(s). Further use is a UsageError. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.dialect.close()
  }

  /** @internal */
  assertOpen(): void {
    if (this.#closed) throw usage.closed()
  }
}

/**
 * Opens (creating when missing) a database.
 *
 * @example
 * const db = await openDatabase({ url: 'sqlite:./data/aura.db', actor: 'alice' })
 * await db.migrate()
 * await db.close()
 */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<AuraDatabase> {
  const dialect = createDialect(options.url ?? defaultDatabaseUrl())
  const db = new AuraDatabase(dialect, options)
  try {
    if (options.migrate) await db.migrate()
  } catch (error) {
    await db.close()
    throw error
  }
  return db
}
