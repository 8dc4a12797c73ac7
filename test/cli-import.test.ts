import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  BIN,
  expectOneLineError,
  PACKAGE_MIGRATIONS,
  ROOT,
  runCli,
  runCliJson,
  withDatabase,
} from './cli-helpers.js'
import { dialects, type TestDatabase } from './dialects.js'
import { buildLegacyDatabase, legacyHashes, legacyRows } from './legacy-fixture.js'

const exec = promisify(execFile)
const KEY = { AURA_SECRET_KEY: randomBytes(32).toString('base64') }

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: aura-db import ef`, () => {
    let target: TestDatabase
    let legacy: string

    beforeEach(async () => {
      target = await d.create()
      legacy = join(target.dir, 'legacy-aura.db')
      buildLegacyDatabase(legacy)
      expect((await runCli(['--db', target.url, 'migrate'])).code).toBe(0)
    })
    afterEach(async () => {
      await target?.drop()
    })

    it('--dry-run prints the full report and writes nothing; the import then writes every row; again: refused', async () => {
      const before = legacyHashes(legacy)
      const dry = await runCliJson(['--db', target.url, 'import', 'ef', legacy, '--dry-run'], KEY)
      expect(dry.code).toBe(0)
      expect(dry.json).toMatchObject({ ok: true, dryRun: true, auditEntryId: null })
      expect(dry.json.notImported).toEqual([
        { table: 'MediaItems', rows: 2 },
        { table: 'QueuedJobs', rows: 1 },
      ])
      expect(
        await withDatabase(target.url, PACKAGE_MIGRATIONS, (db) =>
          db.projectStates.count({}, { includeDeleted: true }),
        ),
      ).toBe(0)

      const human = await runCli(['--db', target.url, 'import', 'ef', legacy], KEY)
      expect(human.code).toBe(0)
      expect(human.stdout).toContain('ProjectStates')
      expect(human.stdout).toContain('MediaItems (2 rows)')
      expect(human.stdout).toContain('Imported in one transaction')
      // Not a terminal: no progress line.
      expect(human.stderr).toBe('')
      expect(
        await withDatabase(target.url, PACKAGE_MIGRATIONS, (db) =>
          db.projectStates.count({}, { includeDeleted: true }),
        ),
      ).toBe(3)
      expect((await runCli(['--db', target.url, 'verify'])).code).toBe(0)

      const again = await runCli(['--db', target.url, 'import', 'ef', legacy], KEY)
      expect(again.code).toBe(1)
      expect(expectOneLineError(again.stderr).join(' ')).toContain('--merge')
      const merged = await runCliJson(['--db', target.url, 'import', 'ef', legacy, '--merge'], KEY)
      expect(merged.code).toBe(0)
      expect(merged.json.tables.every((t: { imported: number }) => t.imported === 0)).toBe(true)
      expect(legacyHashes(legacy)).toEqual(before)
    })

    it('--json on a refused import prints every problem, not only the first three', async () => {
      const rows = legacyRows()
      for (const asset of rows.AssetStates!) asset.AssetType = 'Font'
      rows.ProjectStates![0]!.Status = 'Paused'
      rows.ProjectStates![2]!.Status = 'Paused'
      const bad = join(target.dir, 'bad-aura.db')
      buildLegacyDatabase(bad, rows)
      const refused = await runCliJson(['--db', target.url, 'import', 'ef', bad], KEY)
      expect(refused.code).toBe(1)
      expect(refused.json.error.code).toBe('AURA_IMPORT')
      expect(
        refused.json.error.problems.map((p: { table: string; column: string }) => `${p.table}.${p.column}`),
      ).toEqual([
        'ProjectStates.Status',
        'ProjectStates.Status',
        'AssetStates.AssetType',
        'AssetStates.AssetType',
        'AssetStates.AssetType',
      ])
    })

    it('AURA_SLOW_QUERY_MS=0 logs every statement of an import and no value it binds', async () => {
      const rows = legacyRows()
      const result = await runCli(['--db', target.url, 'import', 'ef', legacy], {
        ...KEY,
        AURA_SLOW_QUERY_MS: '0',
      })
      expect(result.code, result.stderr).toBe(0)
      const lines = result.stderr.trim().split('\n')
      expect(lines.some((line) => /insert into "project_states"/.test(line))).toBe(true)
      for (const line of lines)
        expect(line).toMatch(/^aura-data: slow query \d+\.\d ms, \d+ row\(s\)(, failed)?: \S/)
      // Values of every kind the import binds: titles, texts, job ids, JSON, the API key.
      for (const value of [
        rows.ProjectStates![1]!.Title,
        rows.ProjectStates![0]!.JobId,
        rows.ProjectStates![0]!.Description,
        rows.ProjectStates![2]!.RenderSpecJson,
        rows.SceneStates![0]!.ScriptText,
        'sk-live-secret-123',
      ])
        expect(result.stderr).not.toContain(String(value))
    })

    it('without a secret key: refused with a clear error, nothing written', async () => {
      const result = await runCli(['--db', target.url, 'import', 'ef', legacy])
      expect(result.code).toBe(1)
      expect(expectOneLineError(result.stderr).join(' ')).toContain('AURA_SECRET_KEY')
      expect(
        await withDatabase(target.url, PACKAGE_MIGRATIONS, (db) =>
          db.projectStates.count({}, { includeDeleted: true }),
        ),
      ).toBe(0)
    })

    it.skipIf(d.name !== 'sqlite' || !existsSync('/usr/bin/script'))(
      'shows a progress line on a terminal',
      async () => {
        // script(1) runs the command on a pseudo-terminal, so stderr is a TTY.
        const command = [process.execPath, BIN, '--db', target.url, 'import', 'ef', legacy]
          .map((a) => `'${a}'`)
          .join(' ')
        const { stdout } = await exec('script', ['-qec', command, '/dev/null'], {
          cwd: ROOT,
          env: { ...process.env, ...KEY, NO_COLOR: '1' },
        })
        expect(stdout).toContain('Importing: ')
        expect(stdout).toContain('Imported in one transaction')
      },
    )
  })
}
