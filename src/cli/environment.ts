/**
 * Every environment variable Aura Data reads, in one place: the library, the `aura-db` command
 * line, and the test suite and benchmark of this repository. `docs/environment.md` is this table
 * rendered by {@link environmentTable}; test/environment.test.ts fails when the two differ, or
 * when the code reads a variable that is not listed here.
 */
export interface EnvironmentVariable {
  readonly name: string
  /** `library`: `openDatabase()` and everything on it; `cli`: `aura-db`; `development`: the tests and benchmark. */
  readonly scope: 'library' | 'cli' | 'development'
  readonly meaning: string
  /** What applies when it is unset. */
  readonly default: string
}

export const ENVIRONMENT: readonly EnvironmentVariable[] = [
  {
    name: 'AURA_DATABASE_URL',
    scope: 'library',
    meaning:
      'The database: `sqlite:<path>`, `sqlite::memory:` or `postgres://user@host:port/db`. `openDatabase()` without `url`, and `aura-db` without `--db`.',
    default: '`databaseUrl` of the config file, else `sqlite:./data/aura.db`',
  },
  {
    name: 'AURA_DIRECT_DATABASE_URL',
    scope: 'library',
    meaning:
      'PostgreSQL behind a transaction pooler (`aura_pooler=transaction`): the server itself, for the migration lock, backups, restores and scratch schemas (docs/postgresql.md).',
    default:
      '`aura_direct=host:port` of the URL; without either, those operations are refused in pooler mode',
  },
  {
    name: 'AURA_SECRET_KEY',
    scope: 'library',
    meaning: 'The key (32 bytes, base64) that encrypts sensitive configuration values.',
    default: '`AURA_SECRET_KEY_FILE`',
  },
  {
    name: 'AURA_SECRET_KEY_FILE',
    scope: 'library',
    meaning: 'A file holding that key (its base64 text, or the 32 raw bytes).',
    default: 'no key: setting a sensitive value is a `UsageError`',
  },
  {
    name: 'AURA_CONFIG',
    scope: 'library',
    meaning:
      'The config file `aura-db` and `openDatabase()` read (`--config` and `configFile` win over it); it must exist.',
    default: '`./aura.config.json` when there is one',
  },
  {
    name: 'AURA_MIGRATIONS_DIR',
    scope: 'library',
    meaning:
      "As `--migrations-dir` and `openDatabase({ migrationsDir })`: the application's migrations, applied after the package's (a folder holding the package's first migration replaces them instead).",
    default: "`migrationsDir` of the config file, else none (the package's migrations alone)",
  },
  {
    name: 'AURA_SCHEMA',
    scope: 'cli',
    meaning:
      "As `--schema`: the application's schema module (`.js`, or `.ts` with tsx installed) exporting `tables`, the definitions it registers with `openDatabase({ tables })`; `check`, `add`, `status` and `verify` compare them with the migrations.",
    default: '`schema` of the config file, else none (the built-in definitions alone)',
  },
  {
    name: 'AURA_BACKUP_DIR',
    scope: 'cli',
    meaning: 'As `--dir` of `backup`, `backups`, `restore` and `studio`: the backup directory.',
    default:
      '`backupDir` of the config file, else `backups/` next to the SQLite file (`./backups` for PostgreSQL)',
  },
  {
    name: 'AURA_BACKUP_KEEP',
    scope: 'cli',
    meaning: 'As `--keep` of `backup`: the regular backups to keep, newest first.',
    default: '`backupKeep` of the config file, else 10',
  },
  {
    name: 'AURA_SLOW_QUERY_MS',
    scope: 'cli',
    meaning:
      'Statements taking at least this many milliseconds are written to stderr (duration, rows, SQL; never the values); `0` writes every statement. `openDatabase({ slowQueryMs })` for the library.',
    default: '`slowQueryMs` of the config file, else no query log',
  },
  {
    name: 'AURA_PG_POOL_SIZE',
    scope: 'cli',
    meaning: 'PostgreSQL connections in the pool (`openDatabase({ postgres: { poolSize } })`).',
    default: '`postgres.poolSize` of the config file, else 10',
  },
  {
    name: 'AURA_PG_CONNECT_TIMEOUT_MS',
    scope: 'cli',
    meaning: 'How long to wait for a PostgreSQL connection before failing (`connectionTimeoutMs`).',
    default: '`postgres.connectionTimeoutMs` of the config file, else no limit',
  },
  {
    name: 'AURA_PG_STATEMENT_TIMEOUT_MS',
    scope: 'cli',
    meaning:
      'The server cancels a statement running longer than this (`statement_timeout`, `statementTimeoutMs`).',
    default: "`postgres.statementTimeoutMs` of the config file, else the server's",
  },
  {
    name: 'AURA_PG_APPLICATION_NAME',
    scope: 'cli',
    meaning: 'The `application_name` of the connections, shown in `pg_stat_activity` (`applicationName`).',
    default: '`postgres.applicationName` of the config file, else `aura-data`',
  },
  {
    name: 'AURA_DEBUG',
    scope: 'cli',
    meaning: '`1` prints the stack trace (and causes) of an error after its one-line message.',
    default: 'no stack trace',
  },
  {
    name: 'NO_COLOR',
    scope: 'cli',
    meaning: 'Any non-empty value turns colour off, even on a terminal.',
    default: 'colour on a terminal',
  },
  {
    name: 'AURA_TEST_POSTGRES_URL',
    scope: 'development',
    meaning: 'The PostgreSQL server the tests create their databases on (and `npm run docs` uses).',
    default: '`postgres://postgres@127.0.0.1:5432/test`',
  },
  {
    name: 'AURA_REQUIRE_POSTGRES',
    scope: 'development',
    meaning: '`1`: an unreachable test server fails the suite instead of skipping the PostgreSQL half.',
    default: 'skipped with a warning',
  },
  {
    name: 'AURA_REQUIRE_BROWSER',
    scope: 'development',
    meaning: '`1`: a missing Chromium fails the studio browser tests instead of skipping them.',
    default: 'skipped with a warning',
  },
  {
    name: 'AURA_REQUIRE_FAULTS',
    scope: 'development',
    meaning:
      '`1`: a missing fault-injection facility (a full disk) fails its tests instead of skipping them.',
    default: 'skipped with a warning',
  },
  {
    name: 'AURA_STUDIO_SCREENSHOTS',
    scope: 'development',
    meaning: 'A directory the studio browser tests save their screenshots to.',
    default: 'no screenshots',
  },
  {
    name: 'AURA_BENCH_POSTGRES_URL',
    scope: 'development',
    meaning: 'The PostgreSQL server of `npm run bench`.',
    default: '`AURA_TEST_POSTGRES_URL`',
  },
  {
    name: 'AURA_TEST_PAUSE_AT',
    scope: 'development',
    meaning: 'A pause point (`src/pause-point.ts`) where a child process of a crash test stops.',
    default: 'no pause',
  },
  {
    name: 'AURA_TEST_PAUSE_DIR',
    scope: 'development',
    meaning: 'Where a paused child process signals that it reached the pause point.',
    default: 'no pause',
  },
  {
    name: 'AURA_TEST_MARKER',
    scope: 'development',
    meaning: 'A file a test migration writes its pid to while inside its transaction.',
    default: 'not written',
  },
  {
    name: 'AURA_TEST_SLEEP_MS',
    scope: 'development',
    meaning: 'How long that test migration then waits.',
    default: '0',
  },
  {
    name: 'AURA_FAULT_WAIT_GO',
    scope: 'development',
    meaning: '`1`: a fault-test child process waits for `go` on stdin before it starts.',
    default: 'starts at once',
  },
  {
    name: 'AURA_FAULT_HOLD_FIRST_MS',
    scope: 'development',
    meaning: 'How long a fault-test child holds its first transaction open.',
    default: '0',
  },
]

/** The Markdown table of {@link ENVIRONMENT}, as docs/environment.md holds it. */
export function environmentTable(): string {
  const escape = (text: string) => text.replace(/\|/g, '\\|')
  const rows = ENVIRONMENT.map(
    (v) => `| \`${v.name}\` | ${v.scope} | ${escape(v.meaning)} | ${escape(v.default)} |`,
  )
  return ['| variable | read by | meaning | when unset |', '| --- | --- | --- | --- |', ...rows].join('\n')
}
