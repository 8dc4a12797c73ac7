import { sql } from 'kysely'
import { beforeAll, describe, expect, it } from 'vitest'
import type { AuraDatabase } from '../src/index.js'
import { libraryDialects as dialects, type TestDialect } from './dialects.js'
import { useMigratedDatabase } from './helpers.js'

/**
 * The CHECK constraints hold in the database itself, for writers that bypass the library (a
 * script, the sqlite3 shell, psql): raw SQL that writes an out-of-range value fails with the
 * database's own check violation, naming the constraint. The library validates the same rules
 * before any SQL, so only raw SQL can reach them.
 */

/** `[table, constraint suffix, assignment]`: `update <table> set <assignment>` must fail on `ck_<table>_<suffix>`. */
const VIOLATIONS: readonly (readonly [string, string, string])[] = [
  ['project_states', 'status', `status = 'Paused'`],
  ['project_states', 'progress_percent', 'progress_percent = 101'],
  ['project_states', 'progress_percent', 'progress_percent = -1'],
  ['project_states', 'current_wizard_step', 'current_wizard_step = 4'],
  ['content_blobs', 'content_type', `content_type = 'Music'`],
  ['content_blobs', 'size_bytes', 'size_bytes = -1'],
  ['content_blobs', 'reference_count', 'reference_count = -1'],
  ['scene_states', 'scene_index', 'scene_index = -1'],
  ['scene_states', 'duration_seconds', 'duration_seconds = -0.5'],
  ['asset_states', 'asset_type', `asset_type = 'Font'`],
  ['asset_states', 'file_size_bytes', 'file_size_bytes = -1'],
  ['render_checkpoints', 'completed_scenes', 'completed_scenes = -1'],
  ['render_checkpoints', 'completed_scenes_le_total_scenes', 'completed_scenes = total_scenes + 1'],
  ['project_versions', 'version_type', `version_type = 'Nightly'`],
  ['project_versions', 'version_number', 'version_number = 0'],
  ['project_versions', 'storage_size_bytes', 'storage_size_bytes = -1'],
  ['user_setups', 'last_step', 'last_step = -1'],
  ['system_configuration', 'id', 'id = 2'],
  ['configurations', 'value_type', `value_type = 'date'`],
  ['templates', 'rating', 'rating = 5.5'],
  ['templates', 'usage_count', 'usage_count = -1'],
  ['export_history', 'status', `status = 'Paused'`],
  ['export_history', 'progress', 'progress = 100.5'],
  ['export_history', 'progress', 'progress = -0.5'],
  ['export_history', 'file_size', 'file_size = -1'],
  ['action_logs', 'status', `status = 'Redone'`],
  ['audit_entries', 'action', `action = 'delete'`],
]

/**
 * SQLite has no boolean type: a CHECK keeps each flag 0 or 1. PostgreSQL's boolean type refuses
 * anything else by itself (a type error, not a CHECK), so it has no such constraint.
 */
const SQLITE_FLAGS: readonly (readonly [string, string])[] = [
  ['project_states', 'is_deleted'],
  ['render_checkpoints', 'is_valid'],
  ['action_logs', 'can_batch'],
  ['templates', 'is_system_template'],
]

/** Asserts that `statement` fails with the dialect's check violation on constraint `name`. */
async function expectCheckViolation(d: TestDialect, db: AuraDatabase, statement: string, name: string) {
  const error = (await sql
    .raw(statement)
    .execute(db.dialect.kysely)
    .then(
      () => null,
      (e: unknown) => e,
    )) as { code?: string; constraint?: string; message?: string } | null
  expect(error, `${statement} was accepted`).not.toBeNull()
  if (d.name === 'sqlite') {
    expect(error!.code, statement).toBe('SQLITE_CONSTRAINT_CHECK')
    expect(error!.message, statement).toBe(`CHECK constraint failed: ${name}`)
  } else {
    expect(error!.code, statement).toBe('23514')
    expect(error!.constraint, statement).toBe(name)
  }
}

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: CHECK constraints in the database`, () => {
    const ctx = useMigratedDatabase(d)

    // One valid row in every table, so that each raw UPDATE has a row to refuse.
    beforeAll(async () => {
      if (!d.available) return
      const { db } = ctx
      await db.seed()
      const p = await db.projectStates.add({ title: 'Checks', briefJson: '{"b":1}' })
      await db.sceneStates.add({ projectId: p.id, sceneIndex: 0, scriptText: 'one', durationSeconds: 1 })
      await db.assetStates.add({ projectId: p.id, assetType: 'Image', filePath: '/a.png', fileSizeBytes: 1 })
      await db.renderCheckpoints.save(p.id, 'Script', { completedScenes: 1, totalScenes: 1 })
      await db.projectVersions.create(p.id, { type: 'Manual' })
      await db.exportHistory.enqueue({ inputFile: 'a.mp4', outputFile: 'b.mp4', presetName: 'p' })
      await db.actionLogs.record({ userId: 'u', projectId: p.id, actionType: 'Note' })
      await db.configurations.set('Checks.Value', 1, { category: 'Checks' })
    })

    it('every table has a row to refuse (the seed and the setup wrote them)', async () => {
      const tables = new Set([...VIOLATIONS.map(([t]) => t), ...SQLITE_FLAGS.map(([t]) => t)])
      for (const table of tables) {
        const { rows } = await sql<{
          n: number | string
        }>`select count(*) as n from ${sql.table(table)}`.execute(ctx.db.dialect.kysely)
        expect(Number(rows[0]!.n), table).toBeGreaterThan(0)
      }
    })

    it('raw SQL writing an out-of-range value or an unknown enumeration value fails on its CHECK', async () => {
      for (const [table, suffix, assignment] of VIOLATIONS) {
        await expectCheckViolation(d, ctx.db, `update ${table} set ${assignment}`, `ck_${table}_${suffix}`)
      }
      await expectCheckViolation(
        d,
        ctx.db,
        `insert into system_configuration (id, output_directory) values (2, '/elsewhere')`,
        'ck_system_configuration_id',
      )
    })

    it.runIf(d.name === 'sqlite')('sqlite: a flag other than 0 or 1 fails on its CHECK', async () => {
      for (const [table, column] of SQLITE_FLAGS) {
        await expectCheckViolation(d, ctx.db, `update ${table} set ${column} = 2`, `ck_${table}_${column}`)
      }
    })
  })
}
