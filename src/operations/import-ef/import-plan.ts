import type { z } from 'zod'
import { createHash } from 'node:crypto'
import type { IterateColumns, LegacySqliteFile } from '../../dialect/sqlite/sqlite-legacy-file.js'
import { Utf8TextBytes } from '../../dialect/text-bytes.js'
import { importErrors, type ImportProblem } from '../../errors.js'
import type { ColumnSpec, TableDef } from '../../schema/define.js'
import { allTables } from '../../schema/index.js'
import { columnSchema } from '../../repository/validation.js'
import type { ImportProgress } from './import-progress.js'
import { RowNote, type Row } from './row-notes.js'
import { READ_ROW } from './legacy-rows.js'
import { LEGACY_TABLE_NAMES, LEGACY_TABLES, type LegacyTableName } from './legacy-schema.js'
import { RowReader, type NormalisationCounts } from './legacy-values.js'
import { contentHash } from '../../domain/content-hash.js'
import {
  compareWithApp,
  withLaterColumns,
  type AbsentInLegacy,
  type LegacyAppVersion,
} from './legacy-versions.js'

export type { Row } from './row-notes.js'

/** One legacy table's rows, converted and checked, to be written into `def`. */
export interface PlannedTable {
  readonly legacy: LegacyTableName
  readonly def: TableDef
  readonly rows: Row[]
  /** `merge`: the rows whose key the target already has (not written unless they differ and are updated). */
  readonly existing: Row[]
  /** Each field's legacy column, to name it in the report. */
  readonly columns: Map<string, string>
}

/** The planned tables, by legacy name (every table but `system_configuration`). */
export type Plan = Map<LegacyTableName, PlannedTable>

/** The inline content columns of a legacy version, the blob hash field and content type of each. */
export const VERSION_PARTS = [
  { column: 'BriefJson', hash: 'briefHash', type: 'Brief' },
  { column: 'PlanSpecJson', hash: 'planHash', type: 'Plan' },
  { column: 'VoiceSpecJson', hash: 'voiceHash', type: 'Voice' },
  { column: 'RenderSpecJson', hash: 'renderHash', type: 'Render' },
  { column: 'TimelineJson', hash: 'timelineHash', type: 'Timeline' },
] as const

export const HASH_FIELDS = VERSION_PARTS.map((p) => p.hash)

/** The planned key upper-cased is the legacy key: the app writes its GUIDs so (see {@link LEGACY_KEY}). */
const UPPER = 0
/**
 * Each planned row's key as the legacy file spells it, for the problems: kept only where it is
 * not the planned key, and as {@link UPPER} where it is the planned key upper-cased.
 */
const LEGACY_KEY = new RowNote<string | typeof UPPER>()
/** Inline content of a legacy version: the hash and size of its text, else the value (not text). */
export type InlineContent = { readonly hash: string; readonly bytes: number } | unknown

/** A planned version's inline content as the legacy row held it (BriefJson, …), by column. */
export const INLINE_CONTENT = new RowNote<Record<string, InlineContent>>()
/** A planned row's key as the legacy file spells it; `fallback` is the planned key. */
export function legacyKey(row: Row, fallback: unknown): string {
  const key = LEGACY_KEY.get(row)
  if (key === undefined) return String(fallback)
  return key === UPPER ? String(fallback).toUpperCase() : key
}

/** Notes which legacy key spells the planned `key` (see {@link LEGACY_KEY}). */
function noteLegacyKey(row: Row, key: string, legacy: string): void {
  if (legacy !== key) LEGACY_KEY.set(row, legacy === key.toUpperCase() ? UPPER : legacy)
}

/** Rows between two read progress events. */
const PROGRESS_EVERY = 5_000

/**
 * The fields the plan keeps of a row it will write (besides the key): what the checks across
 * rows read (references, scene indexes, content hashes, soft deletes, times) and what the plan
 * changes (scene index, hashes, reference count, sequence). Everything else is read again from
 * the file while writing (`fillRows`), so that the plan's memory grows with the number of
 * rows, not with their content. Configurations (few, their sensitive values encrypted in the
 * plan) are kept whole.
 */
const PLAN_FIELDS: Partial<Record<LegacyTableName, readonly string[]>> = {
  SceneStates: ['projectId', 'sceneIndex'],
  AssetStates: ['projectId'],
  RenderCheckpoints: ['projectId'],
  ProjectVersions: ['projectId', 'isDeleted', 'createdAt', 'createdBy', ...VERSION_PARTS.map((p) => p.hash)],
  ContentBlobs: ['referenceCount'],
  ActionLogs: ['timestamp'],
}

/** The row id of each planned row in its legacy table, to read the row again when writing. */
const LEGACY_ROWID = new RowNote<number>()

/** One legacy row converted to its Aura Data fields; `problems` and `counts` take what it found. */
export function convertRow(
  name: Exclude<LegacyTableName, 'system_configuration'>,
  def: TableDef,
  row: Record<string, unknown>,
  problems: ImportProblem[],
  counts: NormalisationCounts,
): RowReader {
  const reader = new RowReader(name, String(row[LEGACY_TABLES[name].key]), row, problems, counts)
  READ_ROW[name](reader)
  checkValues(def, reader, counts)
  return reader
}

/**
 * Steps 2 and 3 of the import, streaming: reads every row of the 13 tables (with what an older
 * app version lacks filled in), converts it and checks each value; problems go to `problems`.
 * A row whose key the target has (`existing`, a merge) is kept whole in `existing`, to be
 * compared; every other row is planned with only the fields the plan needs ({@link PLAN_FIELDS}).
 */
