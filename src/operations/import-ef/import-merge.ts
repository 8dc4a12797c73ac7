import type { AuraDatabase } from '../../database.js'
import type { ImportProblem } from '../../errors.js'
import { builtInRepositoryName, type Repositories } from '../../repository/repositories.js'
import type { ColumnSpec } from '../../schema/define.js'
import { legacyKey, type Plan, type PlannedTable, type Row } from './import-plan.js'
import type { EfImportDifference } from './import-report.js'
import { mapped } from './target-state.js'
import { setVersionHashes } from './version-content.js'

/**
 * Fields a merge does not compare: the audit bookkeeping every write sets (times, actors, the
 * row version) and the soft delete's time and actor, which follow `isDeleted`.
 */
const NOT_COMPARED = new Set([
  'rowVersion',
  'createdAt',
  'updatedAt',
  'createdBy',
  'modifiedBy',
  'deletedAt',
  'deletedBy',
  'sequence',
])

/** Keys per SELECT of the rows a merge compares: under both databases' limits on bound parameters. */
const KEYS_PER_SELECT = 500

/** A legacy row whose key the target has and whose values differ from the target's row. */
export interface PlannedDifference {
  readonly table: PlannedTable
  /** The target's key (GUIDs lower-cased). */
  readonly key: string
  /** The differing fields with the legacy values. */
  readonly changes: Readonly<Record<string, unknown>>
  /** The target row's version, for the optimistic update. */
  readonly rowVersion: number
  /** What the soft delete state needs: the legacy row is deleted and the target's is not, or the reverse. */
  readonly softDelete: 'delete' | 'restore' | null
  readonly report: EfImportDifference
}

/** The repository of a target table (every table the import writes is a built-in one). */
function repositoryOf(repositories: Repositories, table: string): Repositories[keyof Repositories] {
  return repositories[builtInRepositoryName(table)!]
}

/**
 * `merge`: compares each legacy row whose key the target has with the target's row, field by
 * field as the repositories compare them (timestamps to the millisecond). Content blobs are not
 * compared: their key is the content's hash, so the same key is the same content (their counts
 * are recomputed). `system_configuration` is kept as it is (docs/importing.md).
 *
 * With `update`, every differing row is to be written through its repository; what the
 * repository would refuse is a problem now, so that a dry run finds it:
 * - a version's content (its hashes, project, number): immutable in Aura Data;
 * - a scene index another scene of the project holds in the target.
 */
export async function findDifferences(
  db: AuraDatabase,
  planned: Plan,
  update: boolean,
  takenSceneIndexes: Map<string, Set<number>>,
  problems: ImportProblem[],
): Promise<PlannedDifference[]> {
  const out: PlannedDifference[] = []
  for (const table of planned.values()) {
    if (table.legacy === 'ContentBlobs' || table.existing.length === 0) continue
    const def = table.def
    const columns = def.columns as Record<string, ColumnSpec>
    const pkColumn = columns[def.primaryKey]!.column
    const repository = repositoryOf(db, def.name)
    const uuid = columns[def.primaryKey]!.kind === 'uuid'
    for (let i = 0; i < table.existing.length; i += KEYS_PER_SELECT) {
      const rows = table.existing.slice(i, i + KEYS_PER_SELECT)
      const current = await mapped(
        db,
        db.dialect.kysely
          .selectFrom(def.name)
          .selectAll()
          .where(
            pkColumn,
            'in',
            rows.map((r) => db.dialect.encode(columns[def.primaryKey]!.kind, r[def.primaryKey])),
          )
          .execute(),
      )
      // PostgreSQL returns uuid keys lower-case, as the plan has them; text keys keep their case.
      const keyOf = (value: unknown) => (uuid ? String(value).toLowerCase() : String(value))
      const byKey = new Map<string, Row>()
      for (const row of current) {
        const entity = repository.fromRow(row as Row) as unknown as Row
        byKey.set(keyOf(entity[def.primaryKey]), entity)
      }
      for (const row of rows) {
        const key = String(row[def.primaryKey])
        if (table.legacy === 'ProjectVersions') setVersionHashes(row)
        const target = byKey.get(keyOf(key))
        if (!target) continue
        const changes: Record<string, unknown> = {}
        for (const field of Object.keys(row)) {
          if (NOT_COMPARED.has(field) || !(field in columns)) continue
          if (!sameValue(row[field], target[field])) changes[field] = row[field]
        }
        if (Object.keys(changes).length === 0) continue
        const report: EfImportDifference = {
          table: table.legacy,
          key: legacyKey(row, key),
          columns: Object.keys(changes).map((f) => table.columns.get(f) ?? f),
          updated: update,
        }
        const isDeleted = changes.isDeleted
        delete changes.isDeleted
        out.push({
          table,
          key,
          changes,
          rowVersion: Number(target.rowVersion),
          softDelete: isDeleted === undefined ? null : isDeleted === true ? 'delete' : 'restore',
          report,
        })
        if (update) checkUpdate(table, report.key, changes, target, takenSceneIndexes, problems)
      }
    }
  }
  return out
}

