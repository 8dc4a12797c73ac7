import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterEach, beforeEach } from 'vitest'
import { openDatabase } from '../src/index.js'
import type { TestDatabase, TestDialect } from './dialects.js'

export const ROOT = join(import.meta.dirname, '..')
const CHILD = join(ROOT, 'test', 'fault-child.ts')

/** How long a child may take to print what a test waits for: generous, but a hang still ends. */
const CHILD_TIMEOUT_MS = 30_000

/** A process of test/fault-child.ts and the lines it printed so far. */
export interface FaultChild {
  readonly process: ChildProcess
  readonly lines: string[]
  /** Resolves once `predicate` holds for the printed lines; fails if the process ends first, or after the timeout. */
  until(predicate: (lines: readonly string[]) => boolean, timeoutMs?: number): Promise<void>
  /** Writes one line to its stdin. */
  send(line: string): void
  /** Resolves with the exit code once the process ended (by itself, or after `closeStdin`); fails after the timeout. */
  exit(timeoutMs?: number): Promise<number | null>
  /** Closes its stdin (the children that read it stop at the end of their input). */
  closeStdin(): void
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>
  /** What it wrote to stderr, for failure messages. */
  stderr(): string
}

/** Every child that may still run: {@link killAll} ends them after each test. */
const running = new Set<FaultChild>()

/**
 * Starts `node --import tsx test/fault-child.ts …args`. `prefix` runs it through another program
 * first (`nsenter` into a mount namespace). Its stdin is a pipe held by this process, so a child
 * reading it also ends if the test runner dies.
 */
