import { createHash } from 'node:crypto'
import { closeSync, existsSync, openSync, readSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import { userInfo } from 'node:os'
import type { Kysely } from 'kysely'
import type { z } from 'zod'
import type { AuraDatabase } from '../../database.js'
import {
  InvalidUtf8Text,
  openLegacySqliteFile,
  type LegacySqliteFile,
} from '../../dialect/sqlite/sqlite-legacy-file.js'
import { contentHash } from '../../domain/content-hash.js'
import { ImportError, importErrors, type ImportProblem } from '../../errors.js'
import type { ColumnSpec, TableDef } from '../../schema/define.js'
import { allTables } from '../../schema/index.js'
import { columnSchema } from '../../repository/validation.js'
import { READ_ROW } from './legacy-rows.js'
import {
  appVersionOf,
  compareWithApp,
  withLaterColumns,
  type AbsentInLegacy,
  type LegacyAppVersion,
} from './legacy-versions.js'
import { repairSceneIndexes, type SceneIndexMove } from './scene-indexes.js'
import { EF_HISTORY_TABLE, LEGACY_TABLE_NAMES, LEGACY_TABLES, type LegacyTableName } from './legacy-schema.js'
import { emptyCounts, RowReader, type NormalisationCounts } from './legacy-values.js'

/** Options of {@link importEfDatabase}. */
export interface EfImportOptions {
  /** Read, check and report everything, write nothing. */
  readonly dryRun?: boolean
  /** Import into a database that already holds data: rows whose key is there are skipped (reported). */
  readonly merge?: boolean
  /**
   * Refuse what Aura Data would otherwise repair: a scene index taken twice in one project is a
   * problem instead of a move after the project's last index.
   */
  readonly strict?: boolean
  /** Who imports, for the audit entry; default the database's actor, else the OS user name. */
  readonly actor?: string
  /** Called as rows are read and written: a table, the rows done so far, the total. */
  readonly onProgress?: (event: {
    /**
     * `hash` (the source, before and after), `copy` (the snapshot and its integrity check),
     * `read` and `write` (per table), `plan` (keys, references, blobs), `commit`. A phase without
     * rows reports done 0 of 1 when it starts and 1 of 1 when it ends; `table` then names the file.
     */
    phase: 'hash' | 'copy' | 'read' | 'plan' | 'write' | 'commit'
    table: string
    done: number
    total: number
  }) => void
}

/** A file's SHA-256 (hex), or null when it does not exist. */
export interface SourceFiles {
  readonly file: string
  readonly sha256: string
  readonly walSha256: string | null
  readonly shmSha256: string | null
}

/** One legacy table of the report. */
export interface EfImportTable {
  readonly legacy: string
  readonly target: string
  /** Rows in the legacy table. */
  readonly rows: number
  /** Rows written (or, on a dry run, that would be written). */
  readonly imported: number
  /** Rows skipped because their key is already in the target (`merge` only). */
  readonly skipped: number
  /** Up to 20 of the skipped keys. */
  readonly skippedKeys: readonly string[]
}

/** What an import did (or, on a dry run, would do). `aura-db import ef --json` prints exactly this. */
export interface EfImportReport {
  /** True when nothing stood in the way (on a dry run: the import would succeed). */
  readonly ok: boolean
  readonly dryRun: boolean
  readonly merge: boolean
  /** The legacy file and its companions, hashed before reading. */
  readonly source: SourceFiles
  /** Hashed again after the import: the same bytes (the legacy file was never changed). */
  readonly sourceUnchanged: boolean
  /** Where the rows went (safe to print). */
  readonly target: string
  readonly tables: readonly EfImportTable[]
  /** Tables of the legacy file that Aura Data does not model, with their row counts: not imported. */
  readonly notImported: readonly { readonly table: string; readonly rows: number }[]
  /** The EF Core migrations the file records (`__EFMigrationsHistory`). */
  readonly efMigrations: readonly string[]
  /** The app version that wrote the file (its last EF migration) and the app's migrations it lacks. */
  readonly appVersion: LegacyAppVersion
  /**
   * What the file lacks because an older app version wrote it: tables (imported as empty) and
   * columns (read as the NULL or DEFAULT the later migration gave existing rows).
   */
  readonly absent: readonly AbsentInLegacy[]
  readonly normalised: NormalisationCounts
  /** Content blobs whose stored reference count was not the number of live versions using them. */
  readonly referenceCounts: readonly {
    readonly hash: string
    readonly legacy: number
    readonly actual: number
  }[]
  /** Blobs created from content a version held inline (the legacy table kept it twice). */
  readonly blobsFromInlineContent: number
  /** Sensitive configuration values, stored encrypted in the target. */
  readonly encryptedValues: number
  /** Scenes whose index was already taken in their project, moved after its last index (not with `strict`). */
  readonly sceneIndexMoves: readonly SceneIndexMove[]
  /** Why the import was refused: every value that cannot be carried over (empty when ok). */
  readonly problems: readonly ImportProblem[]
  /** The `audit_entries` id of the import (null on a dry run or a refusal). */
  readonly auditEntryId: number | null
}

type Row = Record<string, unknown>

interface PlannedTable {
  readonly legacy: LegacyTableName
  readonly def: TableDef
  readonly rows: Row[]
  skipped: string[]
}

const VERSION_PARTS = [
  { column: 'BriefJson', hash: 'briefHash', type: 'Brief' },
  { column: 'PlanSpecJson', hash: 'planHash', type: 'Plan' },
  { column: 'VoiceSpecJson', hash: 'voiceHash', type: 'Voice' },
  { column: 'RenderSpecJson', hash: 'renderHash', type: 'Render' },
  { column: 'TimelineJson', hash: 'timelineHash', type: 'Timeline' },
] as const

const HASH_FIELDS = VERSION_PARTS.map((p) => p.hash)

/** Each planned row's key as the legacy file spells it (upper-case GUIDs), for the problems. */
const LEGACY_KEY = new WeakMap<Row, string>()
/** A planned version's inline content as the legacy row held it (BriefJson, …), read once. */
const INLINE_CONTENT = new WeakMap<Row, Record<string, unknown>>()
/** The blobs made from a version's inline content (they had no legacy count to compare). */
const FROM_INLINE = new WeakSet<Row>()
const legacyKey = (row: Row, fallback: unknown): string => LEGACY_KEY.get(row) ?? String(fallback)

/** The child tables whose `projectId` must name a project. */
const PROJECT_CHILDREN = new Set<LegacyTableName>([
  'SceneStates',
  'AssetStates',
  'RenderCheckpoints',
  'ProjectVersions',
])

/** Rows per INSERT: under both databases' limits on bound parameters (SQLite 32,766). */
const MAX_PARAMETERS = 30_000

/** Runs one step of the import between its two progress events (a step without rows to count). */
function inPhase<T>(
  options: EfImportOptions,
  phase: 'hash' | 'copy' | 'commit',
  subject: string,
  work: () => T,
): T {
  options.onProgress?.({ phase, table: subject, done: 0, total: 1 })
  const result = work()
  if (result instanceof Promise)
    return result.then((value: unknown) => {
      options.onProgress?.({ phase, table: subject, done: 1, total: 1 })
      return value
    }) as T
  options.onProgress?.({ phase, table: subject, done: 1, total: 1 })
  return result
}

/** Bytes hashed at a time: memory stays flat whatever the file's size (a file may exceed 2 GiB). */
const HASH_CHUNK = 4 * 1024 * 1024

function sha256File(file: string): string | null {
  let fd: number
  try {
    fd = openSync(file, 'r')
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return null
    throw error
  }
  try {
    const hash = createHash('sha256')
    const chunk = Buffer.allocUnsafe(HASH_CHUNK)
    for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) hash.update(chunk.subarray(0, n))
    return hash.digest('hex')
  } finally {
    closeSync(fd)
  }
}

