import { afterAll, beforeAll } from 'vitest'
import { openDatabase, type AuraDatabase, type OpenDatabaseOptions } from '../src/index.js'
import type { TestDatabase, TestDialect } from './dialects.js'

/**
 * A migrated database for the tests of one `describe` block: created before them, dropped after.
 * The getter returns the open handle; `url` reopens it from elsewhere.
 */
export function useMigratedDatabase(
  dialect: TestDialect,
  options: Omit<OpenDatabaseOptions, 'url'> = {},
): { readonly db: AuraDatabase; readonly target: TestDatabase } {
  let db: AuraDatabase | undefined
  let target: TestDatabase | undefined
  beforeAll(async () => {
    if (!dialect.available) return
    target = await dialect.create()
    db = await openDatabase({ url: target.url, actor: 'tester', ...options })
    await db.migrate()
  })
  afterAll(async () => {
    await db?.close()
    await target?.drop()
  })
  return {
    get db() {
      if (!db) throw new Error('database not open')
      return db
    },
    get target() {
      if (!target) throw new Error('database not created')
      return target
    },
  }
}

/** A project's scenes as a user sees them: identity, order and content (no audit fields). */
export async function scenesOf(db: AuraDatabase, projectId: string) {
  const scenes = await db.sceneStates.find({ projectId }, { orderBy: { sceneIndex: 'asc' } })
  return scenes.map((s) => ({
    id: s.id,
    sceneIndex: s.sceneIndex,
    scriptText: s.scriptText,
    audioFilePath: s.audioFilePath,
    imageFilePath: s.imageFilePath,
    durationSeconds: s.durationSeconds,
    isCompleted: s.isCompleted,
  }))
}

/**
 * Names every plain object inherits: a field, operator or configuration key spelled like one must
 * be refused as unknown, never resolved through the prototype chain.
 */
export const PROTOTYPE_NAMES = [
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__proto__',
  '__defineGetter__',
  'toJSON',
] as const
