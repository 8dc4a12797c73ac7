import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectOneLineError, runCli, runCliJson } from './cli-helpers.js'
import { dialects, type TestDatabase } from './dialects.js'

/** A database that does not exist: a file never created, or a PostgreSQL database never created. */
function missingBeside(target: TestDatabase): string {
  return target.file === null
    ? target.url.replace(/\/([^/]+)$/, '/$1_never_created')
    : `sqlite:${join(target.dir, 'never-created.db')}`
}

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.name}: aura-db backup, backups, restore (issue 23)`, () => {
    let first: TestDatabase
    let second: TestDatabase
    let dir: string

    beforeAll(async () => {
      first = await d.create()
      second = await d.create()
      // Both databases keep their backups in one directory.
      dir = join(first.dir, 'shared-backups')
      for (const target of [first, second]) {
        const init = await runCli(['--db', target.url, 'init', '--no-seed'])
        expect(init.code, init.stderr).toBe(0)
      }
    })
    afterAll(async () => {
      await first?.drop()
      await second?.drop()
    })

    it('(9) a missing database is a usage error, exit 2, for backup, backups and restore alike', async () => {
      const missing = missingBeside(first)
      for (const args of [
        ['backup', '--dir', dir],
        ['backups', '--dir', dir],
        ['restore', '--dir', dir],
      ]) {
        const run = await runCli(['--db', missing, ...args])
        expect({ command: args[0], exit: run.code }).toEqual({ command: args[0], exit: 2 })
        expect(expectOneLineError(run.stderr)[0]).toMatch(/does not exist/)
        const json = await runCliJson(['--db', missing, ...args])
        expect(json.json.error.code).toBe('AURA_USAGE')
      }
    })

    it("(6) backups and restore list this database's backups; --all adds the others, labelled", async () => {
      const ofFirst = await runCliJson(['--db', first.url, 'backup', '--dir', dir])
      expect(ofFirst.code, ofFirst.stderr).toBe(0)
      const ofSecond = await runCliJson(['--db', second.url, 'backup', '--dir', dir])
      expect(ofSecond.code, ofSecond.stderr).toBe(0)

      for (const command of ['backups', 'restore']) {
        const listed = await runCliJson(['--db', first.url, command, '--dir', dir])
        expect(listed.code, listed.stderr).toBe(0)
        expect(listed.json.backups.map((b: { file: string }) => b.file)).toEqual([ofFirst.json.file])
        expect(listed.json.backups[0]).toMatchObject({ thisDatabase: true, source: listed.json.database })

        const all = await runCliJson(['--db', first.url, command, '--dir', dir, '--all'])
        expect(all.code, all.stderr).toBe(0)
        const byFile = new Map(all.json.backups.map((b: { file: string }) => [b.file, b]))
        expect(byFile.get(ofFirst.json.file)).toMatchObject({ thisDatabase: true })
        expect(byFile.get(ofSecond.json.file)).toMatchObject({
          thisDatabase: false,
          source: expect.not.stringMatching(new RegExp(`^${all.json.database}$`)),
        })
      }

      const human = await runCli(['--db', first.url, 'backups', '--dir', dir])
      expect(human.stdout).toContain(ofFirst.json.file)
      expect(human.stdout).not.toContain(ofSecond.json.file)
      const humanAll = await runCli(['--db', first.url, 'backups', '--dir', dir, '--all'])
      expect(humanAll.stdout).toContain(ofSecond.json.file)
      expect(humanAll.stdout).toMatch(/this one/)
    })

    it('(11) backup --json has the migration the human output shows', async () => {
      const json = await runCliJson(['--db', first.url, 'backup', '--dir', dir])
      expect(json.code, json.stderr).toBe(0)
      expect(json.json.migration).toMatch(/^\d{14}_\w+$/)
      const human = await runCli(['--db', first.url, 'backup', '--dir', dir])
      expect(human.stdout).toContain(json.json.migration)
    })

    it('(11) --keep abc is refused with the text given, not "NaN"', async () => {
      for (const keep of ['abc', '0', '1.5', '']) {
        const run = await runCli(['--db', first.url, 'backup', '--dir', dir, '--keep', keep])
        expect(run.code).toBe(2)
        const [line] = expectOneLineError(run.stderr)
        expect(line).toContain(`(got "${keep}")`)
        expect(line).not.toMatch(/NaN/)
      }
      const fromEnv = await runCli(['--db', first.url, 'backup', '--dir', dir], { AURA_BACKUP_KEEP: 'ten' })
      expect(fromEnv.code).toBe(2)
      expect(expectOneLineError(fromEnv.stderr)[0]).toMatch(/AURA_BACKUP_KEEP.*"ten"/)
    })
  })
}
