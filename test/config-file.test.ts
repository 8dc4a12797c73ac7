import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MigrationError, openDatabase } from '../src/index.js'
import { ROOT, runCli } from './cli-helpers.js'
import { dialects, type TestDatabase } from './dialects.js'

/** Runs `fn` with `dir` as the working directory, as an application started there would. */
async function inFolder<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const before = process.cwd()
  process.chdir(dir)
  try {
    return await fn()
  } finally {
    process.chdir(before)
  }
}

// A project's aura.config.json names its database and its own migrations: `aura-db` and
// `openDatabase()` started in that folder must see the same ones (issue 23, item 3).
for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.name}: aura.config.json read by the library as by the CLI`, () => {
    let target: TestDatabase
    let project: string
    let appMigration: string

    beforeEach(async () => {
      target = await d.create()
      mkdirSync(join(ROOT, 'test', '.tmp'), { recursive: true })
      project = mkdtempSync(join(ROOT, 'test', '.tmp', 'config-project-'))
      writeFileSync(
        join(project, 'aura.config.json'),
        JSON.stringify({ databaseUrl: target.url, migrationsDir: './db/migrations' }),
      )
      const added = await runCli(['--json', 'add', 'AddNotes', '--empty'], {}, { cwd: project })
      expect(added.code, added.stderr).toBe(0)
      appMigration = (JSON.parse(added.stdout) as { name: string }).name
      const migrated = await runCli(['migrate'], {}, { cwd: project })
      expect(migrated.code, migrated.stderr).toBe(0)
    })
    afterEach(async () => {
      rmSync(project, { recursive: true, force: true })
      await target.drop()
    })

    it('openDatabase({ migrate: true }) in the folder uses its database and migrations', async () => {
      const db = await inFolder(project, () => openDatabase({ migrate: true }))
      try {
        const status = await db.status()
        expect(status.drift).toEqual([])
        expect(status.pending).toEqual([])
        expect(status.current).toBe(appMigration)
      } finally {
        await db.close()
      }
    })

    it('an explicit option wins over the file, the other settings still apply', async () => {
      const other = await d.create()
      try {
        const db = await inFolder(project, () => openDatabase({ url: other.url }))
        try {
          // A fresh database: the run applies the package's migrations and the folder's.
          const run = await db.migrate()
          expect(run.error).toBeUndefined()
          expect(run.results.map((r) => r.name)).toContain(appMigration)
        } finally {
          await db.close()
        }
      } finally {
        await other.drop()
      }
    })

    it('without the file, the error says to pass migrationsDir, not to restore files', async () => {
      const error = await inFolder(project, () =>
        openDatabase({ url: target.url, configFile: false, migrate: true }),
      ).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(MigrationError)
      expect((error as Error).message).toContain(appMigration)
      expect((error as Error).message).toMatch(/Pass migrationsDir to openDatabase\(\)/)
      expect((error as Error).message).not.toMatch(/Restore the original files/)
    })
  })
}