function hashSource(file: string): SourceFiles {
  return {
    file,
    sha256: sha256File(file) ?? '',
    walSha256: sha256File(`${file}-wal`),
    shmSha256: sha256File(`${file}-shm`),
  }
}

/**
 * Imports the database of the .NET Aura Video Studio app (an EF Core `aura.db`, docs/importing.md)
 * into `db`, a migrated database that is empty (or, with `merge`, holds data already).
 *
 * 1. Hashes the legacy file (and its `-wal`/`-shm`), then reads a private copy of it: the file
 *    itself is never opened by SQLite, so not even its WAL state changes.
 * 2. Checks the 13 tables and their columns; anything else in the file is listed as not imported.
 * 3. Converts every row (upper-case GUIDs, EF timestamps, the `0001-01-01` sentinel, 0/1
 *    booleans) and checks every value against the target's rules. Any value that cannot be
 *    carried over is a problem naming table, key and column; with problems nothing is written.
 * 4. Writes every row in ONE transaction (all or nothing), with the original timestamps and
 *    actors, recomputes the blobs' reference counts and adds one `audit_entries` row for the
 *    import (who, when, the source's SHA-256).
 *
 * A dry run stops after 3 and returns the same report. Refusals are ImportErrors carrying the
 * problems; `report.sourceUnchanged` proves step 1.
 *
 * @example
 * const report = await importEfDatabase(db, '/home/me/.aura/aura.db', { dryRun: true })
 * if (report.ok) await importEfDatabase(db, '/home/me/.aura/aura.db')
 */
