import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { ConstraintError, ValidationError } from '../src/index.js'
import { libraryDialects as dialects } from './dialects.js'
import { useMigratedDatabase } from './helpers.js'

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: validation`, () => {
    const ctx = useMigratedDatabase(d)

    async function rejects(promise: Promise<unknown>, field: string) {
      const error = await promise.catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).field).toBe(field)
      return error as ValidationError
    }

    it('names the field and the limit; nothing is written', async () => {
      const { db } = ctx
      const before = await db.auditEntries.count()
      const e = await rejects(
        db.projectStates.add({ title: 'x', description: 'x'.repeat(2001) }),
        'description',
      )
      expect(e.message).toContain('at most 2000 characters')
      await rejects(db.projectStates.add({ title: '' }), 'title')
      await rejects(db.projectStates.add({} as never), 'title')
      await rejects(db.projectStates.add({ title: 'x', status: 'Dancing' as never }), 'status')
      await rejects(db.projectStates.add({ title: 'x', progressPercent: 101 }), 'progressPercent')
      await rejects(db.projectStates.add({ title: 'x', currentWizardStep: 1.5 }), 'currentWizardStep')
      await rejects(db.projectStates.add({ title: 'x', briefJson: '{not json' }), 'briefJson')
      await rejects(db.projectStates.add({ title: 'x', completedAt: new Date('nope') }), 'completedAt')
      await rejects(db.projectStates.add({ title: 'x', nonsense: 1 } as never), 'nonsense')
      await rejects(db.projectStates.add({ title: 'nul\0byte' }), 'title')
      // A lone surrogate would be stored as U+FFFD by both drivers: not the value written.
      await rejects(db.projectStates.add({ title: 'half \ud83c pair' }), 'title')
      await rejects(db.projectStates.add({ title: 7 as never }), 'title')
      await rejects(db.sceneStates.add({ projectId: 'nope', sceneIndex: 0 }), 'projectId')
      expect(await db.auditEntries.count()).toBe(before)
      // The .NET app sets titles from the brief's topic, of any length.
      expect((await db.projectStates.add({ title: 'x'.repeat(501) })).title.length).toBe(501)
    })

    it('counts characters, not UTF-16 units, against the length limit', async () => {
      const { db } = ctx
      const emoji = '🎬'.repeat(2000)
      const p = await db.projectStates.add({ title: 'x', description: emoji })
      expect((await db.projectStates.getById(p.id))?.description).toBe(emoji)
      await rejects(db.projectStates.add({ title: 'x', description: emoji + '🎬' }), 'description')
    })

    it('maps unique and foreign-key violations to ConstraintError', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'Unique scenes' })
      await db.sceneStates.add({ projectId: p.id, sceneIndex: 0 })
      const dup = await db.sceneStates.add({ projectId: p.id, sceneIndex: 0 }).catch((e: unknown) => e)
      expect(dup).toBeInstanceOf(ConstraintError)
      expect((dup as ConstraintError).constraint).toBe('unique')
      expect((dup as Error).message).not.toContain('insert')
      const orphan = await db.sceneStates
        .add({ projectId: '00000000-0000-4000-8000-000000000001', sceneIndex: 0 })
        .catch((e: unknown) => e)
      expect(orphan).toBeInstanceOf(ConstraintError)
      expect((orphan as ConstraintError).constraint).toBe('foreign_key')
      // SQLite's own text names neither; the library names the table written and its reference.
      expect((orphan as Error).message).toBe(
        'scene_states: projectId → project_states.id names a row that does not exist (foreign key); nothing was written.',
      )
      expect((orphan as Error).cause).toBeInstanceOf(Error)
      expect((orphan as Error).cause).not.toBeInstanceOf(ConstraintError)
    })

    it('names a missing required field as required', async () => {
      const error = await ctx.db.sceneStates.add({ sceneIndex: 0 } as never).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).message).toBe('scene_states.projectId is required')
    })

    it('maps a duplicate primary key to ConstraintError kind unique', async () => {
      const { db } = ctx
      const content = 'the same content twice'
      const blob = {
        contentHash: createHash('sha256').update(content).digest('hex'),
        content,
        contentType: 'Brief' as const,
        sizeBytes: Buffer.byteLength(content),
      }
      await db.contentBlobs.add(blob)
      const dup = await db.contentBlobs.add(blob).catch((e: unknown) => e)
      expect(dup).toBeInstanceOf(ConstraintError)
      expect((dup as ConstraintError).constraint).toBe('unique')
      expect(await db.contentBlobs.count()).toBe(1)
    })

    it('returns entities with Date timestamps and real booleans', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'Types' })
      const s = await db.sceneStates.add({
        projectId: p.id,
        sceneIndex: 0,
        isCompleted: true,
        durationSeconds: 2.25,
      })
      expect(p.createdAt).toBeInstanceOf(Date)
      expect(p.isDeleted).toBe(false)
      expect(s.isCompleted).toBe(true)
      expect(s.durationSeconds).toBe(2.25)
      expect(p.status).toBe('Draft')
      expect(p.currentWizardStep).toBe(0)
      expect(p.id).toMatch(/^[0-9a-f-]{36}$/)
    })
  })
}
