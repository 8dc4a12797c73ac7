import type { Kysely } from 'kysely'
import { exactJson } from '../domain/exact-json.js'
import { lockGlobal, lockLiveProject, lockProject } from './project-lock.js'
import {
  BUILT_IN_ACTION_TYPES,
  fromPayloadValue,
  INVERSE_ACTION_TYPES,
  isBuiltInActionType,
  matchesPayloadValue,
  parseActionPayloads,
  type PayloadValue,
  type ProjectFieldsPayload,
  type SceneOrderPayload,
  type SceneStatePayload,
} from '../domain/undo-actions.js'
import { ConcurrencyError, ValidationError } from '../errors.js'
import {
  type ActionLog,
  type ActionLogsTable,
  type NewActionLog,
  type ActionLogUpdate,
} from '../schema/action-logs.js'
import type { TableDef } from '../schema/define.js'
import { projectStatesTable } from '../schema/project-states.js'
import { sceneStatesTable } from '../schema/scene-states.js'
import type { ProjectStatesRepository } from './project-states-repository.js'
import { Repository } from './repository.js'
import type { SceneStatesRepository } from './scene-states-repository.js'
import { untracked, type ActionTracking, type Session, type TxContext } from './session.js'
import { validateFieldValue, validateInsert, validateKey, validateUpdate } from './validation.js'

/** One undo or redo of an action of a registered type (see `registerApplier`). */
export interface ActionApplierStep {
  readonly action: ActionLog
  readonly direction: 'undo' | 'redo'
  /** `payloadJson` parsed (null when empty): the action as it was applied. */
  readonly payload: unknown
  /** `inversePayloadJson` parsed (null when empty): what undoing it restores. */
  readonly inversePayload: unknown
  /** The transaction of the undo/redo: write through it, so that both commit or neither. */
  readonly db: Kysely<any>
}

/** Applies one undo or redo of an application-defined action type. */
export type ActionApplier = (step: ActionApplierStep) => Promise<void>

/** An action for `actionLogs.record`. */
export interface NewAction {
  /** Whose undo history the action joins (with `projectId`). */
  readonly userId: string
  readonly projectId?: string | null
  readonly actionType: string
  readonly description?: string
  readonly affectedResourceIds?: readonly string[]
  /** Any JSON value: what the action did (for built-in types, the state it left). */
  readonly payload?: unknown
  /** Any JSON value: what undoing it needs (for built-in types, the state before it). */
  readonly inversePayload?: unknown
  readonly inverseActionType?: string | null
  readonly canBatch?: boolean
  readonly isPersistent?: boolean
  /** After this instant the action can no longer be undone or redone. */
  readonly expiresAt?: Date | null
  /** Groups actions; the unit of work's correlation id by default. */
  readonly correlationId?: string | null
}

/** Whose edits `uow.trackActions` records. */
export interface TrackActionsOptions {
  readonly projectId: string
  readonly userId: string
}

type Direction = 'undo' | 'redo'

/**
 * The repository of `action_logs`: a persisted undo/redo history per (user, project).
 *
 * - `record(action)` appends an action with the next sequence number of its (user, project)
 *   and clears that history's redo stack (its `Undone` actions become `Expired`).
 * - `undo(projectId, userId)` applies the inverse of the newest `Applied` action and marks it
 *   `Undone`; `redo` re-applies the most recently undone one and marks it `Applied`; each in
 *   one transaction. If the target changed since the action (its fields no longer hold what the
 *   action left), it is a ConcurrencyError and nothing changes.
 * - The library applies the built-in types ({@link BUILT_IN_ACTION_TYPES}), through the same
 *   audited repository writes as any edit. An action of another type can be recorded (history)
 *   but not undone or redone by the library: that is a ValidationError, nothing changes.
 * - Actions whose `expiresAt` has passed are neither undone nor redone; `expire()` marks them.
 */
export class ActionLogsRepository extends Repository<
  ActionLogsTable,
  ActionLog,
  NewActionLog,
  ActionLogUpdate
