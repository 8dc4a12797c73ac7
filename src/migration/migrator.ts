import { unlinkSync } from 'node:fs'
import { hostname } from 'node:os'
import { basename } from 'node:path'
import { randomUUID } from 'node:crypto'
import { sql, type Kysely } from 'kysely'
import type { AuraDialect } from '../dialect/index.js'
import { MigrationError } from '../errors.js'
import { assertOwnMigrationsDir } from './migration-files.js'
import { compileMigrations } from './migration-script.js'
import {
  discoverSets,
  migrationSets,
  APP_SET,
  PACKAGE_SET,
  setRank,
  type MigrationSet,
} from './migration-sets.js'
import { loadMigration, type MigrationFile, type MigrationSetName } from './migration-source.js'

/** The history table owned by the engine. */
export const HISTORY_TABLE = 'aura_migrations'

/**
 * The tables the engine keeps beside the schema (docs/schema.md, "Migration engine tables"): the history
 * and, on SQLite, the lock row. No migration creates them.
 */
export const BOOKKEEPING_TABLES: readonly string[] = [HISTORY_TABLE, 'aura_migration_lock']

export interface AppliedMigration {
  readonly name: string
  /** The set it was applied from; `aura-data` for every row of a history older than sets. */
  readonly set: MigrationSetName
  readonly appliedAt: Date
  readonly checksum: string
  readonly executionMs: number
}

export interface DriftEntry {
  readonly name: string
  readonly set: MigrationSetName
  readonly problem: 'changed' | 'missing'
  /** The checksum recorded when the migration was applied. */
  readonly expected: string
  /** The checksum of the file now, or null when the file is gone. */
  readonly actual: string | null
}

export interface MigrationStatus {
  readonly dialect: 'sqlite' | 'postgres'
  readonly database: string
  /** The newest applied migration in apply order (the application's newest when it has one). */
  readonly current: string | null
  /** In apply order: the package's set, then the application's, each oldest first. */
  readonly applied: readonly AppliedMigration[]
  /** The names of the pending migrations, in the order `migrate` applies them. */
  readonly pending: readonly string[]
  readonly drift: readonly DriftEntry[]
  /** The same, set by set, in apply order. */
  readonly sets: readonly MigrationSetStatus[]
}

/** One set's part of a {@link MigrationStatus}. */
export interface MigrationSetStatus {
  readonly name: MigrationSetName
  readonly dir: string
  readonly current: string | null
  readonly applied: number
  readonly pending: readonly string[]
}

export interface MigrationListEntry {
  readonly name: string
  readonly set: MigrationSetName
  readonly state: 'applied' | 'pending'
  readonly appliedAt: Date | null
  readonly checksum: 'ok' | 'changed' | 'missing'
}

/** One step of a run, as in Kysely's migration result set. */
export interface MigrationResult {
  readonly name: string
  readonly set: MigrationSetName
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
  readonly sql?: readonly {
    name: string
    set: MigrationSetName
    direction: 'up' | 'down'
    statements: readonly string[]
  }[]
}

export interface MigratorOptions {
  /**
   * The application's migrations folder, applied after the package's shipped `migrations/`
   * (set `app`). A folder that is the package's `migrations/` or holds its first migration
   * (`20250101000000_InitialCreate.ts`) is a whole history instead: it replaces the package's
   * set (recorded as `aura-data`). Without it, the package's migrations alone.
   */
  readonly migrationsDir?: string
  /** How long to wait for another runner's lock before giving up (default 60 s). */
  readonly lockTimeoutMs?: number
}

/**
 * The migration engine (docs/migrations.md): checksummed history, drift refusal, one transaction per
 * migration, a lock that serialises runners, rollback to any target and dry runs, over the
 * package's migrations and the application's own (see {@link migrationSets}).
 */
export class Migrator {
  readonly #dialect: AuraDialect
  readonly #sets: readonly MigrationSet[]
  readonly #lockTimeoutMs: number

