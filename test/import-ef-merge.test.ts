import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  importEfDatabase,
  ImportError,
  openDatabase,
  verifyDatabase,
  type AuraDatabase,
} from '../src/index.js'
import { runCliJson } from './cli-helpers.js'
import { dialects, type TestDatabase } from './dialects.js'
import { buildLegacyDatabase, legacyRows, P1, P3, type LegacyRow } from './legacy-fixture.js'

const SECRET = randomBytes(32).toString('base64')
const SCENE_1 = '5C7F0000-0000-4000-8000-000000000001'
const VERSION_1 = '7E500000-0000-4000-8000-000000000001'

/** The legacy rows as the app left them after the first import: edited, one project deleted. */
function editedRows(): Record<string, LegacyRow[]> {
  const rows = legacyRows()
  const p1 = rows.ProjectStates!.find((p) => p.Id === P1)!
  p1.Title = 'Renamed in the app'
  p1.UpdatedAt = '2025-12-01 10:00:00'
  const p3 = rows.ProjectStates!.find((p) => p.Id === P3)!
  Object.assign(p3, { IsDeleted: 1, DeletedAt: '2025-12-02 08:00:00', DeletedBy: 'alice' })
  rows.SceneStates!.find((s) => s.Id === SCENE_1)!.ScriptText = 'A new intro'
  const setting = rows.Configurations!.find((c) => c.Key === 'General.AutosaveEnabled')!
  Object.assign(setting, { Value: 'false', Version: 2 })
  rows.ProjectVersions!.find((v) => v.Id === VERSION_1)!.Name = 'Before the big edit'
  return rows
}

