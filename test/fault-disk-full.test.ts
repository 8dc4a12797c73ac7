import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sql } from 'kysely'
import { listBackups, StorageError } from '../src/index.js'
import { tree } from './backup-helpers.js'
import { dialects, postgres, type TestDatabase } from './dialects.js'
import {
  killAll,
  mountSmallDisk,
  payload,
  startFaultChild,
  tmpfsMountError,
  type FaultChild,
  type SmallDisk,
} from './fault-helpers.js'
import { useMigratedDatabase } from './helpers.js'

/**
 * A full disk is a real one: a tmpfs of a few MiB in a private mount namespace, filled with a
 * ballast file. Where that cannot be mounted (not root, no user namespaces), these tests are
 * skipped, and say so loudly: a skipped disk-full test must never look like a passed one. With
 * AURA_REQUIRE_FAULTS=1 that is a failure instead.
 */
const unavailable = tmpfsMountError()
if (unavailable) {
  if (process.env.AURA_REQUIRE_FAULTS === '1') throw new Error(`${unavailable} (AURA_REQUIRE_FAULTS=1)`)
  const bar = '!'.repeat(78)
  console.warn(`\n${bar}\n!! THE DISK-FULL FAULT TESTS ARE SKIPPED: ${unavailable}\n${bar}\n`)
}

const DISK_BYTES = 8 * 1024 * 1024

/** Sends one command to a `commands` child and returns the lines it printed for it. */
async function command(child: FaultChild, line: string): Promise<string[]> {
  const start = child.lines.length
  child.send(line)
  await child.until((lines) => lines.length > start && lines.at(-1) === 'done')
  return child.lines.slice(start, -1)
}

function acknowledged(lines: readonly string[]): number[] {
  return lines.filter((line) => line.startsWith('ok ')).map((line) => Number(line.slice(3)))
}

/** The error each `failed n {json}` line reports. */
function failures(lines: readonly string[]): Record<string, unknown>[] {
  return lines
    .filter((line) => line.startsWith('failed '))
    .map((line) => payload(line.replace(/^failed \d+/, 'failed'), 'failed'))
}

interface Inspection {
  numbers: number[]
  torn: string[]
  failedChecks: unknown[]
}

/** What a fresh process finds in the database at `url` (inside the namespace). */
async function inspect(disk: SmallDisk, url: string): Promise<Inspection> {
  const child = startFaultChild(['inspect', url], { prefix: disk.prefix })
  expect(await child.exit()).toBe(0)
  return JSON.parse(child.lines.at(-1)!) as Inspection
}

