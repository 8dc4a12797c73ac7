import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Command, CommanderError, Option } from 'commander'
import { usage, UsageError } from '../errors.js'
import { openDatabase, type AuraDatabase } from '../database.js'
import { createDialectBackup, defaultDatabaseUrl, type PostgresPoolOptions } from '../dialect/index.js'
import { discoverSets, migrationSets } from '../migration/migration-sets.js'
import type { MigrationFile } from '../migration/migration-source.js'
import { packageRoot } from '../paths.js'
import type { TableDef } from '../schema/define.js'
import { environmentValue, loadConfigFile, type ConfigFile } from '../config.js'
import { ExitCode, exitCodeFor } from './exit-codes.js'
import { Output } from './output.js'
import { definitionsWith, loadSchemaModule } from './schema-module.js'

/**
 * The global options every command sees (`aura-db [--db URL] [--json] [--yes]
 * [--migrations-dir DIR] [--schema FILE] [--config FILE]`). Each setting is its flag, else its environment
 * variable, else the config file's entry, else the default.
 */
export interface GlobalOptions {
  /** The database URL: `--db`, else `AURA_DATABASE_URL`, else `databaseUrl`, else `sqlite:./data/aura.db`. */
  readonly db: string
  readonly json: boolean
  readonly yes: boolean
  /**
   * The application's migrations folder: `--migrations-dir`, else `AURA_MIGRATIONS_DIR`, else
   * `migrationsDir`; `undefined` when none is set (the package's `migrations/` alone). Applied
   * after the package's shipped migrations, unless it is a whole history (see `migrationSets`).
   */
  readonly migrationsDir: string | undefined
  /**
   * The application's schema module: `--schema`, else `AURA_SCHEMA`, else `schema`; `undefined`
   * when none is set (the built-in definitions alone).
   */
  readonly schema: string | undefined
  /** `aura.config.json` (or `--config` / `AURA_CONFIG`), `{}` when there is none. */
  readonly config: ConfigFile
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
    options?: { create?: boolean; readOnly?: boolean; actor?: string; metrics?: boolean },
  ): Promise<T>
  /**
   * The backup directory: the command's `--dir`, else `AURA_BACKUP_DIR`, else `backupDir` of the
   * config file; `undefined` when none is set (each operation then uses its dialect's default).
   */
  configuredBackupDir(flag?: string): string | undefined
  /** {@link configuredBackupDir}, else the default for `--db` (`backups/` next to the SQLite file). */
  backupDir(flag?: string): string
  /** The migration files of every set, in apply order (the package's, then the application's). */
  migrationFiles(): MigrationFile[]
  /**
   * The definitions of the schema module ({@link GlobalOptions.schema}), loaded once; none
   * without one. `withDatabase` registers them.
   */
  applicationTables(): Promise<readonly TableDef[]>
  /** The whole schema: the built-in definitions, with the application's in place and after them. */
  definitions(): Promise<TableDef[]>
  /** Backups to keep: `--keep`, else `AURA_BACKUP_KEEP`, else `backupKeep`; `undefined` for the default. */
  backupKeep(flag?: string): number | undefined
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
        "the application's migrations, applied after the package's (a folder holding the package's first migration replaces them instead)",
      ).env('AURA_MIGRATIONS_DIR'),
    )
    .addOption(
      new Option(
        '--schema <file>',
        "the application's schema module, exporting `tables` (its extendTable/defineTable definitions)",
      ).env('AURA_SCHEMA'),
    )
    .addOption(
      new Option(
        '--config <file>',
        'config file: databaseUrl, migrationsDir, schema, backupDir, backupKeep (default: ./aura.config.json when present)',
      ).env('AURA_CONFIG'),
    )
    .configureHelp({ showGlobalOptions: true })
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
      schema?: string
      config?: string
    }>()
    const out = new Output({ json: globals.json ?? false })
    let config: ConfigFile
    try {
      config = loadConfigFile(globals.config)
    } catch (error) {
      out.error(error)
      process.exitCode = exitCodeFor(error)
      return
    }
    const options: GlobalOptions = {
      db: globals.db ?? config.databaseUrl ?? defaultDatabaseUrl(),
      json: globals.json ?? false,
      yes: globals.yes ?? false,
      // An empty AURA_MIGRATIONS_DIR is unset, as every other variable (environmentValue); commander
      // would pass '' on, which resolves to the working directory.
      migrationsDir: globals.migrationsDir || config.migrationsDir,
      schema: globals.schema || config.schema,
      config,
    }
    let applicationTables: Promise<readonly TableDef[]> | undefined
    const cli: CliContext = {
      options,
      out,
      configuredBackupDir: (flag) => flag ?? environmentValue('AURA_BACKUP_DIR') ?? config.backupDir,
      backupDir: (flag) => cli.configuredBackupDir(flag) ?? createDialectBackup(options.db).defaultDir(),
      migrationFiles: () => discoverSets(migrationSets(options.migrationsDir)),
      applicationTables: () =>
        (applicationTables ??=
          options.schema === undefined ? Promise.resolve([]) : loadSchemaModule(options.schema)),
      definitions: async () => definitionsWith(await cli.applicationTables()),
      backupKeep(flag) {
        const text = flag ?? environmentValue('AURA_BACKUP_KEEP')
        if (text === undefined) return config.backupKeep
        // Checked as text: Number('abc') is NaN, and Number('') or Number('1e1') are numbers.
        if (!/^\d+$/.test(text) || Number(text) < 1)
          throw usage.notACount(flag === undefined ? 'AURA_BACKUP_KEEP' : '--keep', text)
        return Number(text)
      },
      async withDatabase(use, { create = false, readOnly = false, actor, metrics = false } = {}) {
        const slowQueryMs = environmentNumber('AURA_SLOW_QUERY_MS', 0) ?? config.slowQueryMs
        const tables = await cli.applicationTables()
        const db = await openDatabase({
          // The command line resolved the config file already (its own `--config`).
          configFile: false,
          tables,
          url: options.db,
          ...(options.migrationsDir === undefined ? {} : { migrationsDir: options.migrationsDir }),
          create,
          readOnly,
          metrics,
          ...(actor === undefined ? {} : { actor }),
          ...(slowQueryMs === undefined ? {} : { slowQueryMs }),
          postgres: postgresOptions(config),
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
      out.flush()
    } catch (error) {
      out.error(error)
      process.exitCode = exitCodeFor(error)
    }
  }
}

/** An integer environment variable of at least `min`; anything else is a UsageError naming it. */
function environmentNumber(name: string, min: number): number | undefined {
  const text = environmentValue(name)
  if (text === undefined) return undefined
  const value = Number(text)
  if (!/^\d+$/.test(text) || value < min) {
    throw new UsageError(`${name} must be a whole number of at least ${min}; got "${text}".`)
  }
  return value
}

/** The PostgreSQL pool settings: each `AURA_PG_*` variable, else the config file's `postgres`. */
function postgresOptions(config: ConfigFile): PostgresPoolOptions {
  const file = config.postgres ?? {}
  const poolSize = environmentNumber('AURA_PG_POOL_SIZE', 1) ?? file.poolSize
  const connectionTimeoutMs = environmentNumber('AURA_PG_CONNECT_TIMEOUT_MS', 1) ?? file.connectionTimeoutMs
  const statementTimeoutMs = environmentNumber('AURA_PG_STATEMENT_TIMEOUT_MS', 1) ?? file.statementTimeoutMs
  const applicationName = environmentValue('AURA_PG_APPLICATION_NAME') ?? file.applicationName
  return {
    ...(poolSize === undefined ? {} : { poolSize }),
    ...(connectionTimeoutMs === undefined ? {} : { connectionTimeoutMs }),
    ...(statementTimeoutMs === undefined ? {} : { statementTimeoutMs }),
    ...(applicationName === undefined ? {} : { applicationName }),
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
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') {
      process.exitCode = ExitCode.ok
      return
    }
    process.exitCode = ExitCode.usage
    // `--json` keeps its promise of one document on stdout for a command line commander refused.
    if (argv.slice(2).includes('--json')) {
      new Output({ json: true }).error(new UsageError(error.message.replace(/^error: /, '')), {
        stderr: false,
      })
    }
  }
}
