import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { finished, runCli, runCliJson, startCli } from './cli-helpers.js'
import { dialects, type TestDatabase } from './dialects.js'

/** Waits, without a time bound, until `path` exists. */
async function until(path: string): Promise<void> {
  while (!existsSync(path)) await sleep(20)
}

// Issue 23, item 8: Ctrl-C during a backup said nothing and left a full-size temporary file.
for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.name}: Ctrl-C during aura-db backup`, () => {
    let target: TestDatabase
    beforeAll(async () => {
      target = await d.create()
      const init = await runCli(['--db', target.url, 'init'])
      expect(init.code, init.stderr).toBe(0)
    })
    afterAll(() => target?.drop())

    it('says what was interrupted and in what state things are, removes the temporary file, exits 130', async () => {
      const dir = join(target.dir, 'backups')
      const pause = join(target.dir, 'pause')
      mkdirSync(pause)
      // Held once the copy is written to its temporary file: the moment a user's Ctrl-C leaves the most behind.
      const child = startCli(['--db', target.url, 'backup', '--dir', dir], {
        AURA_TEST_PAUSE_AT: 'backup:written',
        AURA_TEST_PAUSE_DIR: pause,
      })
      const result = finished(child)
      await until(join(pause, 'paused'))
      expect(readdirSync(dir).filter((name) => name.startsWith('.tmp-aura-'))).toHaveLength(1)
      child.kill('SIGINT')
      const run = await result
      expect(run.code).toBe(130)
      expect(run.stderr).toMatch(
        /^interrupted: Backup stopped: no backup was written and its temporary file was removed; the database is unchanged/m,
      )
      expect(readdirSync(dir)).toEqual([])
      const listed = await runCliJson(['--db', target.url, 'backups', '--dir', dir])
      expect(listed.json.backups).toEqual([])
      // The next backup runs as usual.
      const next = await runCli(['--db', target.url, 'backup', '--dir', dir])
      expect(next.code, next.stderr).toBe(0)
    })
  })
}