for (const d of dialects) {
  describe.skipIf(!d.available)(
    `${d.name}: import ef --merge of a file changed since the first import`,
    () => {
      let target: TestDatabase
      let db: AuraDatabase
      let second: string

      beforeEach(async () => {
        target = await d.create()
        db = await openDatabase({ url: target.url, actor: 'importer', secretKey: SECRET, migrate: true })
        const first = join(target.dir, 'first.db')
        buildLegacyDatabase(first)
        await importEfDatabase(db, first)
        second = join(target.dir, 'second.db')
        buildLegacyDatabase(second, editedRows())
      })
      afterEach(async () => {
        await db?.close()
        await target?.drop()
      })

      it('reports each changed row (table, key, columns), keeps the target’s rows, and skips identical ones', async () => {
        const report = await importEfDatabase(db, second, { merge: true })
        expect(report.ok).toBe(true)
        expect(report.mergeUpdate).toBe(false)
        expect(report.differences).toEqual([
          { table: 'ProjectStates', key: P1, columns: ['Title'], updated: false },
          { table: 'ProjectStates', key: P3, columns: ['IsDeleted'], updated: false },
          { table: 'SceneStates', key: SCENE_1, columns: ['ScriptText'], updated: false },
          { table: 'ProjectVersions', key: VERSION_1, columns: ['Name'], updated: false },
          { table: 'Configurations', key: 'General.AutosaveEnabled', columns: ['Value'], updated: false },
        ])
        const projects = report.tables.find((t) => t.legacy === 'ProjectStates')!
        expect(projects).toMatchObject({ imported: 0, skipped: 3, differing: 2, updated: 0 })
        expect(report.tables.find((t) => t.legacy === 'AssetStates')).toMatchObject({
          skipped: 3,
          differing: 0,
        })
        expect((await db.projectStates.getById(P1))!.title).not.toBe('Renamed in the app')
        expect((await db.configurations.get('General.AutosaveEnabled'))?.value).toBe('true')
      })

      it('--merge=update takes them through the repositories: audited, row versions incremented, one transaction', async () => {
        const before = (await db.projectStates.getById(P1))!
        const dry = await importEfDatabase(db, second, { merge: 'update', dryRun: true })
        expect(dry.ok).toBe(true)
        expect(dry.differences.every((x) => x.updated)).toBe(true)
        expect((await db.projectStates.getById(P1))!.title).toBe(before.title)

        const report = await importEfDatabase(db, second, { merge: 'update' })
        expect(report.tables.find((t) => t.legacy === 'ProjectStates')).toMatchObject({
          skipped: 1,
          differing: 2,
          updated: 2,
        })
        const p1 = (await db.projectStates.getById(P1))!
        expect(p1.title).toBe('Renamed in the app')
        expect(p1.rowVersion).toBe(before.rowVersion + 1)
        expect(await db.projectStates.getById(P3)).toBeNull()
        expect((await db.projectStates.getById(P3, { includeDeleted: true }))?.isDeleted).toBe(true)
        expect((await db.sceneStates.getById(SCENE_1))?.scriptText).toBe('A new intro')
        expect((await db.projectVersions.getById(VERSION_1))?.name).toBe('Before the big edit')
        expect((await db.configurations.get('General.AutosaveEnabled'))?.value).toBe('false')

        // Each update has its audit entry, with the import's entry in the same unit (correlation id).
        const entries = await db.auditEntries.find({ correlationId: (await importEntry(db)).correlationId })
        expect(entries.map((e) => [e.tableName, e.action]).sort()).toEqual(
          [
            ['*', 'import'],
            ['configurations', 'update'],
            ['project_states', 'soft_delete'],
            ['project_states', 'update'],
            ['project_versions', 'update'],
            ['scene_states', 'update'],
          ].sort(),
        )
        expect((await verifyDatabase(db)).checks.filter((c) => !c.ok)).toEqual([])
      })

      it('--merge=update: what the repository would refuse is found by the dry run, and nothing is written', async () => {
        const rows = editedRows()
        // The app cannot change a version's content in Aura Data's terms: the version is immutable.
        rows.ProjectVersions!.find((v) => v.Id === VERSION_1)!.VersionNumber = 7
        // The app moved scene 1 to the index a scene added in Aura Data holds.
        rows.SceneStates!.find((s) => s.Id === SCENE_1)!.SceneIndex = 5
        await db.sceneStates.add({ id: 'ADDED000-0000-4000-8000-000000000001', projectId: P1, sceneIndex: 5 })
        const file = join(target.dir, 'third.db')
        buildLegacyDatabase(file, rows)
        const expected = [
          ['SceneStates', SCENE_1, 'SceneIndex'],
          ['ProjectVersions', VERSION_1, 'VersionNumber'],
        ]
        const dry = await importEfDatabase(db, file, { merge: 'update', dryRun: true })
        expect(dry.ok).toBe(false)
        expect(dry.problems.map((p) => [p.table, p.key, p.column])).toEqual(expected)
        const refused = await importEfDatabase(db, file, { merge: 'update' }).catch((e: unknown) => e)
        expect(refused).toBeInstanceOf(ImportError)
        expect((refused as ImportError).problems.map((p) => [p.table, p.key, p.column])).toEqual(expected)
        // Without update the same file merges: the differences are reported, the target kept.
        const kept = await importEfDatabase(db, file, { merge: true })
        expect(kept.ok).toBe(true)
        expect((await db.projectStates.getById(P1))!.title).not.toBe('Renamed in the app')
      })

      it('the CLI: --merge --json lists the differences, --merge=update takes them, another mode is refused', async () => {
        const merged = await runCliJson(['--db', target.url, 'import', 'ef', second, '--merge'], {
          AURA_SECRET_KEY: SECRET,
        })
        expect(merged.code).toBe(0)
        expect(merged.json.differences).toHaveLength(5)
        const updated = await runCliJson(['--db', target.url, 'import', 'ef', second, '--merge=update'], {
          AURA_SECRET_KEY: SECRET,
        })
        expect(updated.code).toBe(0)
        expect(updated.json.mergeUpdate).toBe(true)
        expect(updated.json.differences.every((x: { updated: boolean }) => x.updated)).toBe(true)
        expect((await db.projectStates.getById(P1))!.title).toBe('Renamed in the app')
        const bad = await runCliJson(['--db', target.url, 'import', 'ef', second, '--merge=overwrite'], {
          AURA_SECRET_KEY: SECRET,
        })
        expect(bad.code).not.toBe(0)
        expect(JSON.stringify(bad.json)).toContain('update')
      })
    },
  )
}

async function importEntry(db: AuraDatabase) {
  const [entry] = await db.auditEntries.find({ action: 'import' }, { orderBy: { id: 'desc' }, limit: 1 })
  return entry!
}
