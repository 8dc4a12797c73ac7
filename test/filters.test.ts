import { describe, expect, it } from 'vitest'
import { ValidationError } from '../src/index.js'
import { libraryDialects as dialects } from './dialects.js'
import { useMigratedDatabase } from './helpers.js'

const HOSTILE = [
  "' OR 1=1 --",
  '"; DROP TABLE scene_states; --',
  "Robert'); DROP TABLE project_states;--",
  '100% of _all_ \\ backslashes',
  'emoji 🎬 and ünïcödé',
  '$1 ? :name @p0',
]

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: filters and hostile input`, () => {
    const ctx = useMigratedDatabase(d)

    it('contains and startsWith match literally: % and _ are not wildcards', async () => {
      const { db } = ctx
      const tag = `lit-${Date.now()}`
      const titles = ['100% done', '1000 done', 'a_b', 'axb', 'Case', 'case']
      for (const title of titles) await db.projectStates.add({ title, jobId: tag })
      const titlesOf = async (where: object) =>
        (await db.projectStates.find({ jobId: tag, ...where }, { orderBy: { title: 'asc' } })).map(
          (p) => p.title,
        )
      expect(await titlesOf({ title: { contains: '100%' } })).toEqual(['100% done'])
      expect(await titlesOf({ title: { contains: '_' } })).toEqual(['a_b'])
      expect(await titlesOf({ title: { startsWith: 'a_' } })).toEqual(['a_b'])
      expect(await titlesOf({ title: { startsWith: '10' } })).toEqual(['100% done', '1000 done'])
      // Case-sensitive on both dialects.
      expect(await titlesOf({ title: { contains: 'ase' } })).toEqual(['Case', 'case'])
      expect(await titlesOf({ title: { startsWith: 'C' } })).toEqual(['Case'])
    })

    it('supports eq, ne, lt, lte, gt, gte, in, null checks, ordering and paging', async () => {
      const { db } = ctx
      const tag = `ops-${Date.now()}`
      for (let i = 0; i < 6; i++) {
        await db.projectStates.add({
          title: `p${i}`,
          jobId: tag,
          progressPercent: i * 10,
          description: i % 2 ? null : 'even',
        })
      }
      const titles = async (where: object, options: object = {}) =>
        (
          await db.projectStates.find(
            { jobId: tag, ...where },
            { orderBy: { progressPercent: 'asc' }, ...options },
          )
        ).map((p) => p.title)
      expect(await titles({ progressPercent: 20 })).toEqual(['p2'])
      expect(await titles({ progressPercent: { gte: 20, lt: 40 } })).toEqual(['p2', 'p3'])
      expect(await titles({ progressPercent: { lte: 10 } })).toEqual(['p0', 'p1'])
      expect(await titles({ progressPercent: { gt: 40 } })).toEqual(['p5'])
      expect(await titles({ progressPercent: { in: [0, 50] } })).toEqual(['p0', 'p5'])
      expect(await titles({ progressPercent: { in: [] } })).toEqual([])
      expect(await titles({ description: null })).toEqual(['p1', 'p3', 'p5'])
      expect(await titles({ description: { ne: null } })).toEqual(['p0', 'p2', 'p4'])
      expect(await titles({ title: { ne: 'p0' } }, { limit: 2 })).toEqual(['p1', 'p2'])
      expect(await titles({}, { orderBy: { progressPercent: 'desc' }, limit: 2, offset: 1 })).toEqual([
        'p4',
        'p3',
      ])
      expect(await titles({}, { offset: 4 })).toEqual(['p4', 'p5'])
      expect(await db.projectStates.count({ jobId: tag, progressPercent: { gt: 15 } })).toBe(4)
      expect(await db.projectStates.any({ jobId: tag, progressPercent: { gt: 50 } })).toBe(false)
      const recent = await db.projectStates.find({
        jobId: tag,
        createdAt: { gt: new Date(Date.now() - 60_000) },
      })
      expect(recent).toHaveLength(6)
    })

    it('rejects unknown fields, operators and bad operands with ValidationError before SQL runs', async () => {
      const { db } = ctx
      const before = await db.sceneStates.count()
      await expect(
        db.projectStates.find({ 'title; DROP TABLE project_states': 'x' } as never),
      ).rejects.toBeInstanceOf(ValidationError)
      await expect(db.projectStates.find({ title: { like: '%' } } as never)).rejects.toBeInstanceOf(
        ValidationError,
      )
      await expect(db.projectStates.find({ constructor: 'x' } as never)).rejects.toBeInstanceOf(
        ValidationError,
      )
      await expect(
        db.projectStates.find({}, { orderBy: { 'id; --': 'asc' } as never }),
      ).rejects.toBeInstanceOf(ValidationError)
      await expect(
        db.projectStates.find({}, { orderBy: { title: 'sideways' } as never }),
      ).rejects.toBeInstanceOf(ValidationError)
      await expect(db.projectStates.find({ progressPercent: 'ten' } as never)).rejects.toBeInstanceOf(
        ValidationError,
      )
      await expect(db.projectStates.find({ id: 'not-a-uuid' })).rejects.toBeInstanceOf(ValidationError)
      await expect(db.projectStates.find({}, { limit: -1 })).rejects.toBeInstanceOf(ValidationError)
      await expect(db.projectStates.getById("' OR 1=1 --")).rejects.toBeInstanceOf(ValidationError)
      const error = (await db.projectStates
        .find({ 'title; DROP TABLE project_states': 'x' } as never)
        .catch((e: unknown) => e)) as ValidationError
      expect(error.field).toBe('title; DROP TABLE project_states')
      expect(await db.sceneStates.count()).toBe(before)
      expect(await db.projectStates.count()).toBeGreaterThanOrEqual(0)
    })

    it('stores and reads back hostile values byte-identical, and finds them by exact match', async () => {
      const { db } = ctx
      for (const value of HOSTILE) {
        const p = await db.projectStates.add({
          title: value,
          description: value,
          briefJson: JSON.stringify({ v: value }),
        })
        const s = await db.sceneStates.add({ projectId: p.id, sceneIndex: 0, scriptText: value })
        const back = await db.projectStates.getById(p.id)
        expect(back?.title).toBe(value)
        expect(back?.description).toBe(value)
        expect(JSON.parse(back!.briefJson!)).toEqual({ v: value })
        expect((await db.sceneStates.getById(s.id))?.scriptText).toBe(value)
        expect((await db.projectStates.find({ title: value })).map((x) => x.id)).toEqual([p.id])
        expect((await db.projectStates.find({ title: { contains: value } })).map((x) => x.id)).toContain(p.id)
      }
      expect(await db.sceneStates.count()).toBeGreaterThanOrEqual(HOSTILE.length)
    })
  })
}