export async function importEfDatabase(
  db: AuraDatabase,
  legacyFile: string,
  options: EfImportOptions = {},
): Promise<EfImportReport> {
  db.assertOpen()
  await db.ready()
  const file = resolve(legacyFile)
  if (!existsSync(file)) throw importErrors.missingFile(file)
  const name = basename(file)
  const source = inPhase(options, 'hash', name, () => hashSource(file))
  const legacy = inPhase(options, 'copy', name, () => openLegacySqliteFile(file))
  let report: EfImportReport
  try {
    report = await importFrom(db, legacy, source, options)
  } finally {
    legacy.close()
  }
  const after = inPhase(options, 'hash', name, () => hashSource(file))
  const sourceUnchanged =
    after.sha256 === source.sha256 &&
    after.walSha256 === source.walSha256 &&
    after.shmSha256 === source.shmSha256
  return { ...report, sourceUnchanged }
}

async function importFrom(
  db: AuraDatabase,
  legacy: LegacySqliteFile,
  source: SourceFiles,
  options: EfImportOptions,
): Promise<EfImportReport> {
  const merge = options.merge === true
  const dryRun = options.dryRun === true
  const history = legacy.rows(EF_HISTORY_TABLE)
  const appVersion = appVersionOf(history)
  const absent = checkSchema(legacy, source.file, appVersion)

  const problems: ImportProblem[] = []
  const counts = emptyCounts()
  const planned = new Map<LegacyTableName, PlannedTable>()
  const readRows = (name: LegacyTableName): Row[] => {
    const rows = legacy.rows(name).map((row) => withLaterColumns(name, absent, row))
    options.onProgress?.({ phase: 'read', table: name, done: rows.length, total: rows.length })
    return rows
  }

  for (const name of LEGACY_TABLE_NAMES) {
    if (name === 'system_configuration') continue
    const def = tableDef(LEGACY_TABLES[name].target)
    const rows: Row[] = []
    for (const row of readRows(name)) {
      const reader = new RowReader(name, String(row[LEGACY_TABLES[name].key]), row, problems, counts)
      READ_ROW[name](reader)
      checkValues(def, reader, counts)
      LEGACY_KEY.set(reader.out, reader.key)
      if (name === 'ProjectVersions')
        INLINE_CONTENT.set(
          reader.out,
          Object.fromEntries(VERSION_PARTS.map((p) => [p.column, row[p.column]])),
        )
      rows.push(reader.out)
    }
    planned.set(name, { legacy: name, def, rows, skipped: [] })
  }
  const systemRows = readRows('system_configuration')
  const system = planSystemConfiguration(systemRows, problems, counts)

  const existing = await existingKeys(db)
  const nonEmpty = [...existing].filter(([, keys]) => keys.size > 0).map(([t]) => t)
  if (nonEmpty.length > 0 && !merge) throw importErrors.targetNotEmpty(nonEmpty)

  options.onProgress?.({ phase: 'plan', table: basename(source.file), done: 0, total: 1 })
  checkDuplicateKeys(planned, problems)
  // Skip by key what the target has (merge); the rest is what will be written.
  for (const table of planned.values()) {
    const keys = existing.get(table.def.name)!
    const pk = table.def.primaryKey
    const kept = table.rows.filter((row) => {
      if (!keys.has(String(row[pk]))) return true
      table.skipped.push(String(row[pk]))
      return false
    })
    table.rows.splice(0, table.rows.length, ...kept)
  }
  checkProjectReferences(planned, existing, problems)
  const sceneIndexMoves = repairSceneIndexes(
    planned.get('SceneStates')!.rows,
    merge ? await takenSceneIndexes(db) : new Map(),
    { strict: options.strict === true, legacyKey: (row) => legacyKey(row, row.id) },
    problems,
  )
  const inline = planVersionContent(planned, existing, problems)
  const { differences: referenceCounts, added: referencesAdded } = recountReferences(planned, existing)
  assignActionSequences(planned, await maxActionSequence(db))
  options.onProgress?.({ phase: 'plan', table: basename(source.file), done: 1, total: 1 })

  const sensitive = planned.get('Configurations')!.rows.filter((row) => row.isSensitive === true)
  if (sensitive.length > 0 && !db.configurations.canEncrypt) {
    if (!dryRun) throw importErrors.noSecretKey(sensitive.length)
    problems.push({
      table: 'Configurations',
      key: null,
      column: 'Value',
      reason: `${sensitive.length} sensitive value(s) need a secret key to be stored encrypted (set AURA_SECRET_KEY)`,
    })
  }

  const report: EfImportReport = {
    ok: problems.length === 0,
    dryRun,
    merge,
    source,
    sourceUnchanged: true,
    target: db.dialect.location,
    tables: [...planned.values()]
      .map((t) => ({
        legacy: t.legacy,
        target: t.def.name,
        rows: legacy.tables.get(t.legacy)?.rowCount ?? 0,
        imported: t.rows.length,
        skipped: t.skipped.length,
        skippedKeys: t.skipped.slice(0, 20),
      }))
      .concat([
        {
          legacy: 'system_configuration',
          target: 'system_configuration',
          rows: systemRows.length,
          imported: system && !merge ? 1 : 0,
          skipped: system && merge ? 1 : 0,
          skippedKeys: system && merge ? ['1'] : [],
        },
      ]),
    notImported: [...legacy.tables.values()]
      .filter((t) => !(t.name in LEGACY_TABLES) && t.name !== EF_HISTORY_TABLE)
      .map((t) => ({ table: t.name, rows: t.rowCount })),
    efMigrations: history.map((r) => String(r.MigrationId)),
    appVersion,
    absent,
    normalised: counts,
    referenceCounts,
    blobsFromInlineContent: inline,
    encryptedValues: sensitive.length,
    sceneIndexMoves,
    problems,
    auditEntryId: null,
  }
  // Everything is read: the private copy (the app's API keys in plaintext) goes before the writing.
  legacy.close()
  if (dryRun) return report
  if (problems.length > 0) throw importErrors.values(problems)

  for (const row of sensitive) row.value = db.configurations.encryptValue(String(row.key), String(row.value))
  const auditEntryId = await write(db, planned, merge ? null : system, referencesAdded, report, options)
  return { ...report, auditEntryId }
}

