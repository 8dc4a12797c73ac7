import { z } from 'zod'
import { ValidationError } from '../errors.js'
import type { TableDef } from '../schema/define.js'
import type { ProjectState } from '../schema/project-states.js'
import type { SceneState } from '../schema/scene-states.js'

/**
 * The action types whose undo and redo the library applies itself. Their payloads describe the
 * target's state after the action (`payload`) and before it (`inversePayload`); undo checks the
 * target still is in the "after" state and writes the "before" state, redo the other way round.
 */
export const BUILT_IN_ACTION_TYPES = {
  /** Changed fields of a project. Payload: {@link ProjectFieldsPayload}. */
  projectUpdate: 'ProjectUpdate',
  /** A scene was added. Payload: {@link SceneStatePayload} (`fields: null` on the inverse side). */
  sceneAdd: 'SceneAdd',
  /** Changed fields of a scene. Payload: {@link SceneStatePayload}. */
  sceneUpdate: 'SceneUpdate',
  /** A scene was deleted. Payload: {@link SceneStatePayload} (`fields: null` on the forward side). */
  sceneDelete: 'SceneDelete',
  /** The scenes of a project were renumbered. Payload: {@link SceneOrderPayload}. */
  sceneReorder: 'SceneReorder',
} as const

/** One of the {@link BUILT_IN_ACTION_TYPES}. */
export type BuiltInActionType = (typeof BUILT_IN_ACTION_TYPES)[keyof typeof BUILT_IN_ACTION_TYPES]

/** The action type that undoes each built-in type (stored as `inverse_action_type`). */
export const INVERSE_ACTION_TYPES: Readonly<Record<BuiltInActionType, BuiltInActionType>> = {
  ProjectUpdate: 'ProjectUpdate',
  SceneAdd: 'SceneDelete',
  SceneUpdate: 'SceneUpdate',
  SceneDelete: 'SceneAdd',
  SceneReorder: 'SceneReorder',
}

/** One built-in edit, described well enough to apply it again or invert it. */
export interface TrackedAction {
  readonly actionType: string
  readonly description: string
  readonly affectedIds: readonly string[]
  readonly payload: unknown
  readonly inversePayload: unknown
}

/** A value as stored in a payload: JSON, timestamps as ISO-8601 text. */
export type PayloadValue = string | number | boolean | null

/** One side of a `ProjectUpdate`: the values of the changed fields. */
export interface ProjectFieldsPayload {
  readonly projectId: string
  readonly fields: Readonly<Record<string, PayloadValue>>
}

/**
 * One side of `SceneAdd` / `SceneUpdate` / `SceneDelete`: the scene's fields on that side (all
 * of them for add and delete, the changed ones for update), or null when the scene does not
 * exist on that side.
 */
export interface SceneStatePayload {
  readonly projectId: string
  readonly sceneId: string
  readonly fields: Readonly<Record<string, PayloadValue>> | null
}

/** One side of a `SceneReorder`: the index of every scene of the project. */
export interface SceneOrderPayload {
  readonly projectId: string
  readonly order: Readonly<Record<string, number>>
}

/** The scene fields a re-inserted scene needs (besides its id). */
export const SCENE_CONTENT_FIELDS = [
  'projectId',
  'sceneIndex',
  'scriptText',
  'audioFilePath',
  'imageFilePath',
  'durationSeconds',
  'isCompleted',
] as const

const value = z.union([z.string(), z.number(), z.boolean(), z.null()])
const fieldsSchema = z.record(z.string(), value)
const projectSchema = z.object({ projectId: z.string(), fields: fieldsSchema })
const sceneSchema = z.object({ projectId: z.string(), sceneId: z.string(), fields: fieldsSchema.nullable() })
const orderSchema = z.object({ projectId: z.string(), order: z.record(z.string(), z.number().int().min(0)) })

/** Whether `type` is one of the {@link BUILT_IN_ACTION_TYPES}. */
export function isBuiltInActionType(type: string): type is BuiltInActionType {
  return Object.prototype.hasOwnProperty.call(INVERSE_ACTION_TYPES, type)
}

/** Both sides of a built-in action, checked; a malformed payload is a ValidationError. */
export function parseActionPayloads(
  type: BuiltInActionType,
  payloadJson: string | null,
  inverseJson: string | null,
):
  | { kind: 'project'; after: ProjectFieldsPayload; before: ProjectFieldsPayload }
  | { kind: 'scene'; after: SceneStatePayload; before: SceneStatePayload }
  | { kind: 'order'; after: SceneOrderPayload; before: SceneOrderPayload } {
  const read = <T>(schema: z.ZodType<T>, json: string | null, side: string): T => {
    let parsed: unknown
    try {
      parsed = json === null ? null : JSON.parse(json)
    } catch {
      parsed = undefined
    }
    const result = schema.safeParse(parsed)
    if (!result.success) {
      throw new ValidationError(
        `action_logs: the ${side} of a ${type} action is not a valid ${type} payload`,
        side,
      )
    }
    return result.data
  }
  switch (type) {
    case 'ProjectUpdate':
      return {
        kind: 'project',
        after: read(projectSchema, payloadJson, 'payloadJson'),
        before: read(projectSchema, inverseJson, 'inversePayloadJson'),
      }
    case 'SceneReorder':
      return {
        kind: 'order',
        after: read(orderSchema, payloadJson, 'payloadJson'),
        before: read(orderSchema, inverseJson, 'inversePayloadJson'),
      }
    default:
      return {
        kind: 'scene',
        after: read(sceneSchema, payloadJson, 'payloadJson'),
        before: read(sceneSchema, inverseJson, 'inversePayloadJson'),
      }
  }
}

