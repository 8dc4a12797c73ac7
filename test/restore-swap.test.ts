import Database from 'better-sqlite3'
import pg from 'pg'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BackupError, listBackups, openDatabase, restoreDatabase, type SchemaSnapshot } from '../src/index.js'
import { dumpAll, startChildWithEnv } from './backup-helpers.js'
import { snapshot } from './cli-helpers.js'
import { dialects, type TestDatabase, type TestDialect } from './dialects.js'

/**
 * The two ends of a restore that the refusal tests (restore.test.ts) cannot reach: the swap itself,
 * and the verification after it. Both hold the restoring process at a step with the test-only
 * pause points of src/pause-point.ts (AURA_TEST_PAUSE_AT / AURA_TEST_PAUSE_DIR).
 */

async function waitForFile(path: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} did not appear within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Retries `restore` while PostgreSQL still counts the session of a killed process as open. */
async function restoreOnceFree(restore: () => Promise<unknown>): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await restore()
      return
    } catch (error) {
      if (i > 50 || !/another process/.test((error as Error).message)) throw error
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

/** Each dialect, and on PostgreSQL each backup format (pg_dump's archive, the library's logical export). */
const variants: { d: TestDialect; format: string; withoutTools: boolean }[] = dialects.flatMap((d) =>
  d.name === 'sqlite'
    ? [{ d, format: 'file copy', withoutTools: false }]
    : [
        { d, format: 'pg_dump archive', withoutTools: false },
        { d, format: 'logical export', withoutTools: true },
      ],
)

for (const { d, format, withoutTools } of variants) {
  describe.skipIf(!d.available)(`${d.name} (${format}): the restore swap and its verification`, () => {
    let target: TestDatabase
    let dir: string
    let backupFile: string
    /** Every row at the time of the backup, and of the live database that a restore replaces. */
    let backupState: Record<string, string[]>
    let liveState: Record<string, string[]>
    let schema: SchemaSnapshot

    beforeEach(async () => {
      target = await d.create()
      dir = join(target.dir, 'backups')
      const db = await openDatabase({ url: target.url })
      const path = process.env.PATH
      try {
        await db.migrate()
        await db.projectStates.add({ title: 'In the backup' })
        await db.configurations.set('Swap.Value', 'backup', { category: 'Swap' })
        // Without the client tools on PATH, a PostgreSQL backup is the library's logical export.
        if (withoutTools) process.env.PATH = join(target.dir, 'empty-bin')
        backupFile = (await db.backup({ dir })).file
        process.env.PATH = path
        backupState = await dumpAll(target.url, d.name)
        for (let i = 0; i < 3; i++) await db.projectStates.add({ title: `After the backup ${i}` })
        await db.configurations.set('Swap.Value', 'live')
      } finally {
        process.env.PATH = path
        await db.close()
      }
      liveState = await dumpAll(target.url, d.name)
      expect(liveState).not.toEqual(backupState)
      schema = await snapshot(target.url)
    })
    afterEach(async () => {
      await target.drop()
    })

    it('a restore killed (SIGKILL) in the middle of the swap leaves the old database whole; the next restore completes', async () => {
      const pause = mkdtempSync(join(target.dir, 'pause-'))
      const child = startChildWithEnv(
        { AURA_TEST_PAUSE_AT: 'restore:swap', AURA_TEST_PAUSE_DIR: pause },
        'restore',
        target.url,
        dir,
        basename(backupFile),
      )
      try {
        await waitForFile(join(pause, 'paused'))
      } finally {
        await child.kill()
      }
      expect(child.lines).toEqual([])
      // Old or new, never a mix; killed before the swap committed, it is the old one, every row
      // of it, with the schema the migrations made.
      expect(await dumpAll(target.url, d.name)).toEqual(liveState)
      expect(await snapshot(target.url)).toEqual(schema)

      await restoreOnceFree(() => restoreDatabase({ url: target.url, file: backupFile, dir, yes: true }))
      expect(await dumpAll(target.url, d.name)).toEqual(backupState)
      expect(await snapshot(target.url)).toEqual(schema)
    })

    /**
     * Restores the backup, pausing it where the swapped-in database is verified to run `during`
     * there; the restore's error, or null.
     */
    async function restorePausedAtVerify(during: () => Promise<void>): Promise<unknown> {
      const pause = mkdtempSync(join(target.dir, 'pause-'))
      process.env.AURA_TEST_PAUSE_AT = 'restore:verify'
      process.env.AURA_TEST_PAUSE_DIR = pause
      try {
        const restoring = restoreDatabase({ url: target.url, file: backupFile, dir, yes: true }).then(
          () => null,
          (e: unknown) => e,
        )
        await waitForFile(join(pause, 'paused'))
        await during()
        writeFileSync(join(pause, 'resume'), '')
        return await restoring
      } finally {
        delete process.env.AURA_TEST_PAUSE_AT
        delete process.env.AURA_TEST_PAUSE_DIR
      }
    }

    // The verification does not depend on the backup's format: once per dialect is enough.
    // SQLite checks the swapped-in file under its exclusive lock, so no one can write in between
    // and a restore that swapped successfully never reports a failure because of another process.
    it.runIf(!withoutTools && d.name === 'sqlite')(
      'the restored file is verified under its exclusive lock: no process can read or write it until the check is done',
      async () => {
        const error = await restorePausedAtVerify(async () => {
          // Between the swap and the end of the check, another connection (no busy wait) can
          // neither read nor write the file at the database's path.
          const other = new Database(target.file!, { timeout: 0 })
          try {
            expect(() => other.prepare('select count(*) from configurations').get()).toThrow(/locked/)
          } finally {
            other.close()
          }
        })
        expect(error).toBeNull()
        expect(await dumpAll(target.url, d.name)).toEqual(backupState)
      },
    )

    // PostgreSQL checks after the restore released the database: a write in between is reported.
    it.runIf(!withoutTools && d.name === 'postgres')(
      'a restored database that does not match the backup is reported, naming the safety backup, which is kept',
      async () => {
        const error = await restorePausedAtVerify(async () => {
          // A writer gets in between the swap and the verification.
          const writer = await openDatabase({ url: target.url })
          try {
            await writer.configurations.set('Swap.Intruder', 'x', { category: 'Swap' })
          } finally {
            await writer.close()
          }
        })
        expect(error).toBeInstanceOf(BackupError)
        const message = (error as Error).message
        expect(message).toMatch(/does not match the backup: .*configurations has \d+ rows, the backup \d+/)
        const safety = listBackups(dir).filter((b) => b.kind === 'safety')
        expect(safety).toEqual([expect.objectContaining({ verified: true })])
        expect(message).toContain(basename(safety[0]!.file))

        // The safety backup holds the database as it was before the restore.
        await restoreDatabase({ url: target.url, file: safety[0]!.file, dir, yes: true })
        expect(await dumpAll(target.url, d.name)).toEqual(liveState)
      },
    )

    it.runIf(!withoutTools && d.name === 'postgres')(
      'a restored migration history that differs from the backup, with the same number of rows, is reported',
      async () => {
        const error = await restorePausedAtVerify(async () => {
          // Another process rewrites a history row: every table keeps its row count.
          const client = new pg.Client({ connectionString: target.url })
          await client.connect()
          try {
            await client.query(
              `update aura_migrations set name = name || '_Other' where name = (select max(name) from aura_migrations)`,
            )
          } finally {
            await client.end()
          }
        })
        expect(error).toBeInstanceOf(BackupError)
        expect((error as Error).message).toMatch(/does not match the backup: the migration history differs/)
      },
    )
  })
}
