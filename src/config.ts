import { existsSync, readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import { z } from 'zod'
import { UsageError } from './errors.js'

/** The file `aura-db` and `openDatabase` read from the working directory when neither `--config` / `configFile` nor `AURA_CONFIG` names one. */
export const CONFIG_FILE = 'aura.config.json'

/**
 * `aura.config.json`: settings a project keeps with its code instead of repeating them as flags.
 * Each one loses to its flag and its environment variable (flag > env > file > default).
 * Relative paths (also that of a `sqlite:` URL) are relative to the file's directory, so the
 * file means the same from any working directory. Unknown keys are refused: a typo must not be
 * silently ignored.
 */
const ConfigSchema = z.strictObject({
  /** As `--db` / `AURA_DATABASE_URL`. */
  databaseUrl: z.string().min(1).optional(),
  /** As `--migrations-dir` / `AURA_MIGRATIONS_DIR`. */
  migrationsDir: z.string().min(1).optional(),
  /** As `--schema` / `AURA_SCHEMA`: the module exporting the application's table definitions. */
  schema: z.string().min(1).optional(),
  /** As `--dir` of `backup`, `backups`, `restore` and `studio` / `AURA_BACKUP_DIR`. */
  backupDir: z.string().min(1).optional(),
  /** As `--keep` of `backup` / `AURA_BACKUP_KEEP`. */
  backupKeep: z.number().int().min(1).optional(),
  /** As `AURA_SLOW_QUERY_MS`: statements at least this slow are written to stderr. */
  slowQueryMs: z.number().int().min(0).optional(),
  /** As `AURA_PG_*`: the PostgreSQL pool (openDatabase's `postgres` option). */
  postgres: z
    .strictObject({
      poolSize: z.number().int().min(1).optional(),
      connectionTimeoutMs: z.number().int().min(1).optional(),
      statementTimeoutMs: z.number().int().min(1).optional(),
      applicationName: z.string().min(1).optional(),
    })
    .optional(),
})

export type ConfigFile = z.infer<typeof ConfigSchema>

/**
 * Reads the config file: `explicit` (`--config` or `AURA_CONFIG`; it must exist), else
 * `./aura.config.json` when there is one, else nothing. Invalid JSON or an invalid setting is a
 * UsageError naming the file and the setting.
 */
export function loadConfigFile(explicit: string | undefined, cwd: string = process.cwd()): ConfigFile {
  const path = resolve(cwd, explicit ?? CONFIG_FILE)
  if (!existsSync(path)) {
    if (explicit === undefined) return {}
    throw new UsageError(`The config file ${path} does not exist.`)
  }
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new UsageError(`The config file ${path} is not valid JSON: ${(error as Error).message}`)
  }
  const parsed = ConfigSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const where = issue.path.length > 0 ? `"${issue.path.join('.')}"` : 'the file'
    throw new UsageError(`The config file ${path} is invalid: ${where}: ${issue.message}.`)
  }
  const base = dirname(path)
  const config = parsed.data
  return {
    ...config,
    ...(config.databaseUrl === undefined ? {} : { databaseUrl: resolveSqliteUrl(config.databaseUrl, base) }),
    ...(config.migrationsDir === undefined ? {} : { migrationsDir: resolve(base, config.migrationsDir) }),
    ...(config.backupDir === undefined ? {} : { backupDir: resolve(base, config.backupDir) }),
    ...(config.schema === undefined ? {} : { schema: resolve(base, config.schema) }),
  }
}

/** `sqlite:<relative path>` made absolute against `base`; other URLs unchanged. */
function resolveSqliteUrl(url: string, base: string): string {
  const match = /^sqlite:(?:\/\/)?(.+)$/i.exec(url)
  const path = match?.[1]
  if (path === undefined || path === ':memory:' || isAbsolute(path)) return url
  return `sqlite:${resolve(base, path)}`
}

/** Where {@link openDatabase} looks for the config file: a path, or `false` for none. */
export type ConfigFileOption = string | false

/**
 * The settings of `aura.config.json` that `openDatabase` honours, so that the library and
 * `aura-db` run in one folder see one database and one set of migrations. Each one loses to its
 * option and its environment variable (option > env > file > default), as in the CLI:
 * `databaseUrl` (`url`, `AURA_DATABASE_URL`), `migrationsDir` (`migrationsDir`,
 * `AURA_MIGRATIONS_DIR`), `postgres` (per setting) and `slowQueryMs`.
 *
 * The file is `configFile`, else `AURA_CONFIG` (both must exist), else `./aura.config.json` when
 * there is one; `configFile: false` reads none.
 */
export function configuredOptions<
  T extends {
    readonly url?: string
    readonly migrationsDir?: string
    readonly postgres?: ConfigFile['postgres']
    readonly slowQueryMs?: number
    readonly configFile?: ConfigFileOption
  },
>(options: T): T {
  if (options.configFile === false) return options
  const config = loadConfigFile(options.configFile ?? environmentValue('AURA_CONFIG'))
  const url = options.url ?? environmentValue('AURA_DATABASE_URL') ?? config.databaseUrl
  const migrationsDir =
    options.migrationsDir ?? environmentValue('AURA_MIGRATIONS_DIR') ?? config.migrationsDir
  const slowQueryMs = options.slowQueryMs ?? config.slowQueryMs
  const postgres = config.postgres ? { ...config.postgres, ...options.postgres } : options.postgres
  return {
    ...options,
    ...(url === undefined ? {} : { url }),
    ...(migrationsDir === undefined ? {} : { migrationsDir }),
    ...(slowQueryMs === undefined ? {} : { slowQueryMs }),
    ...(postgres === undefined ? {} : { postgres }),
  }
}

/** The value of an environment variable (the CLI's and the library's), `undefined` when unset or empty. */
export function environmentValue(name: string): string | undefined {
  const value = process.env[name]
  return value === undefined || value === '' ? undefined : value
}
