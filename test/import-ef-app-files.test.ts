import { randomBytes } from 'node:crypto'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  importEfDatabase,
  ImportError,
  openDatabase,
  verifyDatabase,
  type AuraDatabase,
} from '../src/index.js'
import { dialects, type TestDatabase } from './dialects.js'
import { buildLegacyDatabase, legacyRows, P1 } from './legacy-fixture.js'

const SECRET = randomBytes(32).toString('base64')
const SCENE_1 = '5C7F0000-0000-4000-8000-000000000001'
const SCENE_2 = '5C7F0000-0000-4000-8000-000000000002'

/** Changes a built legacy file the way only raw SQL can (bytes, constraints the app's DDL forbids). */
function alterLegacy(file: string, sql: string): void {
  const legacy = new Database(file)
  legacy.exec(sql)
  legacy.close()
}

async function refusal(work: Promise<unknown>): Promise<ImportError> {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(ImportError)
  return error as ImportError
}

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.name}: import ef of the files the app writes`, () => {
    let target: TestDatabase
    let db: AuraDatabase

    beforeEach(async () => {
      target = await d.create()
      db = await openDatabase({ url: target.url, actor: 'importer', secretKey: SECRET, migrate: true })
    })
    afterEach(async () => {
      await db?.close()
      await target?.drop()
    })

    it('a scene index taken twice moves after the project’s last index, reported and audited; --strict refuses', async () => {
      const rows = legacyRows()
      // The app's index on (ProjectId, SceneIndex) is not unique: a third scene at index 0.
      rows.SceneStates!.push({ ...rows.SceneStates![0]!, Id: 'DD000000-0000-4000-8000-000000000009' })
      rows.SceneStates![1]!.SceneIndex = 0
      const file = join(target.dir, 'duplicates.db')
      buildLegacyDatabase(file, rows)

      const strict = await refusal(importEfDatabase(db, file, { strict: true }))
      expect(strict.problems.map((p) => [p.table, p.key, p.column])).toEqual([
        ['SceneStates', SCENE_2, 'SceneIndex'],
        ['SceneStates', 'DD000000-0000-4000-8000-000000000009', 'SceneIndex'],
      ])
      expect(await db.sceneStates.count({}, { includeDeleted: true })).toBe(0)

      const report = await importEfDatabase(db, file)
      expect(report.ok).toBe(true)
      const moves = [
        { table: 'SceneStates', key: SCENE_2, projectId: P1.toLowerCase(), oldIndex: 0, newIndex: 1 },
        {
          table: 'SceneStates',
          key: 'DD000000-0000-4000-8000-000000000009',
          projectId: P1.toLowerCase(),
          oldIndex: 0,
          newIndex: 2,
        },
      ]
      expect(report.sceneIndexMoves).toEqual(moves)
      expect((await db.sceneStates.getById(SCENE_1))?.sceneIndex).toBe(0)
      expect((await db.sceneStates.getById(SCENE_2))?.sceneIndex).toBe(1)
      expect((await db.sceneStates.getById('DD000000-0000-4000-8000-000000000009'))?.sceneIndex).toBe(2)
      const [audit] = await db.auditEntries.find({ action: 'import' })
      expect(JSON.parse(String(audit!.changesJson)).sceneIndexMoves).toEqual(moves)
    })

    it('text that is not UTF-8 is refused naming the row, never replaced', async () => {
      const file = join(target.dir, 'latin1.db')
      buildLegacyDatabase(file)
      // Bytes a Latin-1 tool or a torn write may leave: E9 ("é" in Latin-1) and FF FE 80.
      alterLegacy(
        file,
        `update ProjectStates set Title = cast(x'436166E9' as text) where Id = '${P1}';
         update SceneStates set ScriptText = cast(x'FFFE80' as text) where Id = '${SCENE_2}';`,
      )
      const dry = await importEfDatabase(db, file, { dryRun: true })
      expect(dry.ok).toBe(false)
      const error = await refusal(importEfDatabase(db, file))
      for (const problems of [dry.problems, error.problems])
        expect(problems.map((p) => [p.table, p.key, p.column])).toEqual([
          ['ProjectStates', P1, 'Title'],
          ['SceneStates', SCENE_2, 'ScriptText'],
        ])
      expect(error.problems[0]!.reason).toContain('43 61 66 e9')
      expect(await db.projectStates.count({}, { includeDeleted: true })).toBe(0)
    })

    it('each bad value is one problem; a UTC offset is converted and counted', async () => {
      const rows = legacyRows()
      rows.ProjectStates![2]!.UpdatedAt = '2025-09-02 15:14:15.5+02:00'
      const file = join(target.dir, 'offset.db')
      buildLegacyDatabase(file, rows)
      const report = await importEfDatabase(db, file)
      expect(report.normalised.timestampsWithOffset).toBe(1)
      expect((await db.projectStates.getById(String(rows.ProjectStates![2]!.Id)))?.updatedAt).toEqual(
        new Date('2025-09-02T13:14:15.500Z'),
      )

      // A file whose ProjectStates lost its NOT NULL constraints, with a Title of NULL.
      const other = join(target.dir, 'nulls.db')
      buildLegacyDatabase(other)
      alterLegacy(
        other,
        `create table loose as select * from ProjectStates; drop table ProjectStates;
         alter table loose rename to ProjectStates; update ProjectStates set Title = null where Id = '${P1}';`,
      )
      const dry = await importEfDatabase(db, other, { dryRun: true, merge: true })
      expect(dry.problems.filter((p) => p.column === 'Title')).toEqual([
        { table: 'ProjectStates', key: P1, column: 'Title', reason: 'is NULL' },
      ])
    })

    it('a file of an older app version imports what it has, naming the version and what was absent', async () => {
      const file = join(target.dir, 'older.db')
      buildLegacyDatabase(file)
      // One migration behind: without the last migration's audit columns and the system configuration.
      alterLegacy(
        file,
        `delete from "__EFMigrationsHistory" where MigrationId = '20251122175419_AddMissingDatabaseTables';
         alter table ContentBlobs drop column CreatedBy; alter table ContentBlobs drop column ModifiedBy;
         alter table ContentBlobs drop column UpdatedAt; alter table ProjectVersions drop column UpdatedAt;
         drop table system_configuration;`,
      )
      const report = await importEfDatabase(db, file)
      expect(report.ok).toBe(true)
      expect(report.appVersion).toEqual({
        lastMigration: '20251121045900_AddCreatedByToConfigurations',
        productVersion: '8.0.11',
        missingMigrations: ['20251122175419_AddMissingDatabaseTables'],
      })
      expect(report.absent).toEqual([
        { table: 'ContentBlobs', column: 'CreatedBy' },
        { table: 'ContentBlobs', column: 'ModifiedBy' },
        { table: 'ContentBlobs', column: 'UpdatedAt' },
        { table: 'ProjectVersions', column: 'UpdatedAt' },
        { table: 'system_configuration', column: null },
      ])
      const rows = legacyRows()
      const blob = (await db.contentBlobs.getById(String(rows.ContentBlobs![0]!.ContentHash)))!
      expect(blob.updatedAt).toEqual(blob.createdAt)
      expect(blob.createdBy).toBeNull()
      expect(await db.projectVersions.count({}, { includeDeleted: true })).toBe(4)

      // A column no version of the app had is still refused, naming it and the version found.
      const odd = join(target.dir, 'odd.db')
      buildLegacyDatabase(odd)
      alterLegacy(odd, 'alter table SceneStates add column Mood text')
      const refused = await refusal(importEfDatabase(db, odd, { merge: true }))
      expect(refused.problems).toEqual([
        {
          table: 'SceneStates',
          key: null,
          column: 'Mood',
          reason: 'unknown column: its values would be lost',
        },
      ])
      expect(refused.message).toContain('20251122175419_AddMissingDatabaseTables')
    })

    it('a merge whose legacy scene takes an index a scene added here holds: the dry run and the merge agree', async () => {
      const first = join(target.dir, 'first.db')
      buildLegacyDatabase(first)
      await importEfDatabase(db, first)
      // In Aura Data the user added scene 2 to P1; the app, still in use, added its own scene 2.
      await db.sceneStates.add({ id: 'ADDED000-0000-4000-8000-000000000001', projectId: P1, sceneIndex: 2 })
      const rows = legacyRows()
      rows.SceneStates!.push({
        ...rows.SceneStates![0]!,
        Id: 'A0000000-0000-4000-8000-00000000000B',
        SceneIndex: 2,
      })
      const second = join(target.dir, 'second.db')
      buildLegacyDatabase(second, rows)
      const move = { key: 'A0000000-0000-4000-8000-00000000000B', oldIndex: 2, newIndex: 3 }
      const dry = await importEfDatabase(db, second, { merge: true, dryRun: true })
      expect(dry.ok).toBe(true)
      expect(dry.sceneIndexMoves).toMatchObject([move])
      const merged = await importEfDatabase(db, second, { merge: true })
      expect(merged.sceneIndexMoves).toMatchObject([move])
      expect((await db.sceneStates.getById(move.key))?.sceneIndex).toBe(3)
      expect((await db.sceneStates.getById('ADDED000-0000-4000-8000-000000000001'))?.sceneIndex).toBe(2)
    })

    it('reports each phase, not only the tables: hash (by bytes), copy, read, plan, write, commit, hash', async () => {
      const file = join(target.dir, 'phases.db')
      buildLegacyDatabase(file)
      const phases: string[] = []
      const hashed: number[] = []
      await importEfDatabase(db, file, {
        onProgress: (p) => {
          if (phases.at(-1) !== p.phase) phases.push(p.phase)
          if (p.phase === 'hash' && p.total > 1) hashed.push(p.total)
        },
      })
      expect(phases).toEqual(['hash', 'copy', 'read', 'plan', 'write', 'commit', 'hash'])
      // Hashing reports the bytes hashed of the file's size, before and after.
      expect(new Set(hashed)).toEqual(new Set([statSync(file).size]))
    })

    it('a merge adding versions of a blob already there raises its reference count; verify agrees', async () => {
      const first = join(target.dir, 'first.db')
      buildLegacyDatabase(first)
      await importEfDatabase(db, first)
      const rows = legacyRows()
      const briefHash = String(rows.ContentBlobs![0]!.ContentHash)
      const before = (await db.contentBlobs.getById(briefHash))!.referenceCount
      // The app saved one more version of P1 with the same brief after the first import.
      const version = rows.ProjectVersions!.find((v) => v.BriefHash === briefHash && v.IsDeleted === 0)!
      rows.ProjectVersions!.push({
        ...version,
        Id: 'FEED0000-0000-4000-8000-000000000001',
        VersionNumber: 99,
      })
      const second = join(target.dir, 'second.db')
      buildLegacyDatabase(second, rows)
      const report = await importEfDatabase(db, second, { merge: true })
      expect(report.tables.find((t) => t.legacy === 'ProjectVersions')?.imported).toBe(1)
      expect((await db.contentBlobs.getById(briefHash))!.referenceCount).toBe(before + 1)
      await db.projectVersions.delete('FEED0000-0000-4000-8000-000000000001')
      expect((await verifyDatabase(db)).checks.filter((c) => !c.ok)).toEqual([])

      // A count too low (as the merge used to leave it) is what verify reports.
      await db.dialect.kysely
        .updateTable('content_blobs')
        .set({ reference_count: before - 1 })
        .where('content_hash', '=', briefHash)
        .execute()
      const failed = (await verifyDatabase(db)).checks.filter((c) => !c.ok)
      expect(failed.map((c) => c.name)).toEqual(['content blob reference counts'])
      expect(failed[0]!.detail).toContain(briefHash)
    })
  })
}
