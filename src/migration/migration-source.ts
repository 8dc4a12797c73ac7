import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Kysely, sql } from 'kysely'
import { MigrationError, usage } from '../errors.js'
import { packageRoot } from '../paths.js'

/**
 * A migration file name: `<yyyyMMddHHmmss>_<Name>.ts`, or `.js` / `.mjs` for a migration an
 * application ships compiled (it then runs without tsx). The name without the extension is the
 * migration's key in the history.
 */
export const MIGRATION_FILE = /^(\d{14})_([A-Za-z][A-Za-z0-9_]*)\.(?:ts|js|mjs)$/

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

/**
 * The set a migration belongs to, recorded beside it in the history (`aura_migrations.migration_set`):
 * `aura-data`, the migrations the package ships, or `app`, the application's own.
 */
export type MigrationSetName = 'aura-data' | 'app'

/** A migration file found on disk. */
export interface MigrationFile {
  /** The file name without its extension; the key in the history table. */
  readonly name: string
  /** The set the file belongs to, recorded with it in the history. */
  readonly set: MigrationSetName
  readonly path: string
  /** SHA-256 (hex) of the file's bytes. */
  readonly checksum: string
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

/**
 * The migration files of a directory, in name (= time) order, as files of `set`. Other files are
 * ignored. One migration in two forms (`X.ts` beside a compiled `X.js`) is refused: which of the
 * two ran, and so which checksum the history holds, would depend on nothing a reader can see.
 */
export function discoverMigrations(dir: string, set: MigrationSetName = 'aura-data'): MigrationFile[] {
  const root = resolve(dir)
  if (!existsSync(root)) throw new MigrationError(`The migrations directory ${root} does not exist.`)
  const byName = new Map<string, string>()
  for (const file of readdirSync(root)
    .filter((f) => MIGRATION_FILE.test(f))
    .sort()) {
    const name = file.slice(0, file.lastIndexOf('.'))
    const other = byName.get(name)
    if (other !== undefined) {
      throw new MigrationError(
        `The migration ${name} is in ${root} twice, as ${other} and ${file}. Keep one of them: ` +
          'point the migrations directory at the compiled folder or at the sources, not at both in one.',
      )
    }
    byName.set(name, file)
  }
  return [...byName]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, file]) => {
      const path = join(root, file)
      return { name, set, path, checksum: sha256(readFileSync(path)) }
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
 * Loads a migration module. The checksum is always that of the file discovered (see
 * {@link discoverMigrations}); what runs is:
 * - for the package's own migrations, the JavaScript compiled at build time from the `.ts` source
 *   a reviewer read (`dist/migrations/<name>.js`), so a production install needs no TypeScript loader;
 * - a `.js` or `.mjs` file (an application's compiled migration), as it is;
 * - any other `.ts` file (a migration the application authored), the source itself, compiled
 *   on the fly by tsx, an optional peer dependency: a clear MigrationError names `npm i -D tsx`
 *   when it is not installed.
 */
export async function loadMigration(file: MigrationFile): Promise<MigrationModule> {
  const compiled = file.path.endsWith('.ts') ? compiledMigration(file) : file.path
  let mod: Partial<MigrationModule>
  try {
    mod = (
      compiled === undefined ? await importTypeScript(file) : await import(pathToFileURL(compiled).href)
    ) as Partial<MigrationModule>
  } catch (error) {
    if (error instanceof MigrationError) throw error
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

/** `dist/migrations/<name>.js` when `file` is one of the package's own migrations and it was built. */
function compiledMigration(file: MigrationFile): string | undefined {
  const root = packageRoot()
  if (dirname(resolve(file.path)) !== join(root, 'migrations')) return undefined
  const compiled = join(root, 'dist', 'migrations', `${file.name}.js`)
  return existsSync(compiled) ? compiled : undefined
}

async function importTypeScript(file: MigrationFile): Promise<unknown> {
  return importTypeScriptModule(
    file.path,
    (cause) =>
      new MigrationError(
        `Migration ${file.name} is TypeScript, which needs tsx to run, and tsx is not installed. Install it with \`npm i -D tsx\`, or ship the migration compiled (${file.name}.js).`,
        { cause },
      ),
  )
}

/**
 * Imports a TypeScript module of the application (a migration, the schema module) through tsx,
 * the optional peer dependency; `missingTsx` makes the error to throw when tsx is not installed.
 */
export async function importTypeScriptModule(
  path: string,
  missingTsx: (cause: unknown) => Error,
): Promise<unknown> {
  let tsx: typeof import('tsx/esm/api')
  try {
    tsx = await import('tsx/esm/api')
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw error
    throw missingTsx(error)
  }
  return tsx.tsImport(pathToFileURL(path).href, import.meta.url)
}