  constructor(dialect: AuraDialect, options: MigratorOptions = {}) {
    this.#dialect = dialect
    this.#sets = migrationSets(options.migrationsDir)
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 60_000
  }

  /** The folder of the last set: the application's when one is configured, else the package's (or the whole history). */
  get migrationsDir(): string {
    return this.#sets.at(-1)!.dir
  }

  /** The migration sets, in apply order. */
  get sets(): readonly MigrationSet[] {
    return this.#sets
  }

  /** The migration files known to the code, in apply order (the package's set, then the application's). */
  files(): MigrationFile[] {
    return discoverSets(this.#sets)
  }

  /**
   * The history as recorded in the database, in apply order (set by set, oldest first); empty
   * when there is no history table. A history table older than sets (no `migration_set` column,
   * e.g. a read-only file not yet migrated by this version) is read as all `aura-data`.
   */
  async history(): Promise<AppliedMigration[]> {
    if (!(await this.#dialect.hasTable(HISTORY_TABLE))) return []
    const withSet = await this.#historyHasSetColumn()
    const rows = await this.#db
      .selectFrom(HISTORY_TABLE)
      .select(['name', 'checksum', 'applied_at', 'execution_ms'])
      .$if(withSet, (query) => query.select('migration_set'))
      .execute()
    return rows
      .map((row) => ({
        name: row.name as string,
        set: ((row.migration_set as MigrationSetName | undefined) ?? PACKAGE_SET) as MigrationSetName,
        checksum: row.checksum as string,
        appliedAt: this.#dialect.decode('timestamp', row.applied_at) as Date,
        executionMs: Number(row.execution_ms),
      }))
      .sort(byApplyOrder)
  }

  /** Current migration, applied, pending and drift, in total and per set: what `aura-db status` prints. */
  async status(): Promise<MigrationStatus> {
    const files = this.files()
    const applied = await this.history()
    const appliedKeys = new Set(applied.map(key))
    const pending = files.filter((f) => !appliedKeys.has(key(f)))
    return {
      dialect: this.#dialect.name,
      database: this.#dialect.location,
      current: applied.at(-1)?.name ?? null,
      applied,
      pending: pending.map((f) => f.name),
      drift: findDrift(files, applied),
      sets: this.#sets.map((set) => {
        const mine = applied.filter((m) => m.set === set.name)
        return {
          name: set.name,
          dir: set.dir,
          current: mine.at(-1)?.name ?? null,
          applied: mine.length,
          pending: pending.filter((f) => f.set === set.name).map((f) => f.name),
        }
      }),
    }
  }

  /** Every migration known to code or database, in apply order, with its set, state and checksum verdict. */
  async list(): Promise<MigrationListEntry[]> {
    const files = this.files()
    const applied = await this.history()
    const recorded = new Map(applied.map((m) => [key(m), m]))
    const fileByKey = new Map(files.map((f) => [key(f), f]))
    const entries = [...new Map([...files, ...applied].map((m) => [key(m), m])).values()].sort(byApplyOrder)
    return entries.map(({ name, set }) => {
      const record = recorded.get(key({ name, set }))
      const file = fileByKey.get(key({ name, set }))
      return {
        name,
        set,
        state: record ? 'applied' : 'pending',
        appliedAt: record?.appliedAt ?? null,
        checksum: !file ? 'missing' : record && record.checksum !== file.checksum ? 'changed' : 'ok',
      }
    })
  }

  /**
   * Applies pending migrations in apply order (the package's set, then the application's, each
   * oldest first), up to and including `to`; with `only`, just those of the named ones that are pending.
   * 1. Takes the migration lock (waits for another runner; takes over a crashed one's).
   * 2. Creates the history table, or adds `migration_set` to one older than sets.
   * 3. Reads the history under the lock and refuses on drift or on a pending migration older
   *    than an applied one of its own set (a new package migration after applied application
   *    ones is in order: it is in another set).
   * 4. Runs each migration and its history row in one transaction; stops at the first failure.
   */
  async migrate(
    options: { to?: string; only?: readonly string[]; dryRun?: boolean } = {},
  ): Promise<MigrationRun> {
    const files = this.files()
    for (const name of [...(options.to === undefined ? [] : [options.to]), ...(options.only ?? [])]) {
      if (!files.some((f) => f.name === name))
        throw new MigrationError(`There is no migration named ${name}.`)
    }
    const plan = (applied: readonly AppliedMigration[]) => {
      assertNoDrift(files, applied)
      const appliedKeys = new Set(applied.map(key))
      const pending = files.filter((f) => !appliedKeys.has(key(f)))
      for (const file of pending) {
        const last = applied.filter((m) => m.set === file.set).at(-1)?.name
        if (last !== undefined && file.name < last) {
          throw new MigrationError(
            `Migration ${file.name} (${file.set}) is older than the applied ${last} of the same set but was never applied; ` +
              `refusing to guess the order. Rename it to a newer timestamp.`,
          )
        }
      }
      if (options.only !== undefined) return pending.filter((f) => options.only!.includes(f.name))
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
   * Reverts applied migrations in the reverse of the apply order (the application's newest
   * first, then the package's), each in its own transaction: everything after `to` (a migration
   * name of either set), all of them for `0`, the newest one when `to` is omitted.
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
      const byKey = new Map(files.map((f) => [key(f), f]))
      return applied
        .slice(keep)
        .reverse()
        .map((m) => byKey.get(key(m))!)
    }
    if (options.dryRun) return this.#dryRun(plan(await this.history()), 'down')
    return this.#locked(async () => {
      if (await this.#dialect.hasTable(HISTORY_TABLE)) await this.#upgradeHistoryTable()
      return this.#run(plan(await this.history()), 'down')
    })
  }

