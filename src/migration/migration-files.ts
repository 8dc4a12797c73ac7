import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { usage, UsageError } from '../errors.js'
import { insideNodeModules } from './migration-sets.js'
import { discoverMigrations } from './migration-source.js'
import { migrationTemplate } from './migration-template.js'

/** PascalCase (`AddProjectTags`) or snake_case (`add_project_tags`): letters and digits only. */
const MIGRATION_NAME = /^(?:[A-Z][A-Za-z0-9]*|[a-z][a-z0-9]*(?:_[a-z0-9]+)*)$/

/** Refuses a migration name that is neither PascalCase nor snake_case (UsageError). */
export function assertMigrationName(name: string): void {
  if (!MIGRATION_NAME.test(name)) throw usage.badMigrationName(name)
}

/**
 * Refuses to write into (or delete from) a migrations directory inside `node_modules`: that is
 * an installed package's shipped history, replaced by every install and shared by every
 * application using it, so a migration written there would be lost or would drift.
 */
export function assertOwnMigrationsDir(dir: string): void {
  if (insideNodeModules(dir)) {
    throw new UsageError(
      `Refusing to change ${resolve(dir)}: it is inside node_modules, the migrations an installed package ships. ` +
        'Point --migrations-dir (or AURA_MIGRATIONS_DIR) at a directory of your own project.',
    )
  }
}

/** A `yyyyMMddHHmmss` stamp in UTC. */
function timestamp(date: Date): string {
  return date.toISOString().replace(/\D/g, '').slice(0, 14)
}

/**
 * Creates `<dir>/<yyyyMMddHHmmss>_<name>.ts` from the migration template and returns its path.
 * 1. Refuses a name that is neither PascalCase nor snake_case (UsageError, nothing written).
 * 2. Stamps it with `now` in UTC, or one second after the newest existing migration when that
 *    is not older, so the new file always sorts last.
 * 3. Creates the directory when missing and never overwrites a file.
 * `source` gives the file's content: the empty template, or a generated migration.
 */
export function addMigration(
  dir: string,
  name: string,
  now: Date = new Date(),
  source: (name: string) => string = migrationTemplate,
): string {
  assertMigrationName(name)
  assertOwnMigrationsDir(dir)
  const root = resolve(dir)
  mkdirSync(root, { recursive: true })
  let stamp = timestamp(now)
  const newest = discoverMigrations(root).at(-1)?.name.slice(0, 14)
  if (newest !== undefined && newest >= stamp) {
    const next = new Date(
      Date.UTC(
        Number(newest.slice(0, 4)),
        Number(newest.slice(4, 6)) - 1,
        Number(newest.slice(6, 8)),
        Number(newest.slice(8, 10)),
        Number(newest.slice(10, 12)),
        Number(newest.slice(12, 14)) + 1,
      ),
    )
    stamp = timestamp(next)
  }
  const path = join(root, `${stamp}_${name}.ts`)
  writeFileSync(path, source(name), { flag: 'wx' })
  return path
}