function tableDef(name: string): TableDef {
  const def = allTables.find((t) => t.name === name)
  if (!def) throw new Error(`no table definition for ${name}`)
  return def as unknown as TableDef
}

/**
 * Step 2: the 13 tables with their documented columns, or a wrong-schema ImportError naming the
 * app version found. A file of an older app version may lack what later migrations added
 * (see {@link compareWithApp}); that is returned, to be read as the app would have.
 */
function checkSchema(legacy: LegacySqliteFile, file: string, version: LegacyAppVersion): AbsentInLegacy[] {
  const { absent, problems } = compareWithApp(legacy.tables)
  if (problems.length > 0) throw importErrors.wrongSchema(file, problems, version.lastMigration)
  return absent
}

const validators = new Map<string, z.ZodType>()

/**
 * Step 3 for one row: each field against the target column's rules (the same zod schemas as
 * the repositories' writes), so that what is written is what the library itself would accept.
 * The app's empty text in a JSON column (the C# default `""`) is kept as it is.
 */
function checkValues(def: TableDef, reader: RowReader, counts: NormalisationCounts): void {
  for (const [field, value] of Object.entries(reader.out)) {
    if (reader.failed.has(field)) continue
    const spec = (def.columns as Record<string, ColumnSpec>)[field]
    const column = reader.origin[field] ?? field
    if (!spec) {
      if (value !== null && value !== undefined)
        reader.problem(column, `Aura Data's ${def.name} has no column for it (field ${field})`)
      delete reader.out[field]
      continue
    }
    if (value === null || value === undefined) {
      if (!spec.nullable) reader.problem(column, `has no value, and ${def.name}.${spec.column} requires one`)
      continue
    }
    if (spec.kind === 'uuid' && typeof value === 'string' && value !== value.toLowerCase()) {
      reader.out[field] = value.toLowerCase()
      counts.guidsLowerCased++
    }
    if (spec.kind === 'json' && value === '') continue
    const key = `${def.name}.${field}`
    let schema = validators.get(key)
    if (!schema) {
      // Row versions and timestamps are managed by the library on its own writes; here they
      // carry the legacy values, checked by kind like any other value.
      schema = columnSchema({ ...spec, managed: false })
      validators.set(key, schema)
    }
    const result = schema.safeParse(reader.out[field])
    if (!result.success) {
      const message = result.error.issues[0]?.message ?? 'is not accepted'
      reader.problem(column, `${message} (${def.name}.${spec.column})`)
    }
  }
}

