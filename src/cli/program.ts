import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Command, CommanderError, Option } from 'commander'
import { openDatabase, type AuraDatabase } from '../database.js'
import { defaultDatabaseUrl } from '../dialect/index.js'
import { defaultMigrationsDir, packageRoot } from '../paths.js'
import { ExitCode, exitCodeFor } from './exit-codes.js'
import { Output } from './output.js'

/** The global options every command sees (`aura-db [--db URL] [--json] [--yes] [--migrations-dir DIR]`). */
export interface GlobalOptions {
  /** The database URL: `--db`, else `AURA_DATABASE_URL`, else `sqlite:./data/aura.db`. */
  readonly db: string
  readonly json: boolean
  readonly yes: boolean
  /** `--migrations-dir`, else `AURA_MIGRATIONS_DIR`, else the package's own `migrations/`. */
  readonly migrationsDir: string
}

/** What a command's action works with. */
export interface CliContext {
  readonly options: GlobalOptions
  readonly out: Output
  /**
   * Opens the database of `--db`, runs `work`, and closes it whatever happens. A missing SQLite
   * file is an error unless `create` is true: commands that only look must not leave a file behind.
   * `readOnly`: commands that only look open a SQLite file read-only, so they work on a file the
   * user may only read and on a read-only mount. `actor` is the audit actor of the writes the
   * command makes.
   */
  withDatabase<T>(
    work: (db: AuraDatabase) => Promise<T>,
    options?: { create?: boolean; readOnly?: boolean; actor?: string },
  ): Promise<T>
}

/**
 * The `aura-db` program with its global options and no commands yet; each file in
 * `src/cli/commands/` registers its own. Commander's usage errors become exit code 2.
 */
export function createProgram(): Command {
  const { version } = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
    version: string
  }
  return new Command('aura-db')
    .description(
      'Aura Data: migrate, inspect and verify the Aura Video Studio database (SQLite or PostgreSQL).',
    )
    .version(version)
    .addOption(
      new Option(
        '--db <url>',
        'database URL: sqlite:<path>, sqlite::memory: or postgres://user@host:port/db (default: sqlite:./data/aura.db)',
      ).env('AURA_DATABASE_URL'),
    )
    .option('--json', 'machine-readable output: one JSON document on stdout')
    .option('--yes', 'answer yes to confirmations (required when stdin is not a terminal)')
    .addOption(
      new Option(
        '--migrations-dir <dir>',
        "directory of the migration files (default: the package's migrations/)",
      ).env('AURA_MIGRATIONS_DIR'),
    )
    .exitOverride()
    .showHelpAfterError('(run `aura-db --help` for usage)')
}

/**
 * Wraps a command's work as a commander action: builds the {@link CliContext} from the global
 * options, prints any error as one line on stderr and sets the exit code (docs/errors.md, "CLI exit codes").
 */
export function action<Args extends unknown[]>(
  work: (cli: CliContext, ...args: Args) => Promise<void>,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args.at(-1) as Command
    const globals = command.optsWithGlobals<{
      db?: string
      json?: boolean
      yes?: boolean
      migrationsDir?: string
    }>()
    const options: GlobalOptions = {
      db: globals.db ?? defaultDatabaseUrl(),
      json: globals.json ?? false,
      yes: globals.yes ?? false,
      migrationsDir: globals.migrationsDir ?? defaultMigrationsDir(),
    }
    const out = new Output({ json: options.json })
    const cli: CliContext = {
      options,
      out,
      async withDatabase(use, { create = false, readOnly = false, actor } = {}) {
        const db = await openDatabase({
          url: options.db,
          migrationsDir: options.migrationsDir,
          create,
          readOnly,
          ...(actor === undefined ? {} : { actor }),
        })
        try {
          return await use(db)
        } finally {
          await db.close()
        }
      },
    }
    try {
      await work(cli, ...(args.slice(0, -1) as Args))
    } catch (error) {
      out.error(error)
      process.exitCode = exitCodeFor(error)
    }
  }
}

/** Parses `argv` and runs the chosen command; sets `process.exitCode` (2 for any usage error). */
export async function runProgram(program: Command, argv: readonly string[]): Promise<void> {
  // A reader that stops early (`aura-db script | head`) closes the pipe: stop quietly, as `cat` would.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error
    process.exit(process.exitCode ?? ExitCode.ok)
  })
  try {
    await program.parseAsync(argv)
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error
    // Commander already printed its message; help and version requested explicitly are success.
    process.exitCode =
      error.code === 'commander.helpDisplayed' || error.code === 'commander.version'
        ? ExitCode.ok
        : ExitCode.usage
  }
}
