import { describe, expect, it } from 'vitest'
import { openDatabase } from '../src/index.js'
import { libraryDialects as dialects } from './dialects.js'
import { useMigratedDatabase } from './helpers.js'

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: db.metrics()`, () => {
    // SQLite times statements only when asked; PostgreSQL always does.
    const ctx = useMigratedDatabase(d, { metrics: true })

    it('counts and times each statement shape, never with a bound value in it', async () => {
      const { db } = ctx
      for (let i = 0; i < 20; i++) {
        const p = await db.projectStates.add({ title: `secret-title-${i}` })
        await db.projectStates.getById(p.id)
      }
      await db.projectStates.add({ title: '' }).catch(() => {})
      const { dialect, statements, connections } = db.metrics()
      expect(dialect).toBe(d.name)
      expect(statements).not.toBeNull()
      const inserts = statements!.filter((s) => /insert into "project_states"/i.test(s.sql))
      expect(inserts.reduce((n, s) => n + s.count, 0)).toBeGreaterThanOrEqual(20)
      for (const s of statements!) {
        expect(s.sql).not.toContain('secret-title')
        expect(s.p50Ms).toBeGreaterThanOrEqual(0)
        expect(s.p99Ms).toBeGreaterThanOrEqual(s.p50Ms)
        expect(s.errors).toBeLessThanOrEqual(s.count)
      }
      if (d.name === 'postgres') {
        expect(connections).not.toBeNull()
        expect(connections!.open).toBeGreaterThanOrEqual(1)
        expect(connections!.open).toBeLessThanOrEqual(connections!.max)
        expect(connections!.opened).toBeGreaterThanOrEqual(connections!.open)
        expect(connections!.lost).toBe(0)
      } else {
        expect(connections).toBeNull()
      }
    })

    it('a failed statement is counted as an error of its shape', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'Parent' })
      await db.sceneStates.add({ projectId: p.id, sceneIndex: 0, scriptText: 'a' })
      await db.sceneStates.add({ projectId: p.id, sceneIndex: 0, scriptText: 'b' }).catch(() => {})
      const failed = db.metrics().statements!.filter((s) => s.errors > 0)
      expect(failed.some((s) => /scene_states/.test(s.sql))).toBe(true)
    })
  })
}

describe('sqlite: db.metrics() without metrics: true', () => {
  it('reports no statement timings (none were taken) and no pool', async () => {
    const db = await openDatabase({ url: 'sqlite::memory:', migrate: true })
    try {
      await db.projectStates.add({ title: 'x' })
      expect(db.metrics()).toEqual({ dialect: 'sqlite', connections: null, statements: null })
    } finally {
      await db.close()
    }
  })
})