function planSystemConfiguration(
  rows: Row[],
  problems: ImportProblem[],
  counts: NormalisationCounts,
): Row | null {
  if (rows.length === 0) return null
  if (rows.length > 1) {
    problems.push({
      table: 'system_configuration',
      key: null,
      column: null,
      reason: `has ${rows.length} rows; Aura Data keeps exactly one (id 1)`,
    })
    return null
  }
  const reader = new RowReader('system_configuration', String(rows[0]!.id), rows[0]!, problems, counts)
  reader.integer('legacyId', 'id')
  reader.bool('isSetupComplete', 'is_setup_complete')
  reader.text('ffmpegPath', 'ffmpeg_path', true)
  reader.text('outputDirectory', 'output_directory')
  reader.timestamp('createdAt', 'created_at')
  reader.timestamp('updatedAt', 'updated_at', { sentinel: { sameAs: 'createdAt' } })
  delete reader.out.legacyId
  checkValues(tableDef('system_configuration'), reader, counts)
  return reader.out
}

/** The keys already in each target table (all empty on a new database). */
async function existingKeys(db: AuraDatabase): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>()
  const kysely = db.dialect.kysely
  for (const name of LEGACY_TABLE_NAMES) {
    if (name === 'system_configuration') continue
    const def = tableDef(LEGACY_TABLES[name].target)
    const column = def.columns[def.primaryKey]!.column
    const rows = await mapped(db, kysely.selectFrom(def.name).select(column).execute())
    // PostgreSQL returns uuid keys lower-case, SQLite as stored (lower-case too since the import
    // and the library lower-case them); text keys (configurations) keep their case.
    const uuid = def.columns[def.primaryKey]!.kind === 'uuid'
    out.set(
      def.name,
      new Set(rows.map((r: Row) => (uuid ? String(r[column]).toLowerCase() : String(r[column])))),
    )
  }
  return out
}