/** What the repository's update would refuse, found before writing (see {@link findDifferences}). */
function checkUpdate(
  table: PlannedTable,
  key: string,
  changes: Record<string, unknown>,
  target: Row,
  taken: Map<string, Set<number>>,
  problems: ImportProblem[],
): void {
  if (table.legacy === 'ProjectVersions') {
    for (const field of Object.keys(changes))
      if (IMMUTABLE_VERSION_FIELDS.has(field))
        problems.push({
          table: table.legacy,
          key,
          column: table.columns.get(field) ?? field,
          reason: `differs from the version already imported; a version's content is immutable in Aura Data, so --merge=update cannot take it (import without update keeps the imported version)`,
        })
  }
  if (table.legacy === 'SceneStates' && typeof changes.sceneIndex === 'number') {
    const project = String(target.projectId).toLowerCase()
    let indexes = taken.get(project)
    if (!indexes) taken.set(project, (indexes = new Set()))
    if (indexes.has(changes.sceneIndex))
      problems.push({
        table: table.legacy,
        key,
        column: 'SceneIndex',
        reason: `is now ${changes.sceneIndex}, an index another scene of project ${project} holds in the target; --merge=update cannot move it there`,
      })
    // Scenes the import adds must not take it either (they move after the project's last index).
    indexes.add(changes.sceneIndex)
  }
}

const IMMUTABLE_VERSION_FIELDS = new Set([
  'projectId',
  'versionNumber',
  'storageSizeBytes',
  'briefHash',
  'planHash',
  'voiceHash',
  'renderHash',
  'timelineHash',
])

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime()
  if (a === undefined) a = null
  if (b === undefined) b = null
  return a === b
}

/**
 * `merge: 'update'`: writes each differing row through its repository in the import's unit of
 * work (validation, an audit entry, the row version incremented), as any edit in Aura Data:
 * 1. a row deleted here and live in the file is restored;
 * 2. the differing fields are updated (only if the row has not changed since it was compared);
 * 3. a row live here and deleted in the file is soft-deleted.
 */
export async function applyDifferences(
  repositories: Repositories,
  differences: readonly PlannedDifference[],
  progress: (table: string, done: number, total: number) => void,
): Promise<void> {
  for (const [i, d] of differences.entries()) {
    const def = d.table.def
    // The repositories' types differ per table; each gets its own table's fields here.
    const repository = repositoryOf(repositories, def.name) as unknown as {
      restore(key: string): Promise<Row>
      update(entity: Row): Promise<Row>
      delete(entity: Row): Promise<void>
    }
    let rowVersion = d.rowVersion
    if (d.softDelete === 'restore') rowVersion = Number((await repository.restore(d.key)).rowVersion)
    if (Object.keys(d.changes).length > 0)
      rowVersion = Number(
        (await repository.update({ ...d.changes, [def.primaryKey]: d.key, rowVersion })).rowVersion,
      )
    if (d.softDelete === 'delete') await repository.delete({ [def.primaryKey]: d.key, rowVersion })
    progress(d.table.legacy, i + 1, differences.length)
  }
}
