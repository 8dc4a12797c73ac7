/**
 * What both raw references of the version benchmarks share: the parts of a version, the
 * canonical timeline and the content hash, written by hand as a data layer without the library
 * would write them.
 */
import { createHash } from 'node:crypto'

/** A row as a driver returns it. */
export type SqlRow = Record<string, unknown>

/** The parts of a version in the library's column order; `column: null` is the timeline. */
export const PARTS = [
  { column: 'brief_json', type: 'Brief' },
  { column: 'plan_spec_json', type: 'Plan' },
  { column: 'voice_spec_json', type: 'Voice' },
  { column: 'render_spec_json', type: 'Render' },
  { column: null, type: 'Timeline' },
] as const

/** The version's hash columns, in the same order. */
export const HASH_COLUMNS = ['brief_hash', 'plan_hash', 'voice_hash', 'render_hash', 'timeline_hash'] as const

/** The project's spec fields a restore writes, with their columns. */
export const SPEC_COLUMNS: Readonly<Record<string, string>> = {
  briefJson: 'brief_json',
  planSpecJson: 'plan_spec_json',
  voiceSpecJson: 'voice_spec_json',
  renderSpecJson: 'render_spec_json',
}

/** The scene fields of a timeline (besides id and index), with their columns. */
export const SCENE_COLUMNS: Readonly<Record<string, string>> = {
  scriptText: 'script_text',
  audioFilePath: 'audio_file_path',
  imageFilePath: 'image_file_path',
  durationSeconds: 'duration_seconds',
  isCompleted: 'is_completed',
}

/** The canonical timeline JSON of scene rows (in index order), as the library hashes it. */
export function rawTimeline(scenes: readonly SqlRow[], bool: (v: unknown) => boolean): string {
  return JSON.stringify(
    scenes.map((s) => ({
      id: s.id,
      sceneIndex: s.scene_index,
      scriptText: s.script_text,
      audioFilePath: s.audio_file_path,
      imageFilePath: s.image_file_path,
      durationSeconds: s.duration_seconds,
      isCompleted: bool(s.is_completed),
    })),
  )
}

/** The lower-case hex SHA-256 of the UTF-8 bytes: a blob's key. */
export function sha256(content: string): string {
  return createHash('sha256').update(content, 'utf8').digest('hex')
}