export function readPlan(
  legacy: LegacySqliteFile,
  absent: readonly AbsentInLegacy[],
  existing: ReadonlyMap<string, ReadonlySet<string>>,
  problems: ImportProblem[],
  counts: NormalisationCounts,
  onProgress: ImportProgress,
): { planned: Plan; system: Row | null; systemRows: number } {
  const planned: Plan = new Map()
  const projectIds = new Map<string, string>()
  for (const name of LEGACY_TABLE_NAMES) {
    if (name === 'system_configuration') continue
    const def = tableDef(LEGACY_TABLES[name].target)
    const table: PlannedTable = {
      legacy: name,
      def,
      rows: [],
      existing: [],
      columns: new Map(),
    }
    const keys = existing.get(def.name)!
    const total = legacy.tables.get(name)?.rowCount ?? 0
    const kept = name === 'Configurations' ? null : [def.primaryKey, ...(PLAN_FIELDS[name] ?? [])]
    let done = 0
    for (const { rowid, row } of legacy.iterate(name, READ_COLUMNS[name])) {
      const reader = convertRow(name, def, withLaterColumns(name, absent, row), problems, counts)
      if (table.columns.size === 0)
        for (const [field, column] of Object.entries(reader.origin)) table.columns.set(field, column)
      if (name === 'ContentBlobs') checkBlob(reader.out, problems)
      const whole = keys.has(String(reader.out[def.primaryKey]))
      // A new object rather than deleted fields: an object with deleted properties keeps a
      // dictionary of them in V8, as large as the row was.
      const out = whole || kept === null ? reader.out : pick(reader.out, kept)
      noteLegacyKey(out, String(out[def.primaryKey]), reader.key)
      // One string per project id, not one per child row naming it.
      if (name === 'ProjectStates' && typeof out.id === 'string') projectIds.set(out.id, out.id)
      else if (typeof out.projectId === 'string')
        out.projectId = projectIds.get(out.projectId) ?? out.projectId
      if (name === 'ProjectVersions') INLINE_CONTENT.set(out, inlineContent(row))
      if (whole) table.existing.push(out)
      else {
        LEGACY_ROWID.set(out, rowid)
        table.rows.push(out)
      }
      if (++done % PROGRESS_EVERY === 0) onProgress?.({ phase: 'read', table: name, done, total })
    }
    onProgress?.({ phase: 'read', table: name, done, total: done })
    planned.set(name, table)
  }
  const systemRows = legacy
    .rows('system_configuration')
    .map((row) => withLaterColumns('system_configuration', absent, row))
  onProgress?.({
    phase: 'read',
    table: 'system_configuration',
    done: systemRows.length,
    total: systemRows.length,
  })
  return {
    planned,
    system: planSystemConfiguration(systemRows, problems, counts),
    systemRows: systemRows.length,
  }
}

/** The given fields of a row (those it has). */
function pick(row: Row, fields: readonly string[]): Row {
  const out: Row = {}
  for (const field of fields) if (field in row) out[field] = row[field]
  return out
}

/** A version's inline content by column: the hash and UTF-8 size of text, else the value as it is. */
function inlineContent(row: Record<string, unknown>): Record<string, InlineContent> {
  const out: Record<string, InlineContent> = {}
  for (const part of VERSION_PARTS) {
    const value = row[part.column]
    out[part.column] =
      value instanceof Utf8TextBytes
        ? { hash: createHash('sha256').update(value.bytes).digest('hex'), bytes: value.bytes.length }
        : value
  }
  return out
}

/**
 * How the first pass reads each table: a version's inline content only to hash and measure it,
 * as its bytes ({@link inlineContent}; the content of a blob is the SHA-256 of these bytes).
 */
const READ_COLUMNS: Partial<Record<LegacyTableName, IterateColumns>> = {
  ProjectVersions: { asBytes: VERSION_PARTS.map((p) => p.column) },
}

/** A blob's content must hash to its key and have its size in UTF-8 bytes. */
function checkBlob(blob: Row, problems: ImportProblem[]): void {
  const content = blob.content
  if (typeof content !== 'string') return
  const actual = contentHash(content)
  if (actual !== blob.contentHash)
    problems.push({
      table: 'ContentBlobs',
      key: String(blob.contentHash),
      column: 'ContentHash',
      reason: `is not the SHA-256 of the content (${actual})`,
    })
  const bytes = Buffer.byteLength(content, 'utf8')
  if (typeof blob.sizeBytes === 'number' && bytes !== blob.sizeBytes)
    problems.push({
      table: 'ContentBlobs',
      key: String(blob.contentHash),
      column: 'SizeBytes',
      reason: `is ${blob.sizeBytes}, but the content has ${bytes} UTF-8 bytes`,
    })
}

/** Where a blob made from a version's inline content reads it: the version's row and column. */
export const INLINE_SOURCE = new RowNote<{ rowid: number; column: string }>()

/** The legacy row id of a planned row (see {@link readPlan}). */
export const legacyRowid = (row: Row): number | undefined => LEGACY_ROWID.get(row)

export function tableDef(name: string): TableDef {
  const def = allTables.find((t) => t.name === name)
  if (!def) throw new Error(`no table definition for ${name}`)
  return def as unknown as TableDef
}

/**
 * Step 2: the 13 tables with their documented columns, or a wrong-schema ImportError naming the
 * app version found. A file of an older app version may lack what later migrations added
 * (see {@link compareWithApp}); that is returned, to be read as the app would have.
 */
export function checkSchema(
  legacy: LegacySqliteFile,
  file: string,
  version: LegacyAppVersion,
): AbsentInLegacy[] {
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
    if (reader.hasFailed(field)) continue
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