/** An entity value as stored in a payload. */
export function toPayloadValue(v: unknown): PayloadValue {
  if (v instanceof Date) return v.toISOString()
  return (v ?? null) as PayloadValue
}

/** A payload value back as the entity value of `field` (timestamps become dates again). */
export function fromPayloadValue(table: TableDef, field: string, v: PayloadValue): unknown {
  const spec = table.columns[field]
  if (spec?.kind === 'timestamp' && typeof v === 'string') return new Date(v)
  return v
}

/** Whether an entity value equals a payload value (dates compared as instants). */
export function matchesPayloadValue(current: unknown, expected: PayloadValue): boolean {
  if (current instanceof Date)
    return typeof expected === 'string' && current.getTime() === Date.parse(expected)
  return (current ?? null) === expected
}

/** The writable fields of `table` that differ between two entities. */
function changedFields(table: TableDef, before: object, after: object): string[] {
  const b = before as Record<string, unknown>
  const a = after as Record<string, unknown>
  return table.fields.filter(
    (f) =>
      f !== table.primaryKey && !table.columns[f]!.managed && toPayloadValue(b[f]) !== toPayloadValue(a[f]),
  )
}

function pick(entity: object, fields: readonly string[]): Record<string, PayloadValue> {
  const record = entity as Record<string, unknown>
  return Object.fromEntries(fields.map((f) => [f, toPayloadValue(record[f])]))
}

function describe(text: string): string {
  return text.length > 500 ? `${text.slice(0, 497)}...` : text
}

/**
 * The `ProjectUpdate` of a project update, or null when nothing changed. `table` is the
 * definition the repository uses, so an application's own columns are undone like the built-in ones.
 */
export function projectUpdateAction(
  table: TableDef,
  before: ProjectState,
  after: ProjectState,
): TrackedAction | null {
  const fields = changedFields(table, before, after)
  if (fields.length === 0) return null
  return {
    actionType: BUILT_IN_ACTION_TYPES.projectUpdate,
    description: describe(`Update project ${fields.join(', ')}`),
    affectedIds: [after.id],
    payload: { projectId: after.id, fields: pick(after, fields) } satisfies ProjectFieldsPayload,
    inversePayload: { projectId: after.id, fields: pick(before, fields) } satisfies ProjectFieldsPayload,
  }
}

/** The `SceneAdd` of an inserted scene. */
export function sceneAddAction(scene: SceneState): TrackedAction {
  return {
    actionType: BUILT_IN_ACTION_TYPES.sceneAdd,
    description: `Add scene ${scene.sceneIndex}`,
    affectedIds: [scene.id],
    payload: {
      projectId: scene.projectId,
      sceneId: scene.id,
      fields: pick(scene, SCENE_CONTENT_FIELDS),
    } satisfies SceneStatePayload,
    inversePayload: {
      projectId: scene.projectId,
      sceneId: scene.id,
      fields: null,
    } satisfies SceneStatePayload,
  }
}

/** The `SceneUpdate` of a scene update, or null when nothing changed (`table`: as for a project). */
export function sceneUpdateAction(
  table: TableDef,
  before: SceneState,
  after: SceneState,
): TrackedAction | null {
  const fields = changedFields(table, before, after)
  if (fields.length === 0) return null
  return {
    actionType: BUILT_IN_ACTION_TYPES.sceneUpdate,
    description: describe(`Update scene ${after.sceneIndex}: ${fields.join(', ')}`),
    affectedIds: [after.id],
    payload: {
      projectId: after.projectId,
      sceneId: after.id,
      fields: pick(after, fields),
    } satisfies SceneStatePayload,
    inversePayload: {
      projectId: before.projectId,
      sceneId: before.id,
      fields: pick(before, fields),
    } satisfies SceneStatePayload,
  }
}

/** The `SceneDelete` of a deleted scene: the inverse holds the whole scene, to re-insert it with its id. */
export function sceneDeleteAction(scene: SceneState): TrackedAction {
  return {
    actionType: BUILT_IN_ACTION_TYPES.sceneDelete,
    description: `Delete scene ${scene.sceneIndex}`,
    affectedIds: [scene.id],
    payload: { projectId: scene.projectId, sceneId: scene.id, fields: null } satisfies SceneStatePayload,
    inversePayload: {
      projectId: scene.projectId,
      sceneId: scene.id,
      fields: pick(scene, SCENE_CONTENT_FIELDS),
    } satisfies SceneStatePayload,
  }
}

/** The `SceneReorder` of a renumbering: scene id → index after and before. */
export function sceneReorderAction(
  projectId: string,
  before: Readonly<Record<string, number>>,
  after: Readonly<Record<string, number>>,
): TrackedAction {
  return {
    actionType: BUILT_IN_ACTION_TYPES.sceneReorder,
    description: `Reorder ${Object.keys(after).length} scenes`,
    affectedIds: [projectId],
    payload: { projectId, order: after } satisfies SceneOrderPayload,
    inversePayload: { projectId, order: before } satisfies SceneOrderPayload,
  }
}
