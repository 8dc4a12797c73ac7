import { describe, expect, it } from 'vitest'
import { libraryDialects as dialects } from './dialects.js'
import { useMigratedDatabase } from './helpers.js'

// The .NET app writes GUIDs in upper case; the same GUID in either case names one row.
for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: GUID keys in upper case`, () => {
    const ctx = useMigratedDatabase(d)

    it('an upper-case id, foreign key and filter refer to the lower-case row', async () => {
      const { db } = ctx
      const upper = '3F2504E0-4F89-11D3-9A0C-0305E82C3301'
      const sceneId = 'A1B2C3D4-0000-4000-8000-00000000000A'
      const project = await db.projectStates.add({ id: upper, title: 'Upper' })
      expect(project.id).toBe(upper.toLowerCase())
      expect((await db.projectStates.getById(upper))?.id).toBe(upper.toLowerCase())

      const scene = await db.sceneStates.add({ id: sceneId, projectId: upper, sceneIndex: 0 })
      expect(scene.id).toBe(sceneId.toLowerCase())
      expect(scene.projectId).toBe(upper.toLowerCase())
      await db.assetStates.add({ projectId: upper, assetType: 'Image', filePath: '/a.png' })

      expect((await db.sceneStates.find({ projectId: upper })).map((s) => s.id)).toEqual([scene.id])
      expect(await db.sceneStates.count({ projectId: { in: [upper] } })).toBe(1)
      expect(await db.sceneStates.count({ id: sceneId })).toBe(1)
      expect(await db.sceneStates.count({ projectId: { ne: upper } })).toBe(0)
      expect(await db.assetStates.count({ projectId: upper })).toBe(1)

      const details = await db.projectStates.getWithDetails(upper)
      expect(details?.scenes.map((s) => s.id)).toEqual([scene.id])

      const updated = await db.sceneStates.update({
        id: sceneId,
        rowVersion: scene.rowVersion,
        scriptText: 'x',
      })
      expect(updated.scriptText).toBe('x')
      const version = await db.projectVersions.create(upper, { type: 'Manual' })
      expect(version.projectId).toBe(upper.toLowerCase())
      expect((await db.projectVersions.find({ projectId: upper })).length).toBe(1)
    })
  })
}
