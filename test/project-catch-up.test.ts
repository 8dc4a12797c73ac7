import { describe, expect, it } from 'vitest'
import { ValidationError } from '../src/index.js'
import { libraryDialects as dialects } from './dialects.js'
import { useMigratedDatabase } from './helpers.js'

// The real application's later project columns (issue 9, CatchUpProjectStates) through the public API.
for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: project categories, tags and the other catch-up columns`, () => {
    const handle = useMigratedDatabase(d)

    it('stores, validates, filters and audits the new columns', async () => {
      const { db } = handle
      const autoSave = new Date('2026-03-04T05:06:07.089Z')
      const project = await db.projectStates.add({
        title: 'Beach reel',
        category: 'travel',
        tags: 'summer,beach',
        templateId: 'tpl-1',
        thumbnailPath: '/thumbs/beach.png',
        outputFilePath: '/out/beach.mp4',
        durationSeconds: 42.5,
        lastAutoSaveAt: autoSave,
      })
      expect(await db.projectStates.getById(project.id)).toMatchObject({
        category: 'travel',
        tags: 'summer,beach',
        templateId: 'tpl-1',
        thumbnailPath: '/thumbs/beach.png',
        outputFilePath: '/out/beach.mp4',
        durationSeconds: 42.5,
        lastAutoSaveAt: autoSave,
      })
      await expect(
        db.projectStates.add({ title: 'Too long', category: 'x'.repeat(101) }),
      ).rejects.toMatchObject({
        name: 'ValidationError',
        field: 'category',
      })
      await expect(
        db.projectStates.add({ title: 'Bad', durationSeconds: 'long' as never }),
      ).rejects.toBeInstanceOf(ValidationError)
      const found = await db.projectStates.find(
        { category: 'travel', lastAutoSaveAt: { gte: autoSave } },
        { orderBy: { durationSeconds: 'desc' } },
      )
      expect(found.map((p) => p.id)).toEqual([project.id])
      const updated = await db.projectStates.update({
        id: project.id,
        rowVersion: project.rowVersion,
        templateId: 'tpl-2',
      })
      expect(updated.templateId).toBe('tpl-2')
      const history = await db.auditEntries.find({
        tableName: 'project_states',
        rowId: project.id,
        action: 'update',
      })
      expect(history.map((h) => h.changesJson)).toEqual([expect.stringContaining('tpl-2')])
    })

    it('lists distinct categories and tags of visible projects and finds projects by a whole tag', async () => {
      const { db } = handle
      const a = await db.projectStates.add({ title: 'A', category: 'news', tags: 'daily, politics' })
      const b = await db.projectStates.add({ title: 'B', category: 'news', tags: 'sunset' })
      const gone = await db.projectStates.add({ title: 'Gone', category: 'zzz-deleted', tags: 'hidden' })
      await db.projectStates.delete(gone)
      await db.projectStates.add({ title: 'None' })
      expect(await db.projectStates.listCategories()).toEqual(['news', 'travel'])
      expect(await db.projectStates.listTags()).toEqual(['beach', 'daily', 'politics', 'summer', 'sunset'])
      expect((await db.projectStates.findByTag('politics')).map((p) => p.id)).toEqual([a.id])
      // A whole element only: 'sun' is part of 'sunset', not a tag of B.
      expect(await db.projectStates.findByTag('sun')).toEqual([])
      expect((await db.projectStates.findByTag('sunset')).map((p) => p.id)).toEqual([b.id])
      expect(await db.projectStates.findByTag('hidden')).toEqual([])
      await expect(db.projectStates.findByTag('a,b')).rejects.toBeInstanceOf(ValidationError)
      await expect(db.projectStates.findByTag(' ')).rejects.toBeInstanceOf(ValidationError)
    })
  })
}
