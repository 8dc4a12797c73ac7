import { z } from 'zod'
import { IntegrityError } from '../errors.js'
import type { SceneState } from '../schema/scene-states.js'

/**
 * One scene of a version's timeline: the scene's identity, position and content, without the
 * audit fields (who wrote it when is not part of what the project looks like).
 */
export interface TimelineScene {
  readonly id: string
  readonly sceneIndex: number
  readonly scriptText: string
  readonly audioFilePath: string | null
  readonly imageFilePath: string | null
  readonly durationSeconds: number
  readonly isCompleted: boolean
}

/** The scene fields a timeline holds, in their canonical order. */
export const TIMELINE_FIELDS = [
  'id',
  'sceneIndex',
  'scriptText',
  'audioFilePath',
  'imageFilePath',
  'durationSeconds',
  'isCompleted',
] as const

const timelineSchema = z.array(
  z.object({
    id: z.string(),
    sceneIndex: z.number().int().min(0),
    scriptText: z.string(),
    audioFilePath: z.string().nullable(),
    imageFilePath: z.string().nullable(),
    durationSeconds: z.number().min(0),
    isCompleted: z.boolean(),
  }),
)

/**
 * The canonical JSON of a project's scenes, the content of a `Timeline` blob:
 * 1. scenes sorted by `sceneIndex`;
 * 2. each scene as an object with exactly the {@link TIMELINE_FIELDS}, in that order;
 * 3. `JSON.stringify` without whitespace.
 * The same scenes therefore always give the same text, and so the same hash.
 *
 * Scene ids are part of the timeline: restoring a version gives back the very scenes it saw,
 * so undo/redo history and references by id keep pointing at the right scene.
 */
export function canonicalTimeline(scenes: readonly (SceneState | TimelineScene)[]): string {
  const ordered = [...scenes].sort((a, b) => a.sceneIndex - b.sceneIndex)
  // An array replacer keeps exactly these keys, in its order: the same text as copying each
  // scene into a new object of those fields, without the copies.
  return JSON.stringify(ordered, TIMELINE_FIELDS as unknown as string[])
}

/** Parses the content of a `Timeline` blob; content of another shape is an IntegrityError. */
export function parseTimeline(hash: string, content: string): TimelineScene[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(content)
  } catch (error) {
    throw new IntegrityError(`content_blobs ${hash} is not a timeline (not JSON)`, { cause: error })
  }
  const result = timelineSchema.safeParse(parsed)
  if (!result.success) throw new IntegrityError(`content_blobs ${hash} is not a timeline of scenes`)
  return result.data
}