async function mapped<T>(db: AuraDatabase, work: Promise<T>): Promise<T> {
  try {
    return await work
  } catch (error) {
    throw db.dialect.mapError(error)
  }
}

/** Keys that occur twice in one legacy table once GUIDs are lower-cased. */
function checkDuplicateKeys(planned: Map<LegacyTableName, PlannedTable>, problems: ImportProblem[]): void {
  for (const table of planned.values()) {
    const seen = new Set<string>()
    for (const row of table.rows) {
      const key = String(row[table.def.primaryKey])
      if (seen.has(key))
        problems.push({
          table: table.legacy,
          key: legacyKey(row, key),
          column: LEGACY_TABLES[table.legacy].key,
          reason: 'key occurs twice (GUIDs are compared ignoring case)',
        })
      seen.add(key)
    }
  }
}

/** Rows of the project's children that name a project neither the file nor the target has. */
function checkProjectReferences(
  planned: Map<LegacyTableName, PlannedTable>,
  existing: Map<string, Set<string>>,
  problems: ImportProblem[],
): void {
  const projects = new Set([
    ...planned.get('ProjectStates')!.rows.map((r) => String(r.id)),
    ...existing.get('project_states')!,
  ])
  for (const name of PROJECT_CHILDREN) {
    for (const row of planned.get(name)!.rows) {
      if (typeof row.projectId === 'string' && !projects.has(row.projectId))
        problems.push({
          table: name,
          key: legacyKey(row, row.id),
          column: 'ProjectId',
          reason: `names project ${row.projectId}, which does not exist`,
        })
    }
  }
}

/** The scene indexes the target's scenes hold, per project (a merge must not reuse them). */
async function takenSceneIndexes(db: AuraDatabase): Promise<Map<string, Set<number>>> {
  const rows = await mapped(
    db,
    db.dialect.kysely.selectFrom('scene_states').select(['project_id', 'scene_index']).execute(),
  )
  const taken = new Map<string, Set<number>>()
  for (const row of rows as Row[]) {
    const project = String(row.project_id).toLowerCase()
    let set = taken.get(project)
    if (!set) taken.set(project, (set = new Set()))
    set.add(Number(row.scene_index))
  }
  return taken
}

/**
 * The legacy versions hold their content inline (BriefJson, …) and, in later rows, also as a
 * blob (BriefHash). Aura Data keeps it once, in a blob: inline content must hash to the hash
 * column when both are set; inline content without a blob becomes one. Returns how many blobs
 * were made that way.
 */
