import { spawn, type ChildProcess } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import { openDatabase, type AuraDatabase, type SchemaSnapshot } from '../src/index.js'

export const ROOT = join(import.meta.dirname, '..')
export const BIN = join(ROOT, 'bin', 'aura-db.js')
export const PACKAGE_MIGRATIONS = join(ROOT, 'migrations')
export const INITIAL = '20250101000000_InitialCreate'

export interface CliResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** The environment of a CLI run: nothing inherited that would pick a database or migrations for it. */
function cliEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base = { ...process.env }
  delete base.AURA_DATABASE_URL
  delete base.AURA_MIGRATIONS_DIR
  delete base.AURA_DEBUG
  return { ...base, NO_COLOR: '1', ...env }
}

/** Where a CLI run starts: the worktree's `bin/aura-db.js` in the project root, unless told otherwise. */
export interface CliLocation {
  /** Another copy of `bin/aura-db.js`, e.g. one installed into a `node_modules`. */
  readonly bin?: string
  readonly cwd?: string
}

/** Starts `node bin/aura-db.js …args` (stdin closed, so it is not a terminal). */
export function startCli(
  args: readonly string[],
  env: Record<string, string> = {},
  { bin = BIN, cwd = ROOT }: CliLocation = {},
): ChildProcess {
  return spawn(process.execPath, [bin, ...args], {
    cwd,
    env: cliEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

/** Waits for a started CLI process and collects its output. */
export function finished(child: ChildProcess): Promise<CliResult> {
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

/** Runs the built CLI to completion. */
export function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
  location: CliLocation = {},
): Promise<CliResult> {
  return finished(startCli(args, env, location))
}

/** Runs the CLI with `--json` and parses its stdout (one JSON document). */
export async function runCliJson<T = any>(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CliResult & { json: T }> {
  const result = await runCli(['--json', ...args], env)
  return { ...result, json: JSON.parse(result.stdout) as T }
}

/**
 * A private copy of the package's migrations inside the project (under test/.tmp, so that a
 * migration's `import type … from 'kysely'` resolves when it is type-checked).
 */
export function copyMigrations(): string {
  const parent = join(ROOT, 'test', '.tmp')
  mkdirSync(parent, { recursive: true })
  const dir = join(mkdtempSync(join(parent, 'migrations-')), 'migrations')
  cpSync(PACKAGE_MIGRATIONS, dir, { recursive: true })
  return dir
}

/**
 * The live schema of the database at `url`, without the SQLite lock table (created by the first
 * lock, not by a migration or a script). The history table `aura_migrations` stays in.
 */
export async function snapshot(url: string): Promise<SchemaSnapshot> {
  const db = await openDatabase({ url })
  try {
    const live = await db.dialect.introspect()
    return { tables: live.tables.filter((t) => t.name !== 'aura_migration_lock') }
  } finally {
    await db.close()
  }
}

/** Opens the database at `url` in this process, runs `use`, closes it. */
export async function withDatabase<T>(
  url: string,
  migrationsDir: string,
  use: (db: AuraDatabase) => Promise<T>,
): Promise<T> {
  const db = await openDatabase({ url, migrationsDir })
  try {
    return await use(db)
  } finally {
    await db.close()
  }
}

/** The snapshot without any engine bookkeeping table: only what the migrations created. */
export function domainTables(schema: SchemaSnapshot): SchemaSnapshot {
  return { tables: schema.tables.filter((t) => !t.name.startsWith('aura_migration')) }
}

/** A failure line on stderr: what the CLI promises (one line plus an optional hint, never a stack trace). */
export function expectOneLineError(stderr: string): string[] {
  const lines = stderr.trim().split('\n')
  if (lines.length < 1 || lines.length > 2 || !lines[0]!.startsWith('error: ')) {
    throw new Error(`expected "error: …" and at most one hint line on stderr, got:\n${stderr}`)
  }
  if (lines[1] !== undefined && !lines[1].startsWith('hint: '))
    throw new Error(`second stderr line is not a hint:\n${stderr}`)
  if (/^\s+at /m.test(stderr)) throw new Error(`stack trace on stderr:\n${stderr}`)
  return lines
}
