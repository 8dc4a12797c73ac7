import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { basename, join, relative } from 'node:path'
import { sql } from 'kysely'
import { openDatabase, type AuraDatabase } from '../src/index.js'

export const ROOT = join(import.meta.dirname, '..')
const CHILD = join(ROOT, 'test', 'backup-child.ts')

/** A 1×1 PNG image: a real file of another kind, to be renamed to a backup name. */
export const PNG_BYTES = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
)

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}

/** A process of test/backup-child.ts and the lines it printed so far. */
export interface Child {
  readonly process: ChildProcess
  readonly lines: string[]
  /** Resolves once `predicate` holds for the printed lines; fails if the process ends first. */
  until(predicate: (lines: readonly string[]) => boolean, timeoutMs?: number): Promise<void>
  /** The last number a writer printed (its last committed transaction). */
  lastNumber(): number
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>
}

/** Starts `node --import tsx test/backup-child.ts <mode> …args`. */
export function startChild(mode: string, ...args: string[]): Child {
  return startChildWithEnv({}, mode, ...args)
}

/** {@link startChild} with variables added to (or, as undefined, removed from) its environment. */
export function startChildWithEnv(
  env: Record<string, string | undefined>,
  mode: string,
  ...args: string[]
): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  let partial = ''
  let stderr = ''
  let exited = false
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n')
    partial = parts.pop()!
    lines.push(...parts)
  })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const gone = new Promise<void>((resolve) =>
    child.on('close', () => {
      exited = true
      resolve()
    }),
  )
  return {
    process: child,
    lines,
    async until(predicate, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs
      while (!predicate(lines)) {
        if (exited) throw new Error(`child ${mode} ended early: ${stderr}`)
        if (Date.now() > deadline)
          throw new Error(`child ${mode} timed out; printed ${lines.slice(-3).join(',')}; ${stderr}`)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    },
    lastNumber() {
      return Number(lines.at(-1) ?? 0)
    },
    async kill() {
      if (!exited) child.kill('SIGKILL')
      await gone
    },
  }
}

/**
 * A logical dump of every table (the SQLite migration-lock table aside): each row as JSON,
 * sorted. On PostgreSQL rows are rendered by the server (`row_to_json`), so timestamps keep their
 * microseconds and the comparison is exact.
 */
export async function dumpAll(
  url: string,
  dialect: 'sqlite' | 'postgres',
): Promise<Record<string, string[]>> {
  const db = await openDatabase({ url })
  try {
    const tables = (await db.dialect.introspect()).tables
      .map((t) => t.name)
      .filter((n) => n !== 'aura_migration_lock')
    const dump: Record<string, string[]> = {}
    for (const table of tables) {
      const rows =
        dialect === 'postgres'
          ? (
              await sql<{ j: string }>`select row_to_json(t)::text as j from ${sql.table(table)} t`.execute(
                db.dialect.kysely,
              )
            ).rows.map((r) => r.j)
          : (await db.dialect.kysely.selectFrom(table).selectAll().execute()).map((r) => JSON.stringify(r))
      dump[table] = rows.sort()
    }
    return dump
  } finally {
    await db.close()
  }
}

/** The numbers of the writer's transactions found in a database, sorted, from both tables it writes. */
export async function numbered(db: AuraDatabase): Promise<{ audit: number[]; configurations: number[] }> {
  const audit = await db.dialect.kysely
    .selectFrom('audit_entries')
    .select('row_id')
    .where('table_name', '=', 'numbered')
    .execute()
  const configurations = await db.dialect.kysely
    .selectFrom('configurations')
    .select('value')
    .where('category', '=', 'numbered')
    .execute()
  const sorted = (values: unknown[]) => values.map(Number).sort((a, b) => a - b)
  return {
    audit: sorted(audit.map((r) => r.row_id)),
    configurations: sorted(configurations.map((r) => r.value)),
  }
}

/** 1, 2, …, k. */
export function oneTo(k: number): number[] {
  return Array.from({ length: k }, (_, i) => i + 1)
}

/** Every file under `dir` (relative paths) with its SHA-256: a fingerprint to prove nothing was written. */
export function tree(dir: string): Record<string, string> {
  const files: Record<string, string> = {}
  if (!existsSync(dir)) return files
  for (const entry of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const path = join(dir, entry)
    if (statSync(path).isFile()) files[relative(dir, path)] = sha256(readFileSync(path))
  }
  return files
}

/**
 * Writes `bytes` as the backup `name` in `dir` with a manifest that matches them (as if the
 * damage had happened before the manifest was written), copying the rest from `like`'s manifest.
 */
export function plantBackup(dir: string, name: string, bytes: Buffer, like: string): string {
  const file = join(dir, name)
  writeFileSync(file, bytes, { mode: 0o600 })
  const template = JSON.parse(readFileSync(`${like}.json`, 'utf8')) as Record<string, unknown>
  writeFileSync(
    `${file}.json`,
    JSON.stringify({ ...template, file: basename(file), sha256: sha256(bytes), sizeBytes: bytes.length }),
    { mode: 0o600 },
  )
  return file
}