  /**
   * Deletes the newest migration file of the last set (the application's, or the whole
   * history), never one of the package's when an application set follows it, under the
   * migration lock so no runner applies it meanwhile, when this database has not applied it.
   * Refuses with a MigrationError otherwise, and with a UsageError inside `node_modules`.
   */
  async removeNewest(): Promise<MigrationFile> {
    const last = this.#sets.at(-1)!
    assertOwnMigrationsDir(last.dir)
    return this.#locked(async () => {
      const newest = this.files()
        .filter((f) => f.set === last.name)
        .at(-1)
      if (!newest) throw new MigrationError(`There is no migration file in ${last.dir} to remove.`)
      if ((await this.history()).some((m) => key(m) === key(newest))) {
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

  /**
   * Creates the history table keyed by (migration_set, name), or upgrades one older than sets.
   * `migration_set` comes last so that a created and an upgraded table have the same columns.
   */
  async #ensureHistoryTable(): Promise<void> {
    await this.#db.schema
      .createTable(HISTORY_TABLE)
      .ifNotExists()
      .addColumn('name', 'varchar(255)', (col) => col.notNull())
      .addColumn('checksum', 'varchar(64)', (col) => col.notNull())
      .addColumn('applied_at', sql.raw(this.#dialect.columnType('timestamp')), (col) => col.notNull())
      .addColumn('execution_ms', 'integer', (col) => col.notNull())
      .addColumn('migration_set', 'varchar(50)', (col) => col.notNull().defaultTo(PACKAGE_SET))
      .addPrimaryKeyConstraint(`${HISTORY_TABLE}_pkey`, ['migration_set', 'name'])
      .execute()
    await this.#upgradeHistoryTable()
  }

  /**
   * Adds `migration_set` to a history table written before sets existed, every row becoming
   * `aura-data` (all it could hold). Its primary key stays on `name` alone: rebuilding the
   * table that records what was applied is a risk taken for nothing, since {@link discoverSets}
   * refuses a name present in two sets anyway. Runs under the migration lock.
   */
  async #upgradeHistoryTable(): Promise<void> {
    if (await this.#historyHasSetColumn()) return
    await this.#db.schema
      .alterTable(HISTORY_TABLE)
      .addColumn('migration_set', 'varchar(50)', (col) => col.notNull().defaultTo(PACKAGE_SET))
      .execute()
  }

  async #historyHasSetColumn(): Promise<boolean> {
    return (await this.#dialect.columnNames(HISTORY_TABLE)).includes('migration_set')
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
                migration_set: file.set,
                checksum: file.checksum,
                applied_at: this.#dialect.encode('timestamp', new Date()),
                execution_ms: Math.round(performance.now() - started),
              })
              .execute()
          } else {
            await trx
              .deleteFrom(HISTORY_TABLE)
              .where('name', '=', file.name)
              .where('migration_set', '=', file.set)
              .execute()
          }
        })
        const dataLoss = direction === 'up' && Array.isArray(mod.dataLoss) ? mod.dataLoss : []
        results.push({
          name: file.name,
          set: file.set,
          direction,
          status: 'success',
          ms: Math.round(performance.now() - started),
          ...(dataLoss.length > 0 ? { dataLoss } : {}),
        })
      } catch (cause) {
        results.push({
          name: file.name,
          set: file.set,
          direction,
          status: 'error',
          ms: Math.round(performance.now() - started),
        })
        for (const rest of steps.slice(i + 1))
          results.push({ name: rest.name, set: rest.set, direction, status: 'not-executed', ms: 0 })
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
      results: steps.map((f) => ({
        name: f.name,
        set: f.set,
        direction,
        status: 'not-executed' as const,
        ms: 0,
      })),
      sql: compiled.map((m, i) => ({
        name: m.name,
        set: steps[i]!.set,
        direction,
        statements: m.statements,
      })),
    }
  }
}