function planVersionContent(
  planned: Map<LegacyTableName, PlannedTable>,
  existing: Map<string, Set<string>>,
  problems: ImportProblem[],
): number {
  const blobs = planned.get('ContentBlobs')!
  const known = new Set([...blobs.rows.map((b) => String(b.contentHash)), ...existing.get('content_blobs')!])
  for (const blob of blobs.rows) {
    const content = blob.content
    if (typeof content !== 'string') continue
    const actual = contentHash(content)
    if (actual !== blob.contentHash)
      problems.push({
        table: 'ContentBlobs',
        key: String(blob.contentHash),
        column: 'ContentHash',
        reason: `is not the SHA-256 of the content (${actual})`,
      })
  }
  let made = 0
  for (const version of planned.get('ProjectVersions')!.rows) {
    const row = INLINE_CONTENT.get(version)!
    for (const part of VERSION_PARTS) {
      const inline = row[part.column]
      if (inline !== null && typeof inline !== 'string') {
        problems.push({
          table: 'ProjectVersions',
          key: legacyKey(version, version.id),
          column: part.column,
          reason:
            inline instanceof InvalidUtf8Text
              ? `is not UTF-8 text (bytes ${inline.toString()}); its value cannot be kept as text`
              : `is not text (${typeof inline === 'bigint' ? 'an integer' : typeof inline})`,
        })
        continue
      }
      const stored = typeof version[part.hash] === 'string' ? String(version[part.hash]).toLowerCase() : null
      if (stored !== null) version[part.hash] = stored
      if (typeof inline === 'string') {
        const hash = contentHash(inline)
        if (stored !== null && stored !== hash) {
          problems.push({
            table: 'ProjectVersions',
            key: legacyKey(version, version.id),
            column: part.column,
            reason: `inline content does not hash to ${part.column.replace(/(Spec)?Json$/, '')}Hash (${stored})`,
          })
          continue
        }
        version[part.hash] = hash
        if (!known.has(hash)) {
          known.add(hash)
          made++
          const blob: Row = {
            contentHash: hash,
            content: inline,
            contentType: part.type,
            sizeBytes: Buffer.byteLength(inline, 'utf8'),
            referenceCount: 0,
            lastReferencedAt: version.createdAt,
            createdAt: version.createdAt,
            updatedAt: version.createdAt,
            createdBy: version.createdBy ?? null,
            modifiedBy: null,
          }
          FROM_INLINE.add(blob)
          blobs.rows.push(blob)
        }
      } else if (stored !== null && !known.has(stored)) {
        problems.push({
          table: 'ProjectVersions',
          key: legacyKey(version, version.id),
          column: `${part.type}Hash`,
          reason: `names content blob ${stored}, which does not exist`,
        })
      }
    }
  }
  for (const blob of blobs.rows) {
    if (typeof blob.content === 'string' && typeof blob.sizeBytes === 'number') {
      const bytes = Buffer.byteLength(blob.content, 'utf8')
      if (bytes !== blob.sizeBytes)
        problems.push({
          table: 'ContentBlobs',
          key: String(blob.contentHash),
          column: 'SizeBytes',
          reason: `is ${blob.sizeBytes}, but the content has ${bytes} UTF-8 bytes`,
        })
    }
  }
  return made
}

/**
 * A blob's reference count is the number of live (not soft-deleted) versions referencing it,
 * once per reference (as the library keeps it). The written blobs carry the recomputed count;
 * a blob already in the target (`merge`) gains the references of the versions written now
 * (`added`). Returns where the legacy count differed, and those additions.
 */
function recountReferences(
  planned: Map<LegacyTableName, PlannedTable>,
  existing: Map<string, Set<string>>,
): { differences: EfImportReport['referenceCounts']; added: Map<string, number> } {
  const live = new Map<string, number>()
  for (const v of planned.get('ProjectVersions')!.rows) {
    if (v.isDeleted === true) continue
    for (const field of HASH_FIELDS) {
      const hash = v[field]
      if (typeof hash === 'string') live.set(hash, (live.get(hash) ?? 0) + 1)
    }
  }
  const differences: { hash: string; legacy: number; actual: number }[] = []
  for (const blob of planned.get('ContentBlobs')!.rows) {
    const hash = String(blob.contentHash)
    const actual = live.get(hash) ?? 0
    live.delete(hash)
    const legacyCount = Number(blob.referenceCount)
    if (!FROM_INLINE.has(blob) && legacyCount !== actual)
      differences.push({ hash, legacy: legacyCount, actual })
    blob.referenceCount = actual
  }
  // What is left references blobs already in the target.
  const added = new Map([...live].filter(([hash]) => existing.get('content_blobs')!.has(hash)))
  return { differences, added }
}

async function maxActionSequence(db: AuraDatabase): Promise<number> {
  const row = await mapped(
    db,
    db.dialect.kysely
      .selectFrom('action_logs')
      .select((eb) => eb.fn.max('sequence').as('n'))
      .executeTakeFirst(),
  )
  return Number(row?.n ?? 0)
}