export function startFaultChild(
  args: readonly string[],
  options: { prefix?: readonly string[]; env?: Record<string, string> } = {},
): FaultChild {
  const command = [...(options.prefix ?? []), process.execPath, '--import', 'tsx', CHILD, ...args]
  const child = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  let partial = ''
  let stderr = ''
  let exitCode: number | null | undefined
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n')
    partial = parts.pop()!
    lines.push(...parts)
  })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  // A child that already ended makes a later write fail with EPIPE; the exit code tells the story.
  child.stdin!.on('error', () => {})
  const gone = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      exitCode = code
      running.delete(handle)
      resolve(code)
    }),
  )
  const describe = () => `${args[0]} child (printed …${lines.slice(-3).join(' | ')}; stderr: ${stderr})`
  const handle: FaultChild = {
    process: child,
    lines,
    async until(predicate, timeoutMs = CHILD_TIMEOUT_MS) {
      const deadline = Date.now() + timeoutMs
      while (!predicate(lines)) {
        if (exitCode !== undefined)
          throw new Error(`${describe()} ended with ${exitCode} before the expected output`)
        if (Date.now() > deadline) throw new Error(`${describe()} timed out`)
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    },
    send(line) {
      child.stdin!.write(`${line}\n`)
    },
    async exit(timeoutMs = CHILD_TIMEOUT_MS) {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${describe()} did not exit`)), timeoutMs)
      })
      try {
        return await Promise.race([gone, timeout])
      } finally {
        clearTimeout(timer)
      }
    },
    closeStdin() {
      child.stdin!.end()
    },
    async kill() {
      if (exitCode === undefined) child.kill('SIGKILL')
      await gone
    },
    stderr: () => stderr,
  }
  running.add(handle)
  return handle
}

/** Kills every child still running (for `afterEach`: a failed test leaves none behind). */
export async function killAll(): Promise<void> {
  await Promise.all([...running].map((child) => child.kill()))
}

/** The JSON after `prefix ` on a printed line. */
export function payload<T = Record<string, unknown>>(line: string, prefix: string): T {
  if (!line.startsWith(`${prefix} `)) throw new Error(`expected "${prefix} …", got ${line}`)
  return JSON.parse(line.slice(prefix.length + 1)) as T
}

/** The numbers of the projects titled `tag:n` in a database, sorted. */
export async function projectNumbers(url: string, tag: string): Promise<number[]> {
  const db = await openDatabase({ url })
  try {
    const projects = await db.projectStates.find({ title: { startsWith: `${tag}:` } })
    return projects.map((p) => Number(p.title.slice(tag.length + 1))).sort((a, b) => a - b)
  } finally {
    await db.close()
  }
}

/** Projects (by title) whose number of scenes is not `expected`: a torn transaction. */
export async function projectsWithoutScenes(url: string, expected: number): Promise<string[]> {
  const db = await openDatabase({ url })
  try {
    const rows = await db.dialect.kysely
      .selectFrom('project_states as p')
      .leftJoin('scene_states as s', 's.project_id', 'p.id')
      .select(['p.title', sql<number>`count(s.id)`.as('scenes')])
      .groupBy(['p.id', 'p.title'])
      .execute()
    return rows.filter((r) => Number(r.scenes) !== expected).map((r) => r.title as string)
  } finally {
    await db.close()
  }
}

/**
 * A small tmpfs that only the fault tests' children see: mounted inside a private mount namespace
 * (`unshare -m`) held open by a `cat` process. Children enter it with `nsenter`; this process
 * reaches its files through `/proc/<pid>/root`, which SQLite must not be given (it resolves the
 * link and would write to the real disk underneath), so only plain file operations use that view.
 */
export interface SmallDisk {
  /** The mount point, as processes inside the namespace see it. */
  readonly path: string
  /** Runs a command inside the namespace (in the project directory): the `prefix` of {@link startFaultChild}. */
  readonly prefix: readonly string[]
  /** This process's view of a path inside the namespace. */
  outside(path: string): string
  /** Writes a ballast file that leaves exactly `bytes` free (to the file system's block size). */
  fill(bytes: number): void
  /** Deletes the ballast: the space is free again. */
  release(): void
  /** Unmounts it (the namespace ends with its last process) and removes the directory. */
  remove(): Promise<void>
}

export async function mountSmallDisk(sizeBytes: number): Promise<SmallDisk> {
  const scratch = mkdtempSync(join(tmpdir(), 'aura-fault-'))
  const path = join(scratch, 'disk')
  mkdirSync(path)
  const holder = spawn(
    'unshare',
    [
      '-m',
      'sh',
      '-c',
      'mount -t tmpfs -o "size=$2,mode=0700" tmpfs "$1" && echo mounted && exec cat',
      'sh',
      path,
      String(sizeBytes),
    ],
    // `cat` reads the pipe from this process: the namespace goes away when the test runner does.
    { stdio: ['pipe', 'pipe', 'pipe'] },
  )
  const gone = new Promise<void>((resolve) => holder.on('close', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    let stderr = ''
    holder.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    holder.stdout.setEncoding('utf8').on('data', (chunk: string) => chunk.includes('mounted') && resolve())
    holder.on('close', (code) => reject(new Error(`mounting a tmpfs failed (exit ${code}): ${stderr}`)))
  })
  const outside = (inner: string) => `/proc/${holder.pid}/root${inner}`
  const ballast = outside(join(path, 'ballast'))
  return {
    path,
    prefix: ['nsenter', `--mount=/proc/${holder.pid}/ns/mnt`, `--wd=${ROOT}`],
    outside,
    fill(bytes) {
      const { bavail, bsize } = statfsSync(outside(path))
      const size = bavail * bsize - bytes
      if (size <= 0) throw new Error(`only ${bavail * bsize} bytes are free, cannot leave ${bytes}`)
      writeFileSync(ballast, Buffer.alloc(size))
    },
    release() {
      rmSync(ballast)
    },
    async remove() {
      holder.kill('SIGKILL')
      await gone
      rmSync(scratch, { recursive: true, force: true })
    },
  }
}

/** Whether `unshare -m` can mount a tmpfs here (root, or a user namespace with mount rights). */
export function tmpfsMountError(): string | null {
  const probe = spawnSync(
    'unshare',
    [
      '-m',
      'sh',
      '-c',
      'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" && umount "$d" && rmdir "$d"',
    ],
    { encoding: 'utf8', timeout: 10_000 },
  )
  if (probe.error) return `unshare could not run: ${probe.error.message}`
  if (probe.status !== 0)
    return `unshare -m + mount -t tmpfs failed (exit ${probe.status}): ${probe.stderr.trim()}`
  if (spawnSync('nsenter', ['--version']).status !== 0) return 'nsenter is not available'
  return null
}

/** A migrated database per test, dropped after it; children still running are killed first. */
export function useFreshDatabase(d: TestDialect): () => TestDatabase {
  let target: TestDatabase | undefined
  beforeEach(async () => {
    target = await d.create()
    const db = await openDatabase({ url: target.url, migrate: true })
    await db.close()
  })
  afterEach(async () => {
    await killAll()
    await target?.drop()
  })
  return () => target!
}
