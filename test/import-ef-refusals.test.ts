import { createHash, randomBytes } from 'node:crypto'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importEfDatabase, ImportError, openDatabase, type AuraDatabase } from '../src/index.js'
import { dialects, type TestDatabase } from './dialects.js'
import { buildLegacyDatabase, legacyRows, P1, type LegacyRow } from './legacy-fixture.js'

const SECRET = randomBytes(32).toString('base64')
const sha = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex')

/** The legacy rows with `change` applied: one broken promise per file. */
function withChange(change: (rows: Record<string, LegacyRow[]>) => void): Record<string, LegacyRow[]> {
  const rows = legacyRows()
  change(rows)
  return rows
}

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.name}: import ef refuses what it cannot keep`, () => {
    let target: TestDatabase
    let db: AuraDatabase
    let n = 0

    /**
     * Builds a legacy file from `rows` (then runs `sql` on it, with foreign keys off as in a file
     * EF wrote without them); the dry run's problems, after checking the import refuses the same.
     */
    async function problemsOf(rows: Record<string, LegacyRow[]>, sql = '') {
      const file = join(target.dir, `legacy-${n++}.db`)
      buildLegacyDatabase(file, rows)
      const legacy = new Database(file)
      legacy.pragma('foreign_keys = OFF')
      legacy.exec(sql)
      legacy.close()
      const dry = await importEfDatabase(db, file, { dryRun: true })
      const error = await importEfDatabase(db, file).then(
        () => null,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(ImportError)
      expect((error as ImportError).problems).toEqual(dry.problems)
      expect(await db.projectStates.count({}, { includeDeleted: true })).toBe(0)
      return dry.problems
    }

    beforeAll(async () => {
      target = await d.create()
      db = await openDatabase({ url: target.url, secretKey: SECRET, migrate: true })
    })
    afterAll(async () => {
      await db?.close()
      await target?.drop()
    })

    it('an impossible date (02-30) is refused, not rolled over into March', async () => {
      const rows = withChange((r) => (r.ProjectStates![0]!.UpdatedAt = '2025-02-30 10:00:00'))
      expect(await problemsOf(rows)).toMatchObject([{ table: 'ProjectStates', key: P1, column: 'UpdatedAt' }])
    })

    it('an integer beyond 2^53 is refused, not rounded', async () => {
      const rows = withChange((r) => (r.AssetStates![0]!.FileSizeBytes = 2n ** 53n + 1n))
      expect(await problemsOf(rows)).toMatchObject([
        {
          table: 'AssetStates',
          key: 'A55E7000-0000-4000-8000-000000000001',
          column: 'FileSizeBytes',
          reason: expect.stringContaining('beyond 2^53'),
        },
      ])
    })

    it('two keys differing only in case are one key twice', async () => {
      const rows = withChange((r) =>
        r.SceneStates!.push({
          ...r.SceneStates![2]!,
          Id: String(r.SceneStates![2]!.Id).toLowerCase(),
          SceneIndex: 1,
        }),
      )
      expect(await problemsOf(rows)).toMatchObject([
        { table: 'SceneStates', key: '5c7f0000-0000-4000-8000-000000000003', column: 'Id' },
      ])
    })

    it('a child naming a project that does not exist is reported', async () => {
      const missing = 'DEADBEEF-0000-4000-8000-000000000000'
      const sql = `update RenderCheckpoints set ProjectId = '${missing}' where Id = 'C0C0C0C0-0000-4000-8000-000000000004'`
      expect(await problemsOf(legacyRows(), sql)).toMatchObject([
        { table: 'RenderCheckpoints', key: 'C0C0C0C0-0000-4000-8000-000000000004', column: 'ProjectId' },
      ])
    })

    it('inline version content that does not hash to its hash column is refused', async () => {
      const rows = withChange((r) => {
        const version = r.ProjectVersions![0]!
        // The inline brief was edited after its blob was written: which one is the version's?
        version.BriefJson = '{"Topic":"Edited later"}'
        expect(version.BriefHash).not.toBe(sha(String(version.BriefJson)))
      })
      expect(await problemsOf(rows)).toMatchObject([
        { table: 'ProjectVersions', key: '7E500000-0000-4000-8000-000000000001', column: 'BriefJson' },
      ])
    })
  })
}
