import type { ImportProblem } from '../../errors.js'
import { legacyKey, type Plan } from './import-plan.js'
import { LEGACY_TABLES, type LegacyTableName } from './legacy-schema.js'

/** The child tables whose `projectId` must name a project. */
const PROJECT_CHILDREN = new Set<LegacyTableName>([
  'SceneStates',
  'AssetStates',
  'RenderCheckpoints',
  'ProjectVersions',
])

/** Keys that occur twice in one legacy table once GUIDs are lower-cased. */
export function checkDuplicateKeys(planned: Plan, problems: ImportProblem[]): void {
  for (const table of planned.values()) {
    const seen = new Set<string>()
    for (const row of [...table.rows, ...table.existing]) {
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
export function checkProjectReferences(
  planned: Plan,
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

/** The app's history has no sequence; its order is the timestamps' (ties by id), after any already there. */
export function assignActionSequences(planned: Plan, after: number): void {
  const actions = [...planned.get('ActionLogs')!.rows].sort((a, b) => {
    const ta = a.timestamp instanceof Date ? a.timestamp.getTime() : 0
    const tb = b.timestamp instanceof Date ? b.timestamp.getTime() : 0
    return ta - tb || String(a.id).localeCompare(String(b.id))
  })
  actions.forEach((row, i) => (row.sequence = after + i + 1))
}
