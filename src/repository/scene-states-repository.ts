import { lockLiveProject } from './project-lock.js'
import { TIMELINE_FIELDS, type TimelineScene } from '../domain/timeline.js'
import {
  sceneAddAction,
  sceneDeleteAction,
  sceneReorderAction,
  sceneUpdateAction,
} from '../domain/undo-actions.js'
import { ValidationError } from '../errors.js'
import {
  type SceneState,
  type SceneStatesTable,
  type NewSceneState,
  type SceneStateUpdate,
} from '../schema/scene-states.js'
import type { AuditChanges } from './audit-writer.js'
import { Repository } from './repository.js'
import { trackEdit, txRows, untracked, type Session, type TxContext } from './session.js'
import { validateFieldValue, validateInsert, validateKey } from './validation.js'

/**
 * The repository of `scene_states`. Besides the generic methods:
 * - `reorder(projectId, orderedIds)` renumbers a project's scenes in one transaction;
 * - with `uow.trackActions({ projectId, userId })`, adding, updating, deleting and reordering
 *   scenes of that project is recorded for undo/redo (`actionLogs.undo`).
 */
export class SceneStatesRepository extends Repository<
  SceneStatesTable,
  SceneState,
  NewSceneState,
  SceneStateUpdate
> {
  constructor(table: SceneStatesTable, session: Session) {
    super(table, session)
  }

  /**
   * Gives the project's scenes the order of `orderedIds` (indices 0, 1, 2, …), in one transaction.
   * `orderedIds` must name every scene of the project exactly once (ValidationError otherwise;
   * a missing or deleted project is a NotFoundError). Returns the scenes in their new order.
   *
   * @example
   * const scenes = await db.sceneStates.find({ projectId }, { orderBy: { sceneIndex: 'asc' } })
   * await db.sceneStates.reorder(projectId, scenes.map((s) => s.id).reverse())
   */
  async reorder(projectId: string, orderedIds: readonly string[]): Promise<SceneState[]> {
    validateFieldValue(this.table, 'projectId', projectId)
    if (!Array.isArray(orderedIds))
      throw new ValidationError('scene_states: orderedIds must be an array of scene ids', 'orderedIds')
    const ids = orderedIds.map((id) => validateKey(this.table, id) as string)
    if (new Set(ids).size !== ids.length) {
      throw new ValidationError('scene_states: orderedIds names a scene more than once', 'orderedIds')
    }
    const pid = projectId.toLowerCase()
    return this.session.write(async (tx) => {
      await lockLiveProject(tx, this.session, pid)
      const current = await this.scenesIn(tx, pid)
      const known = new Set(current.map((s) => s.id))
      if (ids.length !== current.length || ids.some((id) => !known.has(id))) {
        throw new ValidationError(
          `scene_states: orderedIds must name every scene of project ${pid} exactly once (it has ${current.length})`,
          'orderedIds',
        )
      }
      const before = orderOf(current)
      const after: Record<string, number> = Object.fromEntries(ids.map((id, i) => [id, i]))
      const scenes = await this.arrangeIn(
        tx,
        pid,
        current.map((s) => ({ ...s, sceneIndex: after[s.id]! })),
      )
      if (current.some((s) => before[s.id] !== after[s.id])) {
        await trackEdit(tx, pid, sceneReorderAction(pid, before, after))
      }
      return scenes
    })
  }

  /**
   * Inserts a scene; recorded as `SceneAdd` when the unit tracks the scene's project.
   * @internal
   */
  override async insertIn(tx: TxContext, values: Record<string, unknown>): Promise<SceneState> {
    const scene = await super.insertIn(tx, values)
    // The action is built only when it is recorded: most units track nothing.
    if (tx.tracking) await trackEdit(tx, scene.projectId, sceneAddAction(scene))
    return scene
  }

  /**
   * Inserts scenes (see `addRange`); each recorded as `SceneAdd` when the unit tracks its project.
   * @internal
   */
  override async insertManyIn(
    tx: TxContext,
    rows: readonly Record<string, unknown>[],
  ): Promise<SceneState[]> {
    const scenes = await super.insertManyIn(tx, rows)
    if (tx.tracking) for (const scene of scenes) await trackEdit(tx, scene.projectId, sceneAddAction(scene))
    return scenes
  }

  /**
   * Updates a scene; recorded as `SceneUpdate` when the unit tracks the scene's project.
   * @internal
   */
  override async updateIn(
    tx: TxContext,
    key: unknown,
    rowVersion: number | null,
    changes: Record<string, unknown>,
  ): Promise<SceneState> {
    if (!tx.tracking) return super.updateIn(tx, key, rowVersion, changes)
    const row = await this.currentRow(tx, key)
    const updated = await super.updateIn(tx, key, rowVersion, changes)
    if (row) await trackEdit(tx, updated.projectId, sceneUpdateAction(this.table, this.fromRow(row), updated))
    return updated
  }

  /**
   * Deletes a scene; recorded as `SceneDelete` (with the whole scene) when the unit tracks its project.
   * @internal
   */
  override async deleteIn(tx: TxContext, key: unknown, rowVersion: number | null): Promise<void> {
    if (!tx.tracking) return super.deleteIn(tx, key, rowVersion)
    const row = await this.currentRow(tx, key)
    await super.deleteIn(tx, key, rowVersion)
    if (row) {
      const scene = this.fromRow(row)
      await trackEdit(tx, scene.projectId, sceneDeleteAction(scene))
    }
  }

  /**
   * The scenes of a project by index, read inside `tx`.
   * @internal
   */
  async scenesIn(tx: TxContext, projectId: string): Promise<SceneState[]> {
    const query = this.session.cache.compile('scene_states:in-order', [projectId], (v) =>
      tx.db
        .selectFrom('scene_states')
        .select(this.columnsOf('scene_states'))
        .where('project_id', '=', v(0))
        .orderBy('scene_index'),
    )
    const rows = await txRows(tx, query)
    return rows.map((r) => this.fromRow(r))
  }

  /**
   * Makes the project's scenes exactly `target`, inside `tx`: scenes not in it are deleted,
   * scenes in it are updated in place (by id), missing ones are inserted with their ids (a fresh
   * id if that one now belongs to another project's scene). Every change goes through the
   * audited paths; nothing is recorded for undo (the caller records the arrangement as a whole).
   * Returns the scenes by index.
   * @internal
   */
  async arrangeIn(tx: TxContext, projectId: string, target: readonly TimelineScene[]): Promise<SceneState[]> {
    const quiet = untracked(tx)
    const current = await this.scenesIn(quiet, projectId)
    const byId = new Map(current.map((s) => [s.id, s]))
    const wanted = new Set(target.map((t) => t.id))
    for (const s of current) if (!wanted.has(s.id)) await this.deleteIn(quiet, s.id, s.rowVersion)
    const kept = target.filter((t) => byId.has(t.id))
    const top = Math.max(-1, ...current.map((s) => s.sceneIndex), ...target.map((t) => t.sceneIndex)) + 1
    // Two phases, because of the unique (project_id, scene_index) index: renumbering in place
    // would collide (scene A 0 → 1 while scene B still holds 1). Scenes that move are first
    // parked above every index in use, then written with their final index.
    for (const t of kept) {
      if (byId.get(t.id)!.sceneIndex === t.sceneIndex) continue
      await quiet.db
        .updateTable('scene_states')
        .set({ scene_index: top + t.sceneIndex })
        .where('id', '=', t.id)
        .execute()
    }
    for (const t of kept) {
      const before = byId.get(t.id)!
      const set: Record<string, unknown> = {}
      const changes: AuditChanges = {}
      for (const field of TIMELINE_FIELDS) {
        if (field === 'id' || before[field] === t[field]) continue
        set[field] = t[field]
        changes[field] = [before[field], t[field]]
      }
      if (Object.keys(set).length === 0) continue
      set.updatedAt = quiet.now
      set.modifiedBy = quiet.actor
      const updated = await this.writeRow(quiet, t.id, before.rowVersion, set)
      await this.recordWrite(quiet, 'update', t.id, changes, updated)
    }
    for (const t of target) {
      if (byId.has(t.id)) continue
      const taken = await quiet.db
        .selectFrom('scene_states')
        .select('id')
        .where('id', '=', t.id)
        .executeTakeFirst()
      const values = validateInsert(this.table, {
        ...(taken ? {} : { id: t.id }),
        projectId,
        sceneIndex: t.sceneIndex,
        scriptText: t.scriptText,
        audioFilePath: t.audioFilePath,
        imageFilePath: t.imageFilePath,
        durationSeconds: t.durationSeconds,
        isCompleted: t.isCompleted,
      })
      await this.insertIn(quiet, values)
    }
    return this.scenesIn(quiet, projectId)
  }
}

/** Scene id → index. */
export function orderOf(scenes: readonly SceneState[]): Record<string, number> {
  return Object.fromEntries(scenes.map((s) => [s.id, s.sceneIndex]))
}