describe.skipIf(unavailable !== null)('disk full (a real, small file system, filled up)', () => {
  let disk: SmallDisk | undefined
  let target: TestDatabase | undefined

  beforeEach(async () => {
    disk = await mountSmallDisk(DISK_BYTES)
  })

  afterEach(async () => {
    await killAll()
    await disk?.remove()
    await target?.drop()
    target = undefined
  })

  describe('sqlite: during writes', () => {
    it('fails each write with a StorageError, keeps every acknowledged commit, and recovers once space is freed', async () => {
      const url = `sqlite:${join(disk!.path, 'aura.db')}`
      const writer = startFaultChild(['commands', url], { prefix: disk!.prefix })
      await writer.until((lines) => lines.includes('ready'))
      const acked = acknowledged(await command(writer, 'write 5'))
      expect(acked).toEqual([1, 2, 3, 4, 5])

      // 1 MiB left: some more commits fit, then the WAL cannot grow.
      disk!.fill(1024 * 1024)
      const untilFull = await command(writer, 'write 100000')
      expect(untilFull.at(-1)).toMatch(/^failed /)
      acked.push(...acknowledged(untilFull))
      // Still full: the same handle is not left locked. Each attempt fails the same typed way,
      // or commits: a transaction may fit in the WAL frames that the failed one had already
      // allocated (seen once on an idle machine). Whatever commits is acknowledged and kept.
      const whileFull = await command(writer, 'attempt 3')
      expect(acknowledged(whileFull).length + failures(whileFull).length).toBe(3)
      acked.push(...acknowledged(whileFull))
      for (const error of [...failures(untilFull), ...failures(whileFull)]) {
        expect(error).toMatchObject({ name: 'StorageError', aura: true, code: 'AURA_STORAGE' })
        expect(error.message).toMatch(
          /disk holding the database is full.*not committed.*Free some disk space/,
        )
      }

      // A fresh process, the disk still full: everything acknowledged, nothing failed, nothing torn.
      expect(await inspect(disk!, url)).toEqual({ numbers: acked, torn: [], failedChecks: [] })

      // Space freed: the same process writes again, without reopening.
      disk!.release()
      const afterwards = await command(writer, 'write 5')
      expect(failures(afterwards)).toEqual([])
      acked.push(...acknowledged(afterwards))
      writer.send('close')
      expect(await writer.exit()).toBe(0)

      const final = await inspect(disk!, url)
      expect(final).toEqual({ numbers: acked, torn: [], failedChecks: [] })
    })
  })

  for (const d of dialects) {
    describe.skipIf(!d.available)(`${d.label}: during a backup`, () => {
      it('fails with a BackupError, leaves no partial file and deletes no existing backup', async () => {
        // The database is on the real disk (for SQLite too), only the backup directory is full.
        target = await d.create()
        const dir = join(disk!.path, 'backups')
        const child = startFaultChild(['commands', target.url], { prefix: disk!.prefix })
        await child.until((lines) => lines.includes('ready'))
        expect(acknowledged(await command(child, 'write 200'))).toHaveLength(200)
        const existing = []
        for (let i = 0; i < 2; i++) {
          const [line] = await command(child, `backup ${dir} 10`)
          existing.push(payload<{ file: string }>(line!, 'backup').file)
        }
        const before = tree(disk!.outside(dir))
        expect(Object.keys(before).sort()).toEqual(
          existing.flatMap((file) => [file, `${file}.json`].map((f) => f.slice(dir.length + 1))).sort(),
        )

        disk!.fill(16 * 1024)
        // keep 1: had this backup succeeded, retention would have deleted both older ones.
        const [failed] = await command(child, `backup ${dir} 1`)
        const error = payload(failed!, 'backup-failed')
        expect(error).toMatchObject({ name: 'BackupError', aura: true, code: 'AURA_BACKUP' })
        expect(error.message).toMatch(/database or disk is full|No space left on device/)
        // Byte for byte what was there: no temporary file left, no partial file under a backup name.
        expect(tree(disk!.outside(dir))).toEqual(before)
        expect(listBackups(disk!.outside(dir)).map((b) => b.verified)).toEqual([true, true])

        // Space freed: the next backup succeeds, and only now does retention prune the old ones.
        disk!.release()
        const [line] = await command(child, `backup ${dir} 1`)
        const result = payload<{ file: string; pruned: string[] }>(line!, 'backup')
        expect([...result.pruned].sort()).toEqual([...existing].sort())
        child.send('close')
        expect(await child.exit()).toBe(0)
      })
    })
  }
})

/*
 * PostgreSQL's disk is the server's, not this process's: a test cannot fill it. What the server
 * reports when its disk is full, SQLSTATE 53100 (disk_full), is raised here by a trigger instead,
 * so the library's whole write path meets the error the server would send.
 */
describe.skipIf(!postgres.available)(
  'postgres: the server reports a full disk (53100, raised by a trigger)',
  () => {
    const ctx = useMigratedDatabase(postgres)

    it('fails the write with a StorageError and writes nothing, and the next write succeeds', async () => {
      const { db } = ctx
      const kysely = db.dialect.kysely
      await sql`create function aura_test_disk_full() returns trigger language plpgsql as $$
      begin raise exception 'could not extend file: No space left on device' using errcode = '53100'; end $$`.execute(
        kysely,
      )
      await sql`create trigger aura_test_disk_full before insert on scene_states
      for each row execute function aura_test_disk_full()`.execute(kysely)
      const audited = await db.auditEntries.count()
      const error = await db
        .transaction(async (uow) => {
          const p = await uow.projectStates.add({ title: 'Full disk' })
          await uow.sceneStates.add({ projectId: p.id, sceneIndex: 0, scriptText: 'never stored' })
        })
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(StorageError)
      expect((error as StorageError).code).toBe('AURA_STORAGE')
      expect(await db.projectStates.count({ title: 'Full disk' })).toBe(0)
      expect(await db.auditEntries.count()).toBe(audited)
      await sql`drop trigger aura_test_disk_full on scene_states`.execute(kysely)
      await db.transaction(async (uow) => {
        const p = await uow.projectStates.add({ title: 'Disk freed' })
        await uow.sceneStates.add({ projectId: p.id, sceneIndex: 0, scriptText: 'stored' })
      })
      expect(await db.projectStates.count({ title: 'Disk freed' })).toBe(1)
    })
  },
)
