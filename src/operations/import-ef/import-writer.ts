import { userInfo } from 'node:os'
import type { Kysely } from 'kysely'
import type { AuraDatabase } from '../../database.js'
import { ImportError } from '../../errors.js'
import type { ColumnSpec, TableDef } from '../../schema/define.js'
import type { EfImportOptions } from './import-ef.js'
import { tableDef, type Plan, type Row } from './import-plan.js'
import { inPhase } from './import-progress.js'
import type { EfImportReport } from './import-report.js'
import type { LegacyTableName } from './legacy-schema.js'

/** Rows per INSERT: under both databases' limits on bound parameters (SQLite 32,766). */
const MAX_PARAMETERS = 30_000

/** Step 4: every row in one transaction on the target; returns the audit entry's id. */
export async function write(
  db: AuraDatabase,
  planned: Plan,
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
      await inPhase(options.onProgress, 'commit', report.target, () => trx.commit().execute())
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
