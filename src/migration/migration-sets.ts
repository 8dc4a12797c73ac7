import { existsSync, realpathSync } from 'node:fs'
import { join, resolve, sep } from 'node:path'
import { MigrationError, UsageError } from '../errors.js'
import { defaultMigrationsDir } from '../paths.js'
import { discoverMigrations, type MigrationFile, type MigrationSetName } from './migration-source.js'

/** The package's shipped migrations. */
export const PACKAGE_SET: MigrationSetName = 'aura-data'
/** The application's migrations, applied after the package's. */
export const APP_SET: MigrationSetName = 'app'

/** The position of a set in the apply order: the package's first, then the application's. */
export function setRank(set: string): number {
  return set === PACKAGE_SET ? 0 : 1
}

/** One folder of migrations and the set its files are recorded under. */
export interface MigrationSet {
  readonly name: MigrationSetName
  readonly dir: string
}

/**
 * The package's first migration. A folder holding it is a copy of the package's whole history
 * (the package's own development, tests), not an application's set.
 */
export const FIRST_PACKAGE_MIGRATION = '20250101000000_InitialCreate'

/** The folder's real path when it exists (a symlinked `node_modules` compares equal), else its absolute path. */
function canonical(dir: string): string {
  const absolute = resolve(dir)
  return existsSync(absolute) ? realpathSync(absolute) : absolute
}

/**
 * Whether a configured migrations folder is a whole history that replaces the package's set
 * rather than an application set applied after it: it is the package's own `migrations/`, or it
 * contains the package's first migration file (`20250101000000_InitialCreate.ts`).
 */
export function isWholeHistory(dir: string): boolean {
  return (
    canonical(dir) === canonical(defaultMigrationsDir()) ||
    existsSync(join(resolve(dir), `${FIRST_PACKAGE_MIGRATION}.ts`))
  )
}

/**
 * The migration sets for a configured folder (`migrationsDir`, `--migrations-dir`,
 * `AURA_MIGRATIONS_DIR`), in apply order:
 * - none configured: the package's `migrations/` (`aura-data`);
 * - a whole history (the package's `migrations/`, or a folder holding its first migration):
 *   that folder alone, recorded as `aura-data`;
 * - any other folder: the package's `migrations/` (`aura-data`), then that folder (`app`).
 */
export function migrationSets(migrationsDir?: string): MigrationSet[] {
  if (migrationsDir === undefined) return [{ name: PACKAGE_SET, dir: defaultMigrationsDir() }]
  const dir = resolve(migrationsDir)
  if (isWholeHistory(dir)) return [{ name: PACKAGE_SET, dir }]
  return [
    { name: PACKAGE_SET, dir: defaultMigrationsDir() },
    { name: APP_SET, dir },
  ]
}

/**
 * The migration files of `sets`, in apply order (set by set, each in name order). Refuses
 * (MigrationError) a name present in two sets: the history's key and `rollback --to NAME` need
 * a name to mean one migration.
 */
export function discoverSets(sets: readonly MigrationSet[]): MigrationFile[] {
  const files: MigrationFile[] = []
  const seen = new Map<string, MigrationFile>()
  for (const set of sets) {
    for (const file of discoverMigrations(set.dir, set.name)) {
      const other = seen.get(file.name)
      if (other) {
        throw new MigrationError(
          `Migration ${file.name} of the ${file.set} set (${file.path}) has the name of the ${other.set} set's ` +
            `${other.path}. A name must be unique across sets: rename the application's file to a new timestamp.`,
        )
      }
      seen.set(file.name, file)
      files.push(file)
    }
  }
  return files
}

/** Whether a folder is inside `node_modules`, i.e. an installed package's shipped files. */
export function insideNodeModules(dir: string): boolean {
  return resolve(dir).split(sep).includes('node_modules')
}

/**
 * The folder `add` writes to and `remove` deletes from, and the sets applied ahead of it (whose
 * schema a generated migration starts from): the configured folder (an application set after
 * the package's, or a whole history); without one, the package's `migrations/` when aura-data
 * itself is being developed. An installed package (inside `node_modules`) is never written to:
 * that is a UsageError asking to configure the application's folder.
 */
export function writableSet(migrationsDir?: string): { set: MigrationSet; before: readonly MigrationSet[] } {
  const sets = migrationSets(migrationsDir)
  const set = sets.at(-1)!
  if (migrationsDir === undefined && insideNodeModules(set.dir)) {
    throw new UsageError(
      `No migrations folder of the application is configured, and ${set.dir} is the installed package's ` +
        'shipped history (inside node_modules). Configure the folder for your own migrations with ' +
        '--migrations-dir, AURA_MIGRATIONS_DIR or `migrationsDir` in aura.config.json.',
    )
  }
  return { set, before: sets.slice(0, -1) }
}
