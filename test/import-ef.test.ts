import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  importEfDatabase,
  ImportError,
  openDatabase,
  verifyDatabase,
  type AuraDatabase,
} from '../src/index.js'
import { dialects, type TestDatabase } from './dialects.js'
import { buildLegacyDatabase, legacyHashes, legacyRows, P1, type LegacyRow } from './legacy-fixture.js'

const SECRET = randomBytes(32).toString('base64')

/** legacy table → how to read its imported row back through the public API. */
const TARGETS: Record<string, { key: string; get: (db: AuraDatabase, key: string) => Promise<any> }> = {
  ProjectStates: { key: 'Id', get: (db, k) => db.projectStates.getById(k, { includeDeleted: true }) },
  SceneStates: { key: 'Id', get: (db, k) => db.sceneStates.getById(k, { includeDeleted: true }) },
  AssetStates: { key: 'Id', get: (db, k) => db.assetStates.getById(k, { includeDeleted: true }) },
  RenderCheckpoints: { key: 'Id', get: (db, k) => db.renderCheckpoints.getById(k, { includeDeleted: true }) },
  ProjectVersions: { key: 'Id', get: (db, k) => db.projectVersions.getById(k, { includeDeleted: true }) },
  ContentBlobs: { key: 'ContentHash', get: (db, k) => db.contentBlobs.getById(k) },
  Configurations: { key: 'Key', get: (db, k) => db.configurations.getById(k) },
  templates: { key: 'id', get: (db, k) => db.templates.getById(k) },
  custom_templates: { key: 'id', get: (db, k) => db.customTemplates.getById(k, { includeDeleted: true }) },
  export_history: { key: 'id', get: (db, k) => db.exportHistory.getById(k) },
  ActionLogs: { key: 'Id', get: (db, k) => db.actionLogs.getById(k) },
  user_setup: { key: 'id', get: (db, k) => db.userSetups.getById(k) },
  system_configuration: { key: 'id', get: (db) => db.systemConfiguration.getById(1) },
}

/** Legacy columns whose field is not the column's name in camelCase. */
const RENAMED: Record<string, Record<string, string>> = {
  ProjectVersions: { CreatedByUserId: 'createdBy' },
  Configurations: { Version: 'rowVersion' },
}

/** Legacy columns checked separately (inline version content, the sensitive value, the surrogate id). */
const SEPARATE: Record<string, readonly string[]> = {
  ProjectVersions: ['BriefJson', 'PlanSpecJson', 'VoiceSpecJson', 'RenderSpecJson', 'TimelineJson'],
  ContentBlobs: ['ReferenceCount'],
  system_configuration: ['id'],
}

const camel = (column: string) =>
  column.includes('_')
    ? column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())
    : column[0]!.toLowerCase() + column.slice(1)

const GUID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/i
const EF_TIME = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,7}))?$/

