import { unlinkSync } from 'node:fs'
import { hostname } from 'node:os'
import { randomUUID } from 'node:crypto'
import { sql, type Kysely } from 'kysely'
import type { AuraDialect } from '../dialect/index.js'
import { MigrationError } from '../errors.js'
import { defaultMigrationsDir } from '../paths.js'
import { compileMigrations } from './migration-script.js'
import { discoverMigrations, loadMigration, type MigrationFile } from './migration-source.js'

/** The history table owned by the engine. */
export const HISTORY_TABLE = 'aura_migrations'

/**
 * The tables the engine keeps beside the schema (docs/schema.md, "Migration engine tables"): the history
 * and, on SQLite, the lock row. No migration creates them.
 */
export const BOOKKEEPING_TABLES: readonly string[] = [HISTORY_TABLE, 'aura_migration_lock']

export interface AppliedMigration {
  readonly name: string
  readonly appliedAt: Date
  readonly checksum: string
  readonly executionMs: number
}

export interface DriftEntry {
  readonly name: string
  readonly problem: 'changed' | 'missing'
  /** The checksum recorded when the migration was applied. */
  readonly expected: string
  /** The checksum of the file now, or null when the file is gone. */
  readonly actual: string | null
}

export interface MigrationStatus {
  readonly dialect: 'sqlite' | 'postgres'
  readonly database: string
  readonly current: string | null
  readonly applied: readonly AppliedMigration[]
  readonly pending: readonly string[]
  readonly drift: readonly DriftEntry[]
}

export interface MigrationListEntry {
  readonly name: string
  readonly state: 'applied' | 'pending'
  readonly appliedAt: Date | null
  readonly checksum: 'ok' | 'changed' | 'missing'
}

/** One step of a run, as in Kysely's migration result set. */
export interface MigrationResult {
  readonly name: string
  readonly direction: 'up' | 'down'
  readonly status: 'success' | 'error' | 'not-executed'
  readonly ms: number
  /** The data-loss steps a generated migration declares (`export const dataLoss`), when it ran up. */
  readonly dataLoss?: readonly string[]
}

export interface MigrationRun {
  readonly results: readonly MigrationResult[]
  /** Set when a step failed: that step and every later one did not apply. */
  readonly error?: MigrationError
  /** Dry run only: the SQL each step would run, nothing was changed. */
  readonly sql?: readonly { name: string; direction: 'up' | 'down'; statements: readonly string[] }[]
}

export interface MigratorOptions {
  /** Directory of the migration files; the package's own `migrations/` by default. */
  readonly migrationsDir?: string
  /** How long to wait for another runner's lock before giving up (default 60 s). */
  readonly lockTimeoutMs?: number
}

/**
 * The migration engine (docs/migrations.md): checksummed history, drift refusal, one transaction per
 * migration, a lock that serialises runners, rollback to any target and dry runs.
 */
export class Migrator {
  readonly #dialect: AuraDialect
  readonly #dir: string
  readonly #lockTimeoutMs: number

  constructor(dialect: AuraDialect, options: MigratorOptions = {}) {
    this.#dialect = dialect
    this.#dir = options.migrationsDir ?? defaultMigrationsDir()
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 60_000
  }

  get migrationsDir(): string {
    return this.#dir
  }