/** The app's history has no sequence; its order is the timestamps' (ties by id), after any already there. */
function assignActionSequences(planned: Map<LegacyTableName, PlannedTable>, after: number): void {
  const actions = [...planned.get('ActionLogs')!.rows].sort((a, b) => {
    const ta = a.timestamp instanceof Date ? a.timestamp.getTime() : 0
    const tb = b.timestamp instanceof Date ? b.timestamp.getTime() : 0
    return ta - tb || String(a.id).localeCompare(String(b.id))
  })
  actions.forEach((row, i) => (row.sequence = after + i + 1))
}

/** Step 4: every row in one transaction on the target; returns the audit entry's id. */
async function write(
  db: AuraDatabase,
  planned: Map<LegacyTableName, PlannedTable>,
  system: Row | null,
  referencesAdded: ReadonlyMap<string, number>,
  report: EfImportReport,
  options: EfImportOptions,
): Promise<number> {
  const dialect = db.dialect
  const order: LegacyTableName[] = [
    'ProjectStates',
    'ContentBlobs',
    'SceneStates',
    'AssetStates',
    'RenderCheckpoints',
    'ProjectVersions',
    'user_setup',
    'Configurations',
    'templates',
    'custom_templates',
    'export_history',
    'ActionLogs',
  ]
  const actor = options.actor ?? db.defaultActor ?? userInfo().username
  try {
    const trx = await dialect.kysely.startTransaction().execute()
    try {
      for (const name of order) {
        const table = planned.get(name)!
        await insertRows(trx, db, table.def, table.rows, (done) =>
          options.onProgress?.({ phase: 'write', table: name, done, total: table.rows.length }),
        )
      }
      for (const [hash, count] of referencesAdded)
        await trx
          .updateTable('content_blobs')
          .set((eb) => ({ reference_count: eb('reference_count', '+', count) }))
          .where('content_hash', '=', hash)
          .execute()
      if (system) {
        const def = tableDef('system_configuration')
        await trx
          .updateTable('system_configuration')
          .set(encodeRow(db, def, system))
          .where('id', '=', 1)
          .execute()
      }
      const inserted = await trx
        .insertInto('audit_entries')
        .values({
          occurred_at: dialect.encode('timestamp', new Date()),
          actor,
          table_name: '*',
          row_id: report.source.sha256,
          action: 'import',
          changes_json: JSON.stringify({
            source: report.source,
            rows: Object.fromEntries(report.tables.map((t) => [t.target, t.imported])),
            skipped: Object.fromEntries(
              report.tables.filter((t) => t.skipped > 0).map((t) => [t.target, t.skipped]),
            ),
            merge: report.merge,
            sceneIndexMoves: report.sceneIndexMoves,
          }),
          correlation_id: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
      await inPhase(options, 'commit', report.target, () => trx.commit().execute())
      return Number(inserted.id)
    } catch (error) {
      if (!trx.isCommitted && !trx.isRolledBack) await trx.rollback().execute()
      throw error
    }
  } catch (error) {
    if (error instanceof ImportError) throw error
    throw dialect.mapError(error)
  }
}

function encodeRow(db: AuraDatabase, def: TableDef, row: Row): Row {
  const out: Row = {}
  for (const [field, value] of Object.entries(row)) {
    const spec = (def.columns as Record<string, ColumnSpec>)[field]
    if (!spec) continue
    out[spec.column] = db.dialect.encode(spec.kind, value)
  }
  return out
}

async function insertRows(
  trx: Kysely<any>,
  db: AuraDatabase,
  def: TableDef,
  rows: readonly Row[],
  progress: (done: number) => void,
): Promise<void> {
  if (rows.length === 0) return
  const columns = Object.keys(def.columns).length
  const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / columns))
  for (let i = 0; i < rows.length; i += perStatement) {
    const chunk = rows.slice(i, i + perStatement).map((row) => encodeRow(db, def, row))
    await trx.insertInto(def.name).values(chunk).execute()
    progress(Math.min(rows.length, i + perStatement))
  }
}
