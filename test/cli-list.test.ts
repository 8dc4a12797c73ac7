import { appendFileSync, readdirSync, rmSync, unlinkSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { dialects, type TestDatabase } from './dialects.js'
import { copyMigrations, INITIAL, runCli, runCliJson, withDatabase } from './cli-helpers.js'

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: aura-db list`, () => {
    let target: TestDatabase
    let migrations: string

    beforeEach(async () => {
      target = await d.create()
      migrations = copyMigrations()
    })
    afterEach(async () => {
      rmSync(dirname(migrations), { recursive: true, force: true })
      await target.drop()
    })

    it('reports an applied migration edited since as changed, and one whose file is gone as missing', async () => {
      const db = ['--db', target.url, '--migrations-dir', migrations]
      const names = readdirSync(migrations)
        .filter((f) => /^\d{14}_\w+\.ts$/.test(f))
        .sort()
        .map((f) => f.slice(0, -3))
      expect(names[0]).toBe(INITIAL)
      const newest = names.at(-1)!
      expect(newest).not.toBe(INITIAL)
      await withDatabase(target.url, migrations, (handle) => handle.migrate())

      appendFileSync(join(migrations, `${INITIAL}.ts`), '\n// edited after it was applied\n')
      unlinkSync(join(migrations, `${newest}.ts`))
      const verdicts = Object.fromEntries(
        names.map((name) => [name, name === INITIAL ? 'changed' : name === newest ? 'missing' : 'ok']),
      )

      const list = await runCliJson([...db, 'list'])
      expect(list.code, list.stderr).toBe(0)
      expect(
        list.json.migrations.map((m: { name: string; checksum: string }) => [m.name, m.checksum]),
      ).toEqual(names.map((name) => [name, verdicts[name]]))
      expect(list.json.migrations.every((m: { state: string }) => m.state === 'applied')).toBe(true)

      const human = await runCli([...db, 'list'])
      expect(human.code, human.stderr).toBe(0)
      const rows = human.stdout
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((line) => line.split(/ {2,}/))
      expect(rows.map((row) => [row[0], row.at(-1)])).toEqual(names.map((name) => [name, verdicts[name]]))
    })
  })
}