/** The documented normalisation of one legacy value, given the value it became. */
function normalise(value: LegacyRow[string], actual: unknown, row: LegacyRow, column: string): unknown {
  if (value === null) return null
  if (typeof value === 'string' && value.startsWith('0001-01-01')) {
    // The sentinel: "none" in a nullable column, else the row's creation time.
    return column === 'LastAutoSaveAt'
      ? null
      : normalise(row.CreatedAt ?? row.created_at ?? null, actual, row, 'CreatedAt')
  }
  if (typeof value === 'string' && EF_TIME.test(value)) {
    const [, date, time, fraction = ''] = EF_TIME.exec(value)!
    return new Date(`${date}T${time}.${fraction.padEnd(3, '0').slice(0, 3)}Z`)
  }
  if (typeof actual === 'boolean') return value === 1
  // Keys and references are lower-cased; a GUID inside free text (AffectedResourceIds) is text.
  if (typeof value === 'string' && GUID.test(value) && /^(Id|ProjectId|id)$/.test(column))
    return value.toLowerCase()
  return typeof value === 'bigint' ? Number(value) : value
}

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: import of the .NET app's database`, () => {
    let dir: string
    let legacyFile: string
    let app: Database.Database | null
    let target: TestDatabase
    let db: AuraDatabase
    const rows = legacyRows()

    beforeAll(async () => {
      if (!d.available) return
      dir = mkdtempSync(join(tmpdir(), 'aura-legacy-test-'))
      legacyFile = join(dir, 'aura.db')
      // The app still has the file open: its -wal and -shm lie beside it.
      app = buildLegacyDatabase(legacyFile, rows, { keepOpen: true })
      target = await d.create()
      db = await openDatabase({ url: target.url, actor: 'importer', secretKey: SECRET, migrate: true })
    })
    afterAll(async () => {
      await db?.close()
      app?.close()
      await target?.drop()
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    it('a dry run reports everything and writes nothing', async () => {
      const before = legacyHashes(legacyFile)
      expect(before[1]).not.toBeNull()
      const report = await importEfDatabase(db, legacyFile, { dryRun: true })
      expect(report.ok).toBe(true)
      expect(report.problems).toEqual([])
      expect(report.tables.find((t) => t.legacy === 'ProjectStates')?.imported).toBe(3)
      expect(report.notImported).toEqual([
        { table: 'MediaItems', rows: 2 },
        { table: 'QueuedJobs', rows: 1 },
      ])
      expect(report.efMigrations).toHaveLength(8)
      expect(await db.projectStates.count({}, { includeDeleted: true })).toBe(0)
      expect(await db.auditEntries.count()).toBe(0)
      expect(legacyHashes(legacyFile)).toEqual(before)
      expect(report.sourceUnchanged).toBe(true)
    })

    it('imports every row of the 13 tables, every value as the app wrote it; the legacy file is unchanged', async () => {
      const before = legacyHashes(legacyFile)
      const report = await importEfDatabase(db, legacyFile)
      expect(report.ok).toBe(true)
      expect(legacyHashes(legacyFile)).toEqual(before)
      expect(report.source.sha256).toBe(before[0])

      for (const t of report.tables)
        expect(t.imported, t.legacy).toBe(rows[t.legacy]!.length + (t.legacy === 'ContentBlobs' ? 1 : 0))
      expect(await db.projectStates.count({}, { includeDeleted: true })).toBe(3)
      expect(await db.sceneStates.count({}, { includeDeleted: true })).toBe(3)
      expect(await db.projectVersions.count({}, { includeDeleted: true })).toBe(4)
      // Two blobs from the legacy table, one made from content a version held only inline.
      expect(report.blobsFromInlineContent).toBe(1)
      expect(await db.contentBlobs.count()).toBe(3)

      for (const [table, list] of Object.entries(rows)) {
        const { key, get } = TARGETS[table]!
        for (const row of list) {
          const entity = await get(db, String(row[key]))
          expect(entity, `${table} ${String(row[key])}`).not.toBeNull()
          for (const [column, value] of Object.entries(row)) {
            if (SEPARATE[table]?.includes(column)) continue
            if (table === 'Configurations' && column === 'Value') continue
            const field = RENAMED[table]?.[column] ?? camel(column)
            // One of CreatedBy / CreatedByUserId may be empty: the other fills createdBy.
            if (table === 'ProjectVersions' && column.startsWith('CreatedBy') && value === null) continue
            if (field.endsWith('Hash') && table === 'ProjectVersions' && value === null) continue
            // A column the target does not have (yet) may only have been empty: the import
            // refuses a value with nowhere to go.
            if (!(field in entity)) {
              expect(
                normalise(value, undefined, row, column),
                `${table} ${column} has no column in the target`,
              ).toBeNull()
              continue
            }
            expect(entity[field], `${table} ${String(row[key])} ${column}`).toEqual(
              normalise(value, entity[field], row, column),
            )
          }
        }
      }

      // Stage names, statuses and value types of the app, kept.
      const p1 = (await db.projectStates.getById(P1))!
      expect(p1.currentStage).toBe('VoiceGeneration')
      expect(p1.title.length).toBeGreaterThan(500)
      expect(
        await db.renderCheckpoints.count({ projectId: P1, stageName: 'VoiceGeneration', isValid: true }),
      ).toBe(2)
      expect((await db.exportHistory.find({ status: 'Processing' })).length).toBe(1)
      expect(await db.configurations.getValue('General.LastProjectId')).toBeNull()
      // Soft-deleted stays soft-deleted, with its versions.
      const p2 = rows.ProjectStates![1]!
      expect(await db.projectStates.getById(String(p2.Id))).toBeNull()
      expect((await db.projectStates.getById(String(p2.Id), { includeDeleted: true }))?.deletedBy).toBe('bob')

      // Inline version content is the version's content, byte for byte.
      for (const row of rows.ProjectVersions!) {
        const content = await db.projectVersions.getContent(String(row.Id), { includeDeleted: true })
        if (row.BriefJson !== null) expect(content.brief).toBe(row.BriefJson)
        if (row.PlanSpecJson !== null) expect(content.plan).toBe(row.PlanSpecJson)
        if (row.VoiceSpecJson !== null) expect(content.voice).toBe(row.VoiceSpecJson)
      }
      // Reference counts recomputed (live versions), the stale one reported.
      const briefBlob = rows.ContentBlobs![0]!
      expect((await db.contentBlobs.getById(String(briefBlob.ContentHash)))?.referenceCount).toBe(2)
      expect(report.referenceCounts).toEqual([{ hash: briefBlob.ContentHash, legacy: 5, actual: 2 }])

      // The sensitive value: readable with the key, never stored in plaintext.
      expect(await db.configurations.getValue('Providers.OpenAI.ApiKey')).toBe('sk-live-secret-123')
      expect(report.encryptedValues).toBe(1)
      const stored = await db.dialect.kysely
        .selectFrom('configurations')
        .select('value')
        .where('key', '=', 'Providers.OpenAI.ApiKey')
        .executeTakeFirstOrThrow()
      expect(String(stored.value)).not.toContain('sk-live-secret-123')

      expect(report.normalised.guidsLowerCased).toBeGreaterThan(10)
      expect(report.normalised.sentinelTimestamps).toBe(4)
      expect(report.normalised.subMillisecondTimestamps).toBeGreaterThan(0)

      // One audit entry for the import: who, and the source's hash.
      const audit = await db.auditEntries.find({ action: 'import' })
      expect(audit).toHaveLength(1)
      expect(audit[0]).toMatchObject({ actor: 'importer', rowId: before[0], tableName: '*' })
      expect(report.auditEntryId).toBe(audit[0]!.id)

      expect((await verifyDatabase(db)).checks.filter((c) => !c.ok)).toEqual([])
    })

    it('a second import refuses the non-empty target; --merge skips every key already there', async () => {
      const count = await db.projectStates.count({}, { includeDeleted: true })
      await expect(importEfDatabase(db, legacyFile)).rejects.toBeInstanceOf(ImportError)
      const report = await importEfDatabase(db, legacyFile, { merge: true })
      for (const t of report.tables) {
        expect(t.imported, t.legacy).toBe(0)
        if (t.legacy === 'ContentBlobs') continue
        expect(t.skipped, t.legacy).toBe(rows[t.legacy]!.length)
      }
      expect(await db.projectStates.count({}, { includeDeleted: true })).toBe(count)
      expect(await db.contentBlobs.count()).toBe(3)
      expect(await db.auditEntries.count({ action: 'import' })).toBe(2)
      expect((await verifyDatabase(db)).ok).toBe(true)
    })

    it('refuses without a secret key, and values it cannot keep, naming table, key and column; nothing written', async () => {
      const other = await d.create()
      const plain = await openDatabase({ url: other.url, migrate: true })
      try {
        const file = join(dir, 'nokey.db')
        buildLegacyDatabase(file)
        const error = await importEfDatabase(plain, file).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(ImportError)
        expect((error as Error).message).toContain('AURA_SECRET_KEY')

        const bad = legacyRows()
        bad.AssetStates![0]!.AssetType = 'Font'
        bad.ContentBlobs![0]!.Content = 'tampered'
        const badFile = join(dir, 'bad.db')
        buildLegacyDatabase(badFile, bad)
        const refused = (await importEfDatabase(db, badFile).catch((e: unknown) => e)) as ImportError
        const withKey = await openDatabase({ url: other.url, secretKey: SECRET })
        try {
          const refusedHere = (await importEfDatabase(withKey, badFile).catch(
            (e: unknown) => e,
          )) as ImportError
          expect(refusedHere).toBeInstanceOf(ImportError)
          expect(refusedHere.problems).toEqual(
            expect.arrayContaining([
              expect.objectContaining({
                table: 'AssetStates',
                key: 'A55E7000-0000-4000-8000-000000000001',
                column: 'AssetType',
              }),
              expect.objectContaining({ table: 'ContentBlobs', column: 'ContentHash' }),
            ]),
          )
          const dry = await importEfDatabase(withKey, badFile, { dryRun: true })
          expect(dry.ok).toBe(false)
          expect(dry.problems.length).toBe(refusedHere.problems.length)
        } finally {
          await withKey.close()
        }
        expect(refused).toBeInstanceOf(ImportError)
        expect(await plain.projectStates.count({}, { includeDeleted: true })).toBe(0)
        expect(await plain.auditEntries.count()).toBe(0)
      } finally {
        await plain.close()
        await other.drop()
      }
    })

    it('refuses a truncated file, a file that is not SQLite and a database of another shape, with no write', async () => {
      const other = await d.create()
      const empty = await openDatabase({ url: other.url, secretKey: SECRET, migrate: true })
      try {
        const truncated = join(dir, 'truncated.db')
        buildLegacyDatabase(truncated)
        truncateSync(truncated, Math.floor(statSync(truncated).size / 2))
        const notSqlite = join(dir, 'notes.txt')
        writeFileSync(notSqlite, 'these are not the tables you are looking for\n'.repeat(200))
        const wrong = join(dir, 'wrong.db')
        const w = new Database(wrong)
        w.exec('create table ProjectStates (Id text primary key, Name text)')
        w.close()
        for (const [file, words] of [
          [truncated, 'damaged'],
          [notSqlite, 'not a SQLite database'],
          [wrong, 'a shape Aura Data can import'],
          [join(dir, 'missing.db'), 'does not exist'],
        ] as const) {
          const before = file.endsWith('missing.db') ? null : readFileSync(file)
          const error = await importEfDatabase(empty, file).catch((e: unknown) => e)
          expect(error, file).toBeInstanceOf(ImportError)
          expect((error as Error).message).toContain(words)
          if (before) expect(readFileSync(file).equals(before)).toBe(true)
        }
        expect(await empty.projectStates.count({}, { includeDeleted: true })).toBe(0)
        expect(await empty.auditEntries.count()).toBe(0)
      } finally {
        await empty.close()
        await other.drop()
      }
    })
  })
}
