import type { IterateColumns, LegacySqliteFile } from '../../dialect/sqlite/sqlite-legacy-file.js'
import { Utf8TextBytes } from '../../dialect/text-bytes.js'
import type { ColumnSpec } from '../../schema/define.js'
import { INLINE_SOURCE, legacyRowid, VERSION_PARTS, type PlannedTable, type Row } from './import-plan.js'
import { READ_ROW } from './legacy-rows.js'
import type { LegacyTableName } from './legacy-schema.js'
import { emptyCounts, RowReader } from './legacy-values.js'
import { withLaterColumns, type AbsentInLegacy } from './legacy-versions.js'

/**
 * Text written as the bytes read ({@link Utf8TextBytes}), by legacy column, and its field: a
 * blob's content (checked in the first pass) goes to the target without becoming a string, most
 * of the file's bytes. As strings, each batch of them lived on while the one before it was
 * inserted (PostgreSQL), long enough for V8 to move them to the old generation, whose garbage
 * it collects late: peak memory grew with the file.
 */
const AS_BYTES: Partial<Record<LegacyTableName, Record<string, string>>> = {
  ContentBlobs: { Content: 'content' },
}

/**
 * What writing does not read again: a version's inline content is written as blobs, read one
 * value at a time (`valueAt`), and not at all when the blob exists; decoding it with every
 * version was most of the reading.
 */
const WRITE_COLUMNS: Partial<Record<LegacyTableName, IterateColumns>> = {
  ProjectVersions: { skip: VERSION_PARTS.map((p) => p.column) },
  ContentBlobs: { asBytes: Object.keys(AS_BYTES.ContentBlobs!) },
}

/**
 * The rows of `table` to write, whole: the legacy table read again (in row id order, one pass),
 * each row converted again and its planned fields (what the plan decided) laid over it; a blob
 * made from inline content with that content. Yields them in the plan's order. The conversion
 * was checked in the first pass; here it only lower-cases GUIDs again, as the checks did.
 */
export function* fillRows(
  legacy: LegacySqliteFile,
  table: PlannedTable,
  absent: readonly AbsentInLegacy[],
): Generator<Row> {
  const name = table.legacy as Exclude<LegacyTableName, 'system_configuration'>
  const fromFile = table.rows.filter((row) => legacyRowid(row) !== undefined)
  if (name === 'Configurations') yield* fromFile
  else if (fromFile.length > 0) {
    const columns = table.def.columns as Record<string, ColumnSpec>
    let next = 0
    for (const { rowid, row } of legacy.iterate(name, WRITE_COLUMNS[name])) {
      const planned = fromFile[next]!
      if (legacyRowid(planned) !== rowid) continue
      const reader = new RowReader(name, '', withLaterColumns(name, absent, row), [], emptyCounts())
      READ_ROW[name](reader)
      const out = reader.out
      for (const [column, field] of Object.entries(AS_BYTES[name] ?? {}))
        if (row[column] instanceof Utf8TextBytes) out[field] = row[column]
      for (const [field, value] of Object.entries(out)) {
        const spec = columns[field]
        if (!spec) delete out[field]
        else if (spec.kind === 'uuid' && typeof value === 'string') out[field] = value.toLowerCase()
      }
      yield Object.assign(out, planned)
      if (++next === fromFile.length) break
    }
  }
  for (const row of table.rows) {
    const source = INLINE_SOURCE.get(row)
    if (source) yield { ...row, content: legacy.valueAt('ProjectVersions', source.rowid, source.column) }
  }
}