  /** The migration files known to the code, in order. */
  files(): MigrationFile[] {
    return discoverMigrations(this.#dir)
  }

  /** The history as recorded in the database, oldest first (empty when there is no history table). */
  async history(): Promise<AppliedMigration[]> {
    if (!(await this.#dialect.hasTable(HISTORY_TABLE))) return []
    const rows = await this.#db
      .selectFrom(HISTORY_TABLE)
      .select(['name', 'checksum', 'applied_at', 'execution_ms'])
      .orderBy('name')
      .execute()
    return rows.map((row) => ({
      name: row.name as string,
      checksum: row.checksum as string,
      appliedAt: this.#dialect.decode('timestamp', row.applied_at) as Date,
      executionMs: Number(row.execution_ms),
    }))
  }

  /** Current migration, applied, pending and drift: what `aura-db status` prints. */
  async status(): Promise<MigrationStatus> {
    const files = this.files()
    const applied = await this.history()
    const appliedNames = new Set(applied.map((m) => m.name))
    return {
      dialect: this.#dialect.name,
      database: this.#dialect.location,
      current: applied.at(-1)?.name ?? null,
      applied,
      pending: files.filter((f) => !appliedNames.has(f.name)).map((f) => f.name),
      drift: findDrift(files, applied),
    }
  }

  /** Every migration known to code or database, with its state and checksum verdict. */
  async list(): Promise<MigrationListEntry[]> {
    const files = this.files()
    const applied = await this.history()
    const byName = new Map(applied.map((m) => [m.name, m]))
    const fileByName = new Map(files.map((f) => [f.name, f]))
    const names = [...new Set([...files.map((f) => f.name), ...applied.map((m) => m.name)])].sort()
    return names.map((name) => {
      const record = byName.get(name)
      const file = fileByName.get(name)
      return {
        name,
        state: record ? 'applied' : 'pending',
        appliedAt: record?.appliedAt ?? null,
        checksum: !file ? 'missing' : record && record.checksum !== file.checksum ? 'changed' : 'ok',
      }
    })
  }

  /**
   * Applies pending migrations, oldest first, up to and including `to`.
   * 1. Takes the migration lock (waits for another runner; takes over a crashed one's).
   * 2. Reads the history under the lock and refuses on drift or on a pending migration older
   *    than an applied one.
   * 3. Runs each migration and its history row in one transaction; stops at the first failure.
   */
  async migrate(options: { to?: string; dryRun?: boolean } = {}): Promise<MigrationRun> {
    const files = this.files()
    if (options.to !== undefined && !files.some((f) => f.name === options.to)) {
      throw new MigrationError(`There is no migration named ${options.to}.`)
    }
    const plan = (applied: readonly AppliedMigration[]) => {
      assertNoDrift(files, applied)
      const appliedNames = new Set(applied.map((m) => m.name))
      const last = applied.at(-1)?.name
      const pending = files.filter((f) => !appliedNames.has(f.name))
      const early = pending.find((f) => last !== undefined && f.name < last)
      if (early) {
        throw new MigrationError(
          `Migration ${early.name} is older than the applied ${last} but was never applied; ` +
            `refusing to guess the order. Rename it to a newer timestamp.`,
        )
      }
      const end =
        options.to === undefined ? pending.length : pending.findIndex((f) => f.name === options.to) + 1
      return pending.slice(0, end)
    }
    if (options.dryRun) return this.#dryRun(plan(await this.history()), 'up')
    return this.#locked(async () => {
      await this.#ensureHistoryTable()
      return this.#run(plan(await this.history()), 'up')
    })
  }

  /**
   * Reverts applied migrations newest first, each in its own transaction: everything after
   * `to` (a migration name), all of them for `0`, the newest one when `to` is omitted.
   */
  async rollback(options: { to?: string | 0; dryRun?: boolean } = {}): Promise<MigrationRun> {
    const files = this.files()
    const plan = (applied: readonly AppliedMigration[]) => {
      assertNoDrift(files, applied)
      let keep: number
      if (options.to === undefined) keep = Math.max(applied.length - 1, 0)
      else if (options.to === 0 || options.to === '0') keep = 0
      else {
        keep = applied.findIndex((m) => m.name === options.to) + 1
        if (keep === 0)
          throw new MigrationError(`${options.to} is not an applied migration; nothing to roll back to.`)
      }
      const byName = new Map(files.map((f) => [f.name, f]))
      return applied
        .slice(keep)
        .reverse()
        .map((m) => byName.get(m.name)!)
    }
    if (options.dryRun) return this.#dryRun(plan(await this.history()), 'down')
    return this.#locked(async () => this.#run(plan(await this.history()), 'down'))
  }

  /**
   * Deletes the newest migration file, under the migration lock so no runner applies it
   * meanwhile, when this database has not applied it. Refuses with a MigrationError otherwise.
   */
  async removeNewest(): Promise<MigrationFile> {
    return this.#locked(async () => {
      const newest = this.files().at(-1)
      if (!newest) throw new MigrationError(`There is no migration file in ${this.#dir} to remove.`)
      if ((await this.history()).some((m) => m.name === newest.name)) {
        throw new MigrationError(
          `Refusing to remove ${newest.name}: it is applied to ${this.#dialect.location}. ` +
            `Roll it back first (aura-db rollback), or add a new migration that undoes it.`,
        )
      }
      unlinkSync(newest.path)
      return newest
    })
  }

  get #db(): Kysely<any> {
    return this.#dialect.kysely
  }

  async #locked<T>(work: () => Promise<T>): Promise<T> {
    const lock = await this.#dialect.acquireMigrationLock(
      `${hostname()}:${process.pid}:${randomUUID()}`,
      this.#lockTimeoutMs,
    )
    try {
      return await work()
    } finally {
      await lock.release()
    }
  }

  async #ensureHistoryTable(): Promise<void> {
    await this.#db.schema
      .createTable(HISTORY_TABLE)
      .ifNotExists()
      .addColumn('name', 'varchar(255)', (col) => col.primaryKey())
      .addColumn('checksum', 'varchar(64)', (col) => col.notNull())
      .addColumn('applied_at', sql.raw(this.#dialect.columnType('timestamp')), (col) => col.notNull())
      .addColumn('execution_ms', 'integer', (col) => col.notNull())
      .execute()
  }

  async #run(steps: readonly MigrationFile[], direction: 'up' | 'down'): Promise<MigrationRun> {
    const results: MigrationResult[] = []
    for (const [i, file] of steps.entries()) {
      const started = performance.now()
      try {
        const mod = await loadMigration(file)
        await this.#dialect.migrationTransaction(async (trx) => {
          await mod[direction](trx, { dialect: this.#dialect.name, sql })
          if (direction === 'up') {
            await trx
              .insertInto(HISTORY_TABLE)
              .values({
                name: file.name,
                checksum: file.checksum,
                applied_at: this.#dialect.encode('timestamp', new Date()),
                execution_ms: Math.round(performance.now() - started),
              })
              .execute()
          } else {
            await trx.deleteFrom(HISTORY_TABLE).where('name', '=', file.name).execute()
          }
        })
        const dataLoss = direction === 'up' && Array.isArray(mod.dataLoss) ? mod.dataLoss : []
        results.push({
          name: file.name,
          direction,
          status: 'success',
          ms: Math.round(performance.now() - started),
          ...(dataLoss.length > 0 ? { dataLoss } : {}),
        })
      } catch (cause) {
        results.push({
          name: file.name,
          direction,
          status: 'error',
          ms: Math.round(performance.now() - started),
        })
        for (const rest of steps.slice(i + 1))
          results.push({ name: rest.name, direction, status: 'not-executed', ms: 0 })
        const error =
          cause instanceof MigrationError
            ? cause
            : new MigrationError(
                `Migration ${file.name} (${direction}) failed and was rolled back: ${(cause as Error).message}`,
                {
                  cause,
                },
              )
        return { results, error }
      }
    }
    return { results }
  }

  async #dryRun(steps: readonly MigrationFile[], direction: 'up' | 'down'): Promise<MigrationRun> {
    const compiled = await compileMigrations(this.#dialect.name, steps, direction)
    return {
      results: steps.map((f) => ({ name: f.name, direction, status: 'not-executed' as const, ms: 0 })),
      sql: compiled.map((m) => ({ name: m.name, direction, statements: m.statements })),
    }
  }
}

function findDrift(files: readonly MigrationFile[], applied: readonly AppliedMigration[]): DriftEntry[] {
  const byName = new Map(files.map((f) => [f.name, f]))
  const drift: DriftEntry[] = []
  for (const m of applied) {
    const file = byName.get(m.name)
    if (!file) drift.push({ name: m.name, problem: 'missing', expected: m.checksum, actual: null })
    else if (file.checksum !== m.checksum) {
      drift.push({ name: m.name, problem: 'changed', expected: m.checksum, actual: file.checksum })
    }
  }
  return drift
}

function assertNoDrift(files: readonly MigrationFile[], applied: readonly AppliedMigration[]): void {
  const drift = findDrift(files, applied)
  if (drift.length === 0) return
  const lines = drift.map((d) =>
    d.problem === 'missing'
      ? `${d.name}: applied (checksum ${d.expected}) but its file is missing`
      : `${d.name}.ts: changed since it was applied (recorded ${d.expected}, file now ${d.actual})`,
  )
  throw new MigrationError(
    `Refusing to migrate: applied migrations drifted from their files:\n  ${lines.join('\n  ')}\n` +
      `Restore the original files; never edit an applied migration, add a new one instead.`,
  )
}
