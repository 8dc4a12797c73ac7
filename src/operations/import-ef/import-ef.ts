import { existsSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import type { AuraDatabase } from '../../database.js'
import type { LegacySqliteFile } from '../../dialect/sqlite/sqlite-legacy-file.js'
import { openLegacySqliteFile } from '../../dialect/sqlite/sqlite-legacy-file.js'
import { importErrors, type ImportProblem } from '../../errors.js'
import { findDifferences } from './import-merge.js'
import { checkSchema, legacyKey, readPlan } from './import-plan.js'
import { assignActionSequences, checkDuplicateKeys, checkProjectReferences } from './plan-checks.js'
import { inPhase } from './import-progress.js'
import type { EfImportReport } from './import-report.js'
import { write } from './import-writer.js'
import { EF_HISTORY_TABLE, LEGACY_TABLES } from './legacy-schema.js'
import { emptyCounts } from './legacy-values.js'
import { appVersionOf } from './legacy-versions.js'
import { repairSceneIndexes } from './scene-indexes.js'
import { hashSource, type SourceFiles } from './source-files.js'
import { existingKeys, maxActionSequence, takenSceneIndexes } from './target-state.js'
import { planVersionContent, recountReferences } from './version-content.js'

/** Options of {@link importEfDatabase}. */
export interface EfImportOptions {
  /** Read, check and report everything, write nothing. */
  readonly dryRun?: boolean
  /**
   * Import into a database that already holds data. `true`: rows whose key is there are not
   * written; those whose values differ are reported (`differences`). `'update'`: those differing
   * rows are updated through the repositories (validation, audit entries, row versions), in the
   * import's transaction.
   */
  readonly merge?: boolean | 'update'
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
     * In between, `hash` reports the bytes of the file hashed so far (of its size).
     */
    phase: 'hash' | 'copy' | 'read' | 'plan' | 'write' | 'commit'
    table: string
    done: number
    total: number
  }) => void
}

/**
 * Imports the database of the .NET Aura Video Studio app (an EF Core `aura.db`, docs/importing.md)
 * into `db`, a migrated database that is empty (or, with `merge`, holds data already).
 *
 * 1. Hashes the legacy file (and its `-wal`/`-shm`) in chunks, then reads a private copy of it,
 *    taken under a read-only read transaction on the file when it is in WAL mode (one snapshot
 *    while the app writes; nothing is written to the file or its `-wal`). The copy leaves the
 *    disk once open (see `openLegacySqliteFile`).
 * 2. Checks the 13 tables and their columns; anything else in the file is listed as not imported.
 * 3. Streams every row (upper-case GUIDs, EF timestamps, the `0001-01-01` sentinel, 0/1
 *    booleans) and checks every value against the target's rules. Any value that cannot be
 *    carried over is a problem naming table, key and column; with problems nothing is written.
 * 4. Writes every row in ONE transaction (all or nothing), in multi-row batches, each row read
 *    again from the copy (the plan keeps only what its checks need), with the original timestamps and
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
  // The file's bytes hashed so far, between the phase's 0 of 1 and 1 of 1 (a large file takes seconds).
  const hashed = (done: number, total: number) =>
    options.onProgress?.({ phase: 'hash', table: name, done: Math.min(done, total - 1), total })
  const source = inPhase(options.onProgress, 'hash', name, () => hashSource(file, hashed))
  const legacy = inPhase(options.onProgress, 'copy', name, () => openLegacySqliteFile(file))
  let report: EfImportReport
  try {
    report = await importFrom(db, legacy, source, options)
  } finally {
    legacy.close()
  }
  const after = inPhase(options.onProgress, 'hash', name, () => hashSource(file, hashed))
  // The -shm is SQLite's shared-memory index, not data: every reader, the snapshot's read lock
  // included, updates it.
  const sourceUnchanged = after.sha256 === source.sha256 && after.walSha256 === source.walSha256
  return { ...report, sourceUnchanged }
}

async function importFrom(
  db: AuraDatabase,
  legacy: LegacySqliteFile,
  source: SourceFiles,
  options: EfImportOptions,
): Promise<EfImportReport> {
  const merge = options.merge === true || options.merge === 'update'
  const update = options.merge === 'update'
  const dryRun = options.dryRun === true
  const history = legacy.rows(EF_HISTORY_TABLE)
  const appVersion = appVersionOf(history)
  const absent = checkSchema(legacy, source.file, appVersion)

  const problems: ImportProblem[] = []
  const counts = emptyCounts()
  const existing = await existingKeys(db)
  const nonEmpty = [...existing].filter(([, keys]) => keys.size > 0).map(([t]) => t)
  if (nonEmpty.length > 0 && !merge) throw importErrors.targetNotEmpty(nonEmpty)
  const { planned, system, systemRows } = readPlan(
    legacy,
    absent,
    existing,
    problems,
    counts,
    options.onProgress,
  )

  options.onProgress?.({ phase: 'plan', table: basename(source.file), done: 0, total: 1 })
  checkDuplicateKeys(planned, problems)
  checkProjectReferences(planned, existing, problems)
  const taken = merge ? await takenSceneIndexes(db) : new Map<string, Set<number>>()
  const differences = merge ? await findDifferences(db, planned, update, taken, problems) : []
  const sceneIndexMoves = repairSceneIndexes(
    planned.get('SceneStates')!.rows,
    taken,
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
    mergeUpdate: update,
    source,
    sourceUnchanged: true,
    target: db.dialect.location,
    tables: [...planned.values()]
      .map((t) => {
        const differing = differences.filter((d) => d.table === t)
        const updated = new Set(update ? differing.map((d) => d.key) : [])
        const skipped = t.existing
          .map((row) => String(row[t.def.primaryKey]))
          .filter((key) => !updated.has(key))
        return {
          legacy: t.legacy,
          target: t.def.name,
          rows: legacy.tables.get(t.legacy)?.rowCount ?? 0,
          imported: t.rows.length,
          skipped: skipped.length,
          skippedKeys: skipped.slice(0, 20),
          differing: differing.length,
          updated: updated.size,
        }
      })
      .concat([
        {
          legacy: 'system_configuration',
          target: 'system_configuration',
          rows: systemRows,
          imported: system && !merge ? 1 : 0,
          skipped: system && merge ? 1 : 0,
          skippedKeys: system && merge ? ['1'] : [],
          differing: 0,
          updated: 0,
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
    differences: differences.map((d) => d.report),
    problems,
    auditEntryId: null,
  }
  if (dryRun) return report
  if (problems.length > 0) throw importErrors.values(problems)

  for (const row of sensitive) row.value = db.configurations.encryptValue(String(row.key), String(row.value))
  const auditEntryId = await write(db, {
    legacy,
    absent,
    planned,
    system: merge ? null : system,
    referencesAdded,
    updates: update ? differences : [],
    report,
    options,
  })
  return { ...report, auditEntryId }
}
