import { userInfo } from 'node:os'
import { CompiledQuery } from 'kysely'
import type { LegacySqliteFile } from '../../dialect/sqlite/sqlite-legacy-file.js'
import type { TxContext } from '../../repository/session.js'
import type { AuraDatabase } from '../../database.js'
import { AuraDataError } from '../../errors.js'
import type { ColumnSpec, TableDef } from '../../schema/define.js'
import type { EfImportOptions } from './import-ef.js'
import { applyDifferences, type PlannedDifference } from './import-merge.js'
import { fillRows } from './fill-rows.js'
import { tableDef, type Plan, type Row } from './import-plan.js'
import type { AbsentInLegacy } from './legacy-versions.js'
import { inPhase } from './import-progress.js'
import type { EfImportReport } from './import-report.js'
import type { LegacyTableName } from './legacy-schema.js'

/** Values per INSERT: under both databases' limits on bound parameters (SQLite 32,766). */
const MAX_PARAMETERS = 30_000
/** Rows per INSERT at most: a batch of long rows (blobs, versions) stays a few MB. */
const ROWS_PER_STATEMENT = 500

/** What {@link write} writes. */
export interface ImportWrite {
  /** The legacy file, read again for the fields the plan does not keep (see `fillRows`). */
  readonly legacy: LegacySqliteFile
  readonly absent: readonly AbsentInLegacy[]
  readonly planned: Plan
  /** The legacy `system_configuration` row (not under `merge`). */
  readonly system: Row | null
  /** References that versions written now add to blobs already in the target (`merge`). */
  readonly referencesAdded: ReadonlyMap<string, number>
  /** Differing rows to update through the repositories (`merge: 'update'`). */
  readonly updates: readonly PlannedDifference[]
  readonly report: EfImportReport
  readonly options: EfImportOptions
}

/** The tables in an order in which every row's references are written before it. */
const ORDER: readonly LegacyTableName[] = [
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

/**
 * Step 4: every row in one unit of work on the target (one transaction); returns the audit
 * entry's id. New rows are inserted as the legacy file has them (their times and actors);
 * differing rows (`merge: 'update'`) go through the repositories like any edit, with their own
 * audit entries under the import's correlation id.
 */
export async function write(db: AuraDatabase, work: ImportWrite): Promise<number> {
  const { legacy, absent, planned, system, referencesAdded, updates, report, options } = work
  const dialect = db.dialect
  const actor = options.actor ?? db.defaultActor ?? userInfo().username
  try {
    const uow = await db.beginUnitOfWork({ actor })
    try {
      const tx = uow.txContext()
      const trx = tx.db
      for (const name of ORDER) {
        const table = planned.get(name)!
        await insertRows(tx, db, table.def, fillRows(legacy, table, absent), (done) =>
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
      await applyDifferences(uow, updates, (table, done, total) =>
        options.onProgress?.({ phase: 'write', table, done, total }),
      )
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
            updated: Object.fromEntries(
              report.tables.filter((t) => t.updated > 0).map((t) => [t.target, t.updated]),
            ),
            merge: report.merge,
            sceneIndexMoves: report.sceneIndexMoves,
          }),
          correlation_id: uow.correlationId,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
      await inPhase(options.onProgress, 'commit', report.target, () => uow.commit())
      return Number(inserted.id)
    } catch (error) {
      if (uow.isActive) await uow.rollback()
      throw error
    }
  } catch (error) {
    if (error instanceof AuraDataError) throw error
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

/**
 * Inserts the rows of one table, `perStatement` rows to a multi-row INSERT. The statement is
 * compiled once per table and row count (Kysely builds it, with the dialect's placeholders),
 * then run again with each batch's values: building a statement of thousands of values per batch
 * would cost more than running it.
 */
async function insertRows(
  tx: TxContext,
  db: AuraDatabase,
  def: TableDef,
  rows: Iterable<Row>,
  progress: (done: number) => void,
): Promise<void> {
  const specs = def.columns as Record<string, ColumnSpec>
  let fields: string[] | null = null
  const compiled = new Map<number, string>()
  const perStatement = Math.max(
    1,
    Math.min(ROWS_PER_STATEMENT, Math.floor(MAX_PARAMETERS / Object.keys(specs).length)),
  )
  let batch: Row[] = []
  let done = 0
  let inFlight: Promise<unknown> | undefined
  const flush = async () => {
    if (batch.length === 0) return
    fields ??= Object.keys(specs).filter((field) => field in batch[0]!)
    const columns = fields.map((field) => specs[field]!.column)
    let text = compiled.get(batch.length)
    if (text === undefined) {
      const template = Object.fromEntries(columns.map((column) => [column, null]))
      text = tx.db
        .insertInto(def.name)
        .values(batch.map(() => template))
        .compile().sql
      compiled.set(batch.length, text)
    }
    const parameters: unknown[] = []
    for (const row of batch)
      for (const field of fields) parameters.push(db.dialect.encode(specs[field]!.kind, row[field]))
    const sent = tx.conn.execute(CompiledQuery.raw(text, parameters))
    // Answered when the previous batch is awaited; a failure of this one then is no unhandled rejection.
    sent.catch(() => {})
    // One batch in flight: on PostgreSQL (pipeline mode) the next batch is read and encoded
    // while the server inserts this one.
    if (inFlight) await inFlight
    inFlight = sent
    progress(done)
    done += batch.length
    batch = []
  }
  for (const row of rows) {
    batch.push(row)
    if (batch.length >= perStatement) await flush()
  }
  await flush()
  if (inFlight) await inFlight
  progress(done)
}