> {
  constructor(
    table: ActionLogsTable,
    session: Session,
    private readonly deps: {
      readonly projects: ProjectStatesRepository
      readonly scenes: SceneStatesRepository
      readonly appliers: Map<string, ActionApplier>
    },
  ) {
    super(table, session)
  }

  /**
   * Appends an action to the (user, project) history; see the class description.
   *
   * @example
   * await db.actionLogs.record({ userId: 'alice', projectId, actionType: 'ImportMedia', payload: { files } })
   */
  async record(action: NewAction): Promise<ActionLog> {
    const values = this.actionValues(action)
    return this.write((tx) => this.recordIn(tx, values))
  }

  /**
   * {@link record} inside `tx`, with validated values.
   * @internal
   */
  async recordIn(tx: TxContext, values: Record<string, unknown>): Promise<ActionLog> {
    const userId = (values.userId as string | undefined) ?? ''
    const projectId = (values.projectId as string | null | undefined)?.toLowerCase() ?? null
    await this.lockHistory(tx, projectId)
    for (const row of await this.scoped(tx, userId, projectId).where('status', '=', 'Undone').execute()) {
      await this.updateIn(tx, row.id, Number(row.row_version), { status: 'Expired' })
    }
    const max = await this.scoped(tx, userId, projectId)
      .clearSelect()
      .select((eb: any) => eb.fn.max('sequence').as('n'))
      .executeTakeFirst()
    return this.insertIn(tx, {
      ...values,
      userId,
      projectId,
      sequence: Number(max?.n ?? 0) + 1,
      status: 'Applied',
      timestamp: tx.now,
      correlationId: values.correlationId ?? tx.correlationId,
    })
  }

  /**
   * Undoes the newest `Applied`, unexpired action of the (user, project) history: applies its
   * inverse and marks it `Undone`, in one transaction. Returns the action, or null when there is
   * nothing to undo. A target changed since the action is a ConcurrencyError; an action type the
   * library cannot apply is a ValidationError; either way nothing changes.
   *
   * @example
   * await db.actionLogs.undo(projectId, 'alice')
   */
  async undo(projectId: string | null, userId: string): Promise<ActionLog | null> {
    return this.step('undo', projectId, userId)
  }

  /**
   * Re-applies the most recently undone, unexpired action of the (user, project) history and
   * marks it `Applied` again, in one transaction. Returns it, or null when there is nothing to
   * redo (nothing undone, or a new action cleared the redo stack). Errors as for {@link undo}.
   */
  async redo(projectId: string | null, userId: string): Promise<ActionLog | null> {
    return this.step('redo', projectId, userId)
  }

  /** Marks every `Applied` or `Undone` action whose `expiresAt` has passed `Expired`; returns how many. */
  async expire(): Promise<number> {
    return this.session.write(async (tx) => {
      const rows = await tx.db
        .selectFrom('action_logs')
        .select(['id', 'row_version'])
        .where('status', 'in', ['Applied', 'Undone'])
        .where('expires_at', '<=', this.session.dialect.encode('timestamp', tx.now))
        .execute()
      for (const row of rows) await this.updateIn(tx, row.id, Number(row.row_version), { status: 'Expired' })
      return rows.length
    })
  }

  /**
   * @internal What `uow.trackActions` installs: records each built-in edit of the project as an
   * action of `userId`.
   */
  tracker(options: TrackActionsOptions): ActionTracking {
    if (typeof options !== 'object' || options === null) {
      throw new ValidationError('trackActions needs { projectId, userId }')
    }
    validateFieldValue(this.table, 'projectId', options.projectId)
    validateFieldValue(this.table, 'userId', options.userId)
    const projectId = options.projectId.toLowerCase()
    const userId = options.userId
    return {
      projectId,
      userId,
      record: async (tx, action) => {
        const values = withoutSequence(this.table, {
          userId,
          projectId,
          actionType: action.actionType,
          description: action.description,
          affectedResourceIds: action.affectedIds.join(','),
          payloadJson: JSON.stringify(action.payload),
          inversePayloadJson: JSON.stringify(action.inversePayload),
          inverseActionType: isBuiltInActionType(action.actionType)
            ? INVERSE_ACTION_TYPES[action.actionType]
            : null,
        })
        await this.recordIn(tx, values)
      },
    }
  }

  private async step(
    direction: Direction,
    projectId: string | null,
    userId: string,
  ): Promise<ActionLog | null> {
    if (projectId !== null) validateFieldValue(this.table, 'projectId', projectId)
    validateFieldValue(this.table, 'userId', userId)
    const pid = projectId?.toLowerCase() ?? null
    return this.session.write(async (tx) => {
      await this.lockHistory(tx, pid)
      const now = this.session.dialect.encode('timestamp', tx.now)
      // Undo takes the newest applied action; redo the undone one nearest to the applied ones,
      // i.e. the one undone last (undo/redo keep the history a stack).
      const row = await this.scoped(tx, userId, pid)
        .where('status', '=', direction === 'undo' ? 'Applied' : 'Undone')
        .where((eb: any) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
        .orderBy('sequence', direction === 'undo' ? 'desc' : 'asc')
        .limit(1)
        .executeTakeFirst()
      if (!row) return null
      const action = this.fromRow(row)
      await this.apply(tx, action, direction)
      return this.updateIn(
        tx,
        action.id,
        action.rowVersion,
        direction === 'undo'
          ? { status: 'Undone', undoneAt: tx.now, undoneByUserId: userId }
          : { status: 'Applied', undoneAt: null, undoneByUserId: null },
      )
    })
  }

  /**
   * Registers how to undo and redo actions of `actionType`, a type of the application's own
   * (the .NET app's `UpdateSettings`, `ApplyTemplate`, …): `undo`/`redo` of such an action call
   * `applier` inside their transaction, before the action's status changes; an error it throws
   * rolls both back. The registration holds for this database and all its units of work. The
   * library's own types (BUILT_IN_ACTION_TYPES) cannot be replaced.
   *
   * @example
   * db.actionLogs.registerApplier('UpdateSettings', async ({ direction, payload, inversePayload, db: trx }) => {
   *   const settings = (direction === 'undo' ? inversePayload : payload) as Record<string, string>
   *   for (const [key, value] of Object.entries(settings))
   *     await trx.updateTable('configurations').set({ value }).where('key', '=', key).execute()
   * })
   */
  registerApplier(actionType: string, applier: ActionApplier): void {
    if (typeof actionType !== 'string' || actionType.trim() === '' || actionType.length > 100) {
      throw new ValidationError(
        'action_logs: an applier needs an action type of 1 to 100 characters',
        'actionType',
      )
    }
    if (isBuiltInActionType(actionType)) {
      throw new ValidationError(
        `action_logs: ${actionType} is one of the library's own action types; its applier cannot be replaced`,
        'actionType',
      )
    }
    if (typeof applier !== 'function')
      throw new ValidationError('action_logs: registerApplier needs a function', 'applier')
    this.deps.appliers.set(actionType, applier)
  }

  /** Brings the action's target from one side of the action to the other. */
  private async apply(outer: TxContext, action: ActionLog, direction: Direction): Promise<void> {
    const type = action.actionType
    if (!isBuiltInActionType(type)) {
      const applier = this.deps.appliers.get(type)
      if (applier) {
        const parse = (text: string | null): unknown =>
          text === null || text === '' ? null : JSON.parse(text)
        await applier({
          action,
          direction,
          payload: parse(action.payloadJson),
          inversePayload: parse(action.inversePayloadJson),
          db: outer.db,
        })
        return
      }
      throw new ValidationError(
        `action_logs: no applier for action type "${type}"; the library can ${direction} ` +
          `${Object.values(BUILT_IN_ACTION_TYPES).join(', ')}, and others once registered with ` +
          `db.actionLogs.registerApplier('${type}', applier). Nothing was changed.`,
        'actionType',
      )
    }
    const tx = untracked(outer)
    const parsed = parseActionPayloads(type, action.payloadJson, action.inversePayloadJson)
    const undo = direction === 'undo'
    switch (parsed.kind) {
      case 'project':
        return this.applyProject(
          tx,
          direction,
          undo ? parsed.after : parsed.before,
          undo ? parsed.before : parsed.after,
        )
      case 'scene':
        return this.applyScene(
          tx,
          direction,
          undo ? parsed.after : parsed.before,
          undo ? parsed.before : parsed.after,
        )
      case 'order':
        return this.applyOrder(
          tx,
          direction,
          undo ? parsed.after : parsed.before,
          undo ? parsed.before : parsed.after,
        )
    }
  }

  private async applyProject(
    tx: TxContext,
    direction: Direction,
    expected: ProjectFieldsPayload,
    target: ProjectFieldsPayload,
  ): Promise<void> {
    const pid = validateKey(projectStatesTable, expected.projectId) as string
    const current = this.deps.projects.fromRow(await lockLiveProject(tx, this.session, pid))
    checkFields(this.deps.projects.table, pid, current, expected.fields, direction)
    const { changes } = validateUpdate(this.deps.projects.table, {
      ...decodeFields(this.deps.projects.table, target.fields),
      id: pid,
      rowVersion: current.rowVersion,
    })
    await this.deps.projects.updateIn(tx, pid, current.rowVersion, changes)
  }

  private async applyScene(
    tx: TxContext,
    direction: Direction,
    expected: SceneStatePayload,
    target: SceneStatePayload,
  ): Promise<void> {
    const sid = validateKey(sceneStatesTable, expected.sceneId) as string
    const row = await tx.db.selectFrom('scene_states').selectAll().where('id', '=', sid).executeTakeFirst()
    const current = row ? this.deps.scenes.fromRow(row) : null
    if (expected.fields === null) {
      if (current) throw stale('scene_states', sid, current.rowVersion, direction, 'the scene exists again')
    } else {
      if (!current) throw stale('scene_states', sid, null, direction, 'the scene was deleted')
      checkFields(this.deps.scenes.table, sid, current, expected.fields, direction)
    }
    if (target.fields === null) {
      if (current) await this.deps.scenes.deleteIn(tx, sid, current.rowVersion)
      return
    }
    const fields = decodeFields(this.deps.scenes.table, target.fields)
    if (!current) {
      const values = validateInsert(this.deps.scenes.table, { ...fields, id: sid })
      const projectId = (values.projectId as string).toLowerCase()
      await lockLiveProject(tx, this.session, projectId)
      await this.assertIndexFree(tx, projectId, values.sceneIndex as number, sid, direction)
      await this.deps.scenes.insertIn(tx, values)
      return
    }
    const { changes } = validateUpdate(this.deps.scenes.table, {
      ...fields,
      id: sid,
      rowVersion: current.rowVersion,
    })
    const index = changes.sceneIndex as number | undefined
    if (index !== undefined && index !== current.sceneIndex) {
      await this.assertIndexFree(tx, current.projectId, index, sid, direction)
    }
    await this.deps.scenes.updateIn(tx, sid, current.rowVersion, changes)
  }

  private async applyOrder(
    tx: TxContext,
    direction: Direction,
    expected: SceneOrderPayload,
    target: SceneOrderPayload,
  ): Promise<void> {
    const pid = validateKey(projectStatesTable, expected.projectId) as string
    await lockLiveProject(tx, this.session, pid)
    const current = await this.deps.scenes.scenesIn(tx, pid)
    const want = new Map(Object.entries(expected.order))
    if (current.length !== want.size || current.some((s) => want.get(s.id) !== s.sceneIndex)) {
      throw stale('project_states', pid, null, direction, 'its scenes were added, deleted or moved')
    }
    const next = new Map(Object.entries(target.order))
    const indices = current.map((s) => next.get(s.id))
    if (indices.some((i) => i === undefined) || new Set(indices).size !== indices.length) {
      throw new ValidationError('action_logs: a SceneReorder payload must give every scene a distinct index')
    }
    await this.deps.scenes.arrangeIn(
      tx,
      pid,
      current.map((s) => ({ ...s, sceneIndex: next.get(s.id)! })),
    )
  }

  private async assertIndexFree(
    tx: TxContext,
    projectId: string,
    sceneIndex: number,
    sceneId: string,
    direction: Direction,
  ): Promise<void> {
    const other = await tx.db
      .selectFrom('scene_states')
      .select('id')
      .where('project_id', '=', projectId)
      .where('scene_index', '=', sceneIndex)
      .where('id', '!=', sceneId)
      .executeTakeFirst()
    if (other)
      throw stale('scene_states', sceneId, null, direction, `another scene now has index ${sceneIndex}`)
  }

  /** Serialises writers of one history: its project row, or the global row for project-less ones. */
  private async lockHistory(tx: TxContext, projectId: string | null): Promise<void> {
    const dialect = this.session.dialect
    if (projectId !== null && (await lockProject(tx, this.session, projectId))) return
    await lockGlobal(tx, dialect)
  }

  /** `SELECT * FROM action_logs` of one (user, project) history. */
  private scoped(tx: TxContext, userId: string, projectId: string | null): any {
    const query = tx.db.selectFrom('action_logs').selectAll().where('user_id', '=', userId)
    return projectId === null
      ? query.where('project_id', 'is', null)
      : query.where('project_id', '=', projectId)
  }

  private actionValues(action: NewAction): Record<string, unknown> {
    if (typeof action !== 'object' || action === null) {
      throw new ValidationError('action_logs: record needs an action object')
    }
    if (typeof action.userId !== 'string')
      throw new ValidationError('action_logs.userId is required', 'userId')
    if (action.affectedResourceIds !== undefined && !Array.isArray(action.affectedResourceIds)) {
      throw new ValidationError(
        'action_logs.affectedResourceIds must be an array of ids',
        'affectedResourceIds',
      )
    }
    const type = action.actionType
    const values = withoutSequence(this.table, {
      userId: action.userId,
      projectId: action.projectId ?? null,
      actionType: type,
      description: action.description,
      affectedResourceIds: action.affectedResourceIds?.join(',') ?? null,
      payloadJson: toJson(action.payload, 'payload'),
      inversePayloadJson: toJson(action.inversePayload, 'inversePayload'),
      inverseActionType:
        action.inverseActionType ??
        (typeof type === 'string' && isBuiltInActionType(type) ? INVERSE_ACTION_TYPES[type] : null),
      canBatch: action.canBatch,
      isPersistent: action.isPersistent,
      expiresAt: action.expiresAt ?? null,
      correlationId: action.correlationId,
    })
    if (isBuiltInActionType(type)) {
      parseActionPayloads(
        type,
        values.payloadJson as string | null,
        values.inversePayloadJson as string | null,
      )
    }
    return values
  }
}

/** Validates the values of a new action; the sequence is assigned later, in the transaction. */
function withoutSequence(table: TableDef, values: Record<string, unknown>): Record<string, unknown> {
  const validated = validateInsert(table, { ...values, sequence: 1 })
  delete validated.sequence
  return validated
}

function toJson(value: unknown, field: string): string | null | undefined {
  if (value === undefined) return undefined
  return exactJson(value, `action_logs.${field}`, field)
}

function decodeFields(
  table: TableDef,
  fields: Readonly<Record<string, PayloadValue>>,
): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).map(([f, v]) => [f, fromPayloadValue(table, f, v)]))
}

/** Throws the ConcurrencyError of a target that no longer holds what the action expects. */
function checkFields(
  table: TableDef,
  id: string,
  current: object,
  expected: Readonly<Record<string, PayloadValue>>,
  direction: Direction,
): void {
  const record = current as Record<string, unknown>
  for (const [field, value] of Object.entries(expected)) {
    if (!table.columns[field])
      throw new ValidationError(`action_logs: ${table.name} has no field ${field}`, field)
    if (!matchesPayloadValue(record[field], value)) {
      throw stale(table.name, id, Number(record.rowVersion), direction, `its ${field} changed since`)
    }
  }
}

function stale(
  table: string,
  id: string,
  actual: number | null,
  direction: Direction,
  why: string,
): ConcurrencyError {
  return new ConcurrencyError(
    table,
    id,
    null,
    actual,
    `${table} ${id} changed after this action (${why}), so it cannot be ${direction === 'undo' ? 'undone' : 'redone'}. Nothing was changed.`,
  )
}
