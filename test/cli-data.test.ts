import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { sql } from 'kysely'
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { dialects, POSTGRES_URL, sqlite, type TestDatabase } from './dialects.js'
import {
  BIN,
  expectOneLineError,
  PACKAGE_MIGRATIONS,
  runCli,
  runCliJson,
  withDatabase,
} from './cli-helpers.js'

const exec = promisify(execFile)

/** Every project title, sorted: the user-visible state a backup must keep. */
async function titles(url: string): Promise<string[]> {
  return withDatabase(url, PACKAGE_MIGRATIONS, async (db) =>
    (await db.projectStates.getAll({ includeDeleted: true })).map((p) => p.title).sort(),
  )
}

async function addProject(url: string, title: string): Promise<void> {
  await withDatabase(url, PACKAGE_MIGRATIONS, async (db) => {
    await db.projectStates.add({ title })
  })
}

describe('sqlite: commands that only look do not create a database', () => {
  it.each(['status', 'list', 'verify', 'seed', 'rollback', 'remove', 'backup'])(
    '%s on a missing file: a clear error, and no file is left behind',
    async (command) => {
      const target = await sqlite.create()
      try {
        const result = await runCli(['--db', target.url, command])
        expect(result.code).not.toBe(0)
        const [line] = expectOneLineError(result.stderr)
        expect(line).toContain(target.file!)
        expect(line).toMatch(/does not exist/)
        expect(existsSync(target.file!)).toBe(false)
      } finally {
        await target.drop()
      }
    },
  )
})

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: aura-db data commands`, () => {
    let target: TestDatabase
    let db: string[]
    let backupDir: string

    beforeEach(async () => {
      target = await d.create()
      backupDir = join(target.dir, 'backups')
      db = ['--db', target.url]
      const init = await runCli([...db, 'init'])
      expect(init.code, init.stderr).toBe(0)
    })
    afterEach(() => target.drop())

    it('backup, backups, restore --yes: the JSON shapes of cli.md and the state of the backup back', async () => {
      await addProject(target.url, 'In the backup')
      const backup = await runCliJson([...db, 'backup', '--dir', backupDir])
      expect(backup.code, backup.stderr).toBe(0)
      expect(backup.json).toEqual({
        file: expect.stringContaining(backupDir),
        manifest: `${backup.json.file}.json`,
        sizeBytes: expect.any(Number),
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        migration: expect.stringMatching(/^\d{14}_\w+$/),
        pruned: [],
      })
      const manifest = JSON.parse(readFileSync(backup.json.manifest, 'utf8'))
      expect(manifest).toMatchObject({ sha256: backup.json.sha256, sizeBytes: backup.json.sizeBytes })

      const listed = await runCliJson([...db, 'backups', '--dir', backupDir])
      expect(listed.code).toBe(0)
      expect(listed.json.backups).toEqual([
        expect.objectContaining({ file: backup.json.file, sizeBytes: backup.json.sizeBytes, verified: true }),
      ])

      const inBackup = await titles(target.url)
      await addProject(target.url, 'After the backup')

      // Without --yes on a non-terminal stdin the restore refuses (usage) and changes nothing.
      const refused = await runCli([...db, 'restore', backup.json.file, '--dir', backupDir])
      expect(refused.code).toBe(2)
      expect(expectOneLineError(refused.stderr)[0]).toMatch(/--yes/)
      expect(await titles(target.url)).toContain('After the backup')

      const restored = await runCliJson([...db, '--yes', 'restore', backup.json.file, '--dir', backupDir])
      expect(restored.code, restored.stderr).toBe(0)
      expect(restored.json).toMatchObject({
        restored: backup.json.file,
        safetyBackup: expect.stringMatching(/aura_pre_restore_/),
      })
      expect(await titles(target.url)).toEqual(inBackup)

      const verify = await runCliJson([...db, 'verify'])
      expect(verify.code).toBe(0)
      expect(verify.json.ok).toBe(true)
    })

    it('restore brings back a database that is gone (file deleted, PostgreSQL database dropped)', async () => {
      await addProject(target.url, 'Survivor')
      const backup = await runCliJson([...db, 'backup', '--dir', backupDir])
      expect(backup.code, backup.stderr).toBe(0)
      const inBackup = await titles(target.url)
      if (target.file) {
        for (const suffix of ['', '-wal', '-shm']) rmSync(`${target.file}${suffix}`, { force: true })
      } else {
        const admin = new pg.Client({ connectionString: POSTGRES_URL })
        await admin.connect()
        try {
          await admin.query(`drop database ${admin.escapeIdentifier(new URL(target.url).pathname.slice(1))}`)
        } finally {
          await admin.end()
        }
      }
      const restored = await runCliJson([...db, '--yes', 'restore', backup.json.file, '--dir', backupDir])
      expect(restored.code, restored.stderr).toBe(0)
      expect(restored.json.safetyBackup).toBeNull()
      expect(await titles(target.url)).toEqual(inBackup)
    })

    it('restore of a damaged backup: exit 1 naming the problem, the database unchanged, no safety backup', async () => {
      await addProject(target.url, 'Live')
      const backup = await runCliJson([...db, 'backup', '--dir', backupDir])
      expect(backup.code, backup.stderr).toBe(0)
      const bytes = readFileSync(backup.json.file)
      writeFileSync(backup.json.file, bytes.subarray(0, Math.floor(bytes.length / 2)))
      const before = await titles(target.url)
      const result = await runCli([...db, '--yes', 'restore', backup.json.file, '--dir', backupDir])
      expect(result.code).toBe(1)
      expect(expectOneLineError(result.stderr)[0]).toMatch(/manifest|sha256|size/i)
      expect(await titles(target.url)).toEqual(before)
      expect(readdirSync(backupDir).filter((f) => f.startsWith('aura_pre_restore_'))).toEqual([])
    })

    it('verify exits 3 and names the blob whose content no longer matches its hash', async () => {
      const hash = await withDatabase(target.url, PACKAGE_MIGRATIONS, async (handle) => {
        const p = await handle.projectStates.add({ title: 'Versioned', briefJson: '{"topic":"blobs"}' })
        const v = await handle.projectVersions.create(p.id, { type: 'Manual' })
        await handle.dialect.kysely
          .updateTable('content_blobs')
          .set({ content: '{"topic":"bloBs"}' })
          .where('content_hash', '=', v.briefHash)
          .execute()
        return v.briefHash!
      })
      const result = await runCliJson([...db, 'verify'])
      expect(result.code).toBe(3)
      expect(result.json.ok).toBe(false)
      const failed = result.json.checks.filter((c: { ok: boolean }) => !c.ok)
      expect(failed).toEqual([
        { name: 'content blob hashes', ok: false, detail: expect.stringContaining(hash) },
      ])
    })

    it('migrate and rollback take a verified backup first when a SQLite database holds data (PostgreSQL: none)', async () => {
      await addProject(target.url, 'Worth keeping')
      const rollback = await runCliJson([...db, '--yes', 'rollback'])
      expect(rollback.code, rollback.stderr).toBe(0)
      const migrate = await runCliJson([...db, 'migrate'])
      expect(migrate.code, migrate.stderr).toBe(0)
      const skipped = await runCliJson([...db, '--yes', 'rollback', '--no-backup'])
      expect(skipped.code, skipped.stderr).toBe(0)
      expect(skipped.json.backup).toBeNull()
      if (d.name === 'sqlite') {
        for (const taken of [rollback.json.backup, migrate.json.backup]) {
          expect(taken).toMatch(/aura_backup_\d{8}_\d{6}_\d{3}\.db$/)
          expect(existsSync(taken)).toBe(true)
          expect(existsSync(`${taken}.json`)).toBe(true)
        }
        const listed = await runCliJson([...db, 'backups'])
        expect(listed.json.backups.map((b: { file: string }) => b.file).sort()).toEqual(
          [rollback.json.backup, migrate.json.backup].sort(),
        )
      } else {
        // PostgreSQL runs its DDL transactionally on a server with its own backups: no file is taken.
        expect([rollback.json.backup, migrate.json.backup]).toEqual([null, null])
      }
    })

    it('backup on a terminal shows progress on stderr; piped, it shows none', async () => {
      await addProject(target.url, 'Progress')
      const piped = await runCli([...db, 'backup', '--dir', backupDir])
      expect(piped.code, piped.stderr).toBe(0)
      expect(piped.stderr).toBe('')
      // `script` gives the command a pseudo-terminal, as a user's shell would.
      const command = [process.execPath, BIN, ...db, 'backup', '--dir', backupDir]
        .map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`)
        .join(' ')
      const { stdout } = await exec('script', ['-qec', command, '/dev/null'], {
        env: { ...process.env, NO_COLOR: '1' },
      })
      expect(stdout).toMatch(/Backing up: \S+/)
      expect(stdout).toMatch(/aura_backup_\d{8}_\d{6}_\d{3}\.(db|dump)/)
    })

    it('seed after the user changed a seeded row keeps the change', async () => {
      await withDatabase(target.url, PACKAGE_MIGRATIONS, async (handle) => {
        const [welcome] = await handle.projectStates.find({ title: { startsWith: 'Welcome to Aura' } })
        await handle.projectStates.update({ ...welcome!, description: 'mine now' })
      })
      const seed = await runCliJson([...db, 'seed'])
      expect(seed.code, seed.stderr).toBe(0)
      await withDatabase(target.url, PACKAGE_MIGRATIONS, async (handle) => {
        const rows = await handle.projectStates.find({ title: { startsWith: 'Welcome to Aura' } })
        expect(rows.map((p) => p.description)).toEqual(['mine now'])
        const { rows: counts } = await sql<{
          n: number | string
        }>`select count(*) as n from project_states`.execute(handle.dialect.kysely)
        expect(Number(counts[0]!.n)).toBe(3)
      })
    })
  })
}