/** A migration's identity: its set and name (the history's key). */
function key(m: { readonly set: string; readonly name: string }): string {
  return `${m.set}/${m.name}`
}

/** Apply order: the package's set before the application's, each by name (= time). */
function byApplyOrder(a: { set: string; name: string }, b: { set: string; name: string }): number {
  return setRank(a.set) - setRank(b.set) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
}

/** Drift is per set: an applied migration is compared only with the file of its own set. */
function findDrift(files: readonly MigrationFile[], applied: readonly AppliedMigration[]): DriftEntry[] {
  const byKey = new Map(files.map((f) => [key(f), f]))
  const drift: DriftEntry[] = []
  for (const m of applied) {
    const file = byKey.get(key(m))
    const base = { name: m.name, set: m.set, expected: m.checksum }
    if (!file) drift.push({ ...base, problem: 'missing', actual: null })
    else if (file.checksum !== m.checksum) {
      drift.push({ ...base, problem: 'changed', actual: file.checksum })
    }
  }
  return drift
}

function assertNoDrift(files: readonly MigrationFile[], applied: readonly AppliedMigration[]): void {
  const drift = findDrift(files, applied)
  if (drift.length === 0) return
  if (drift.some((d) => d.set === APP_SET) && !files.some((f) => f.set === APP_SET)) {
    // Nothing is wrong with the files: this opener was not told where the application's are.
    throw new MigrationError(
      `The database has the application's own migrations applied (app set: ${drift
        .filter((d) => d.set === APP_SET)
        .map((d) => d.name)
        .join(', ')}), but no application migrations folder is configured. Pass migrationsDir ` +
        `to openDatabase(), or set it in aura.config.json or AURA_MIGRATIONS_DIR (--migrations-dir for aura-db).`,
    )
  }
  const paths = new Map(files.map((f) => [f.name, f.path]))
  const lines = drift.map((d) =>
    d.problem === 'missing'
      ? `${d.name}: applied (${d.set} set, checksum ${d.expected}) but its file is missing`
      : `${basename(paths.get(d.name)!)}: changed since it was applied (${d.set} set; recorded ${d.expected}, file now ${d.actual})`,
  )
  throw new MigrationError(
    `Refusing to migrate: applied migrations drifted from their files:\n  ${lines.join('\n  ')}\n` +
      `Restore the original files; never edit an applied migration, add a new one instead.`,
  )
}
