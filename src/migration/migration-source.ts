import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Kysely, sql } from 'kysely'
import { tsImport } from 'tsx/esm/api'
import { MigrationError, usage } from '../errors.js'

/** A migration file name: `<yyyyMMddHHmmss>_<Name>.ts`. */
export const MIGRATION_FILE = /^(\d{14})_([A-Za-z][A-Za-z0-9_]*)\.ts$/

/** What the engine passes to a migration's `up`/`down` besides the Kysely instance. */
export interface MigrationContext {
  readonly dialect: 'sqlite' | 'postgres'
  /**
   * Kysely's `sql` tag. Passed in rather than imported so a migration file needs no runtime
   * import at all: it runs from any directory, and it stays frozen in time.
   */
  readonly sql: typeof sql
}

export interface MigrationModule {
  up(db: Kysely<any>, ctx: MigrationContext): Promise<void>
  down(db: Kysely<any>, ctx: MigrationContext): Promise<void>
  /** What a generated migration's `up` loses (dropped tables and columns), printed by `migrate`. */
  readonly dataLoss?: readonly string[]
}

/** A migration file found on disk. */
export interface MigrationFile {
  /** The file name without `.ts`; the key in the history table. */
  readonly name: string
  readonly path: string
  /** SHA-256 (hex) of the file's bytes. */
  readonly checksum: string
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

/** The migration files of a directory, in name (= time) order. Other files are ignored. */
export function discoverMigrations(dir: string): MigrationFile[] {
  const root = resolve(dir)
  if (!existsSync(root)) throw new MigrationError(`The migrations directory ${root} does not exist.`)
  return readdirSync(root)
    .filter((file) => MIGRATION_FILE.test(file))
    .sort()
    .map((file) => {
      const path = join(root, file)
      return { name: file.slice(0, -3), path, checksum: sha256(readFileSync(path)) }
    })
}

/**
 * Resolves what a user typed to a migration name among `names`: the full name
 * (`20250101000000_InitialCreate`) or, when unambiguous, the part after the timestamp
 * (`InitialCreate`). Anything else is a UsageError listing the known names.
 */
export function resolveMigrationName(names: readonly string[], input: string): string {
  if (names.includes(input)) return input
  const matches = names.filter((name) => name.slice(name.indexOf('_') + 1) === input)
  if (matches.length === 1) return matches[0]!
  throw usage.unknownMigration(input, names)
}

/**
 * Loads a migration module. TypeScript is compiled on the fly by tsx, so a migration created
 * with `aura-db add` runs as it is, with no build step, and its checksum is that of the source
 * a reviewer read.
 */
export async function loadMigration(file: MigrationFile): Promise<MigrationModule> {
  let mod: Partial<MigrationModule>
  try {
    mod = (await tsImport(pathToFileURL(file.path).href, import.meta.url)) as Partial<MigrationModule>
  } catch (error) {
    throw new MigrationError(`Migration ${file.name} could not be loaded: ${(error as Error).message}`, {
      cause: error,
    })
  }
  if (typeof mod.up !== 'function' || typeof mod.down !== 'function') {
    throw new MigrationError(
      `Migration ${file.name} must export async functions up(db, ctx) and down(db, ctx).`,
    )
  }
  return mod as MigrationModule
}
