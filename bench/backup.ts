/**
 * The SQLite backup benchmark (quality.md, "backup"): `db.backup()` against a plain file copy of
 * the same database, alone and while a writer commits. Part of `npm run bench`; run alone with
 * `--only backup`.
 */
import { closeSync, copyFileSync, fsyncSync, openSync, rmSync, statSync } from 'node:fs'
import { copyFile, open } from 'node:fs/promises'
import { join } from 'node:path'
import { openDatabase, type AuraDatabase } from '../src/index.js'
import type { BackupResult } from './compare.js'
import { quantile } from './harness.js'

/** Writer commits timed with nothing else running, half before the backups, half after. */
const IDLE_COMMITS = 1000

/** The p99 of a list of durations. */
function p99(values: number[]): number {
  return quantile(Float64Array.from(values).sort(), 0.99)
}

/** One `db.backup()`, timed as a whole and up to its first verify event (the copy phase). */
async function timedBackup(db: AuraDatabase, dir: string): Promise<{ seconds: number; copySeconds: number }> {
  const started = performance.now()
  let copied = 0
  await db.backup({
    dir,
    onProgress: ({ phase }) => {
      if (phase === 'verify' && copied === 0) copied = performance.now()
    },
  })
  const ended = performance.now()
  return { seconds: (ended - started) / 1000, copySeconds: ((copied || ended) - started) / 1000 }
}

/**
 * An online backup of the benchmark database while a writer of the same process commits small
 * units (a configuration value and its audit entry), against a plain copy of the same file.
 * 1. Copies the file once to warm the page cache for both, then times a second copy.
 * 2. Times 500 writer commits with nothing else running: the idle latency.
 * 3. Times one `db.backup()` alone, then one while the writer keeps committing until it is done.
 * 4. Times 500 more idle commits, pooled with the first.
 * The writer shares the event loop with the backup, as an application's writes would. A commit's
 * latency is measured from its start; its wait for the event loop (the backup's synchronous steps
 * hold the thread) is reported apart, as the writer's p99 turn.
 */
export async function timeBackup(file: string, dir: string): Promise<BackupResult> {
  const copy = join(dir, 'copy.db')
  copyFileSync(file, copy)
  const { size } = statSync(file)
  // A backup is flushed to disk before it counts; so is the copy it is compared with.
  const started = performance.now()
  copyFileSync(file, copy)
  const fd = openSync(copy, 'r')
  fsyncSync(fd)
  closeSync(fd)
  const copySeconds = (performance.now() - started) / 1000
  rmSync(copy)

  const db = await openDatabase({ url: `sqlite:${file}`, actor: 'bench' })
  const backups = join(dir, 'backups')
  try {
    let n = 0
    const commit = async (): Promise<{ commit: number; turn: number }> => {
      // On SQLite a free handle completes the write synchronously: without a turn of the event
      // loop between commits, the writer would starve the backup's steps (they run as
      // macrotasks) and the backup would never finish.
      const asked = performance.now()
      await new Promise((resolve) => setImmediate(resolve))
      const t = performance.now()
      await db.configurations.set('Bench.BackupWriter', n++, { category: 'Bench' })
      const end = performance.now()
      return { commit: end - t, turn: end - asked }
    }
    // The idle latency is sampled before and after the backups: on a shared machine the disk's
    // fsync time drifts, and one window of 200 commits put the idle p99 anywhere in 0.7-23 ms.
    const idle: { commit: number; turn: number }[] = []
    for (let i = 0; i < IDLE_COMMITS / 2; i++) idle.push(await commit())

    const quiet = await timedBackup(db, backups)

    // The same writer during a plain copy of the file (off the thread, then flushed): what writing
    // that many bytes to the same disk costs the writer's commits by itself, without SQLite.
    const duringCopy: { commit: number; turn: number }[] = []
    let copied = false
    const plainCopy = (async () => {
      await copyFile(file, copy)
      const handle = await open(copy, 'r')
      await handle.sync()
      await handle.close()
    })().finally(() => (copied = true))
    while (!copied) duringCopy.push(await commit())
    await plainCopy
    rmSync(copy)

    const during: { commit: number; turn: number }[] = []
    let done = false
    const backup = timedBackup(db, backups).finally(() => (done = true))
    while (!done) during.push(await commit())
    const loaded = await backup
    for (let i = 0; i < IDLE_COMMITS / 2; i++) idle.push(await commit())

    const copyMBps = size / 1e6 / copySeconds
    const backupMBps = size / 1e6 / loaded.seconds
    const writerIdleP99Us = p99(idle.map((c) => c.commit)) * 1000
    const writerDuringBackupP99Us = p99(during.map((c) => c.commit)) * 1000
    return {
      sizeBytes: size,
      copyMBps,
      quietBackupMBps: size / 1e6 / quiet.seconds,
      quietCopyPhaseMBps: size / 1e6 / quiet.copySeconds,
      backupMBps,
      throughputRatio: backupMBps / copyMBps,
      writerIdleP99Us,
      writerDuringBackupP99Us,
      latencyRatio: writerDuringBackupP99Us / writerIdleP99Us,
      writerIdleTurnP99Us: p99(idle.map((c) => c.turn)) * 1000,
      writerDuringBackupTurnP99Us: p99(during.map((c) => c.turn)) * 1000,
      commitsDuringBackup: during.length,
      writerDuringCopyP99Us: p99(duringCopy.map((c) => c.commit)) * 1000,
    }
  } finally {
    await db.close()
  }
}

const integer = (n: number) => Math.round(n).toLocaleString('en')
const verdict = (met: boolean) => (met ? 'ok' : 'MISSED')

/** The result as the report's lines. */
export function formatBackup(b: BackupResult): string {
  return (
    `backup of ${(b.sizeBytes / 1e6).toFixed(0)} MB: ${b.quietBackupMBps.toFixed(0)} MB/s alone ` +
    `(copy phase ${b.quietCopyPhaseMBps.toFixed(0)} MB/s), ${b.backupMBps.toFixed(0)} MB/s with a writer running; ` +
    `file copy + fsync ${b.copyMBps.toFixed(0)} MB/s: alone ${(b.quietBackupMBps / b.copyMBps).toFixed(2)}×, ` +
    `with the writer ${b.throughputRatio.toFixed(2)}× (target ≥ 0.5× ${verdict(b.throughputRatio >= 0.5)})\n` +
    `writer p99 commit ${integer(b.writerIdleP99Us)} µs idle, ${integer(b.writerDuringBackupP99Us)} µs during ` +
    `(${b.commitsDuringBackup} commits): ${b.latencyRatio.toFixed(2)}× (target ≤ 2× ${verdict(b.latencyRatio <= 2)}); ` +
    `p99 with the wait for the event loop ${integer(b.writerIdleTurnP99Us)} µs idle, ` +
    `${integer(b.writerDuringBackupTurnP99Us)} µs during; ` +
    `p99 commit during a plain file copy + fsync ${integer(b.writerDuringCopyP99Us)} µs ` +
    `(${(b.writerDuringCopyP99Us / b.writerIdleP99Us).toFixed(2)}× idle)\n`
  )
}
