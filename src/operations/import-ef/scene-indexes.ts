import type { ImportProblem } from '../../errors.js'

/** A legacy scene written at another index than the file's, because its index was taken. */
export interface SceneIndexMove {
  readonly table: 'SceneStates'
  /** The scene's key as the legacy file spells it. */
  readonly key: string
  readonly projectId: string
  readonly oldIndex: number
  readonly newIndex: number
}

type Row = Record<string, unknown>

/**
 * Aura Data keeps scene indexes unique per project; the app does not (its index on
 * `(ProjectId, SceneIndex)` is not unique), so its files may hold one index twice. Every scene
 * is kept: the first scene (in the file's row order) to hold an index keeps it; each later one,
 * and one whose index a scene already in the target holds (`--merge`), moves after the
 * project's last index, in the file's order. The repair is deterministic and each move is
 * returned for the report and the audit entry.
 *
 * With `strict`, nothing moves: each such scene is a problem and the import is refused.
 *
 * @param scenes the scenes to write (skipped ones removed), in the legacy file's row order
 * @param taken the indexes that scenes already in the target hold, per project id
 */
export function repairSceneIndexes(
  scenes: readonly Row[],
  taken: ReadonlyMap<string, ReadonlySet<number>>,
  options: { strict: boolean; legacyKey: (row: Row) => string },
  problems: ImportProblem[],
): SceneIndexMove[] {
  const holders = new Map<string, string>()
  const last = new Map<string, number>()
  for (const [project, indexes] of taken)
    for (const index of indexes) last.set(project, Math.max(last.get(project) ?? -1, index))
  const displaced: Row[] = []
  for (const scene of scenes) {
    const project = String(scene.projectId)
    const index = Number(scene.sceneIndex)
    last.set(project, Math.max(last.get(project) ?? -1, index))
    const slot = `${project}:${index}`
    const first = holders.get(slot)
    const holder =
      first !== undefined
        ? `scene ${first}`
        : taken.get(project)?.has(index)
          ? 'a scene already in the target'
          : null
    if (holder === null) {
      holders.set(slot, options.legacyKey(scene))
      continue
    }
    if (options.strict)
      problems.push({
        table: 'SceneStates',
        key: options.legacyKey(scene),
        column: 'SceneIndex',
        reason: `index ${index} of project ${project} is also held by ${holder}; Aura Data keeps scene indexes unique per project (without --strict the scene moves after the project's last index)`,
      })
    else displaced.push(scene)
  }
  const moves: SceneIndexMove[] = []
  for (const scene of displaced) {
    const project = String(scene.projectId)
    const newIndex = last.get(project)! + 1
    last.set(project, newIndex)
    moves.push({
      table: 'SceneStates',
      key: options.legacyKey(scene),
      projectId: project,
      oldIndex: Number(scene.sceneIndex),
      newIndex,
    })
    scene.sceneIndex = newIndex
  }
  return moves
}
