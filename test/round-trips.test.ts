import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type AuraDatabase } from '../src/index.js'
import { dialects, type TestDatabase } from './dialects.js'
import { PostgresWireCounter, type WireCounts } from './postgres-wire-counter.js'

/**
 * Round trips and statements per operation on PostgreSQL, counted on the wire (see
 * PostgresWireCounter), through the public API. The bounds are today's counts: an operation
 * that starts sending more fails here; one that sends fewer passes and its bound should be
 * lowered with it. Issue 12's target is 4 round trips for the unit and 1 for the read.
 */
const BOUNDS = {
  // BEGIN, the project's insert with its audit entry (one statement, a data-modifying CTE), the
  // ten scenes and their audit entries (one multi-row statement), COMMIT.
  'add project + 10 scenes in one unit': { roundTrips: 4, statements: 4 },
  // BEGIN, 11 inserts each writing its audit entry in the same statement, COMMIT.
  'add project + 10 scenes in one unit, one add per scene': { roundTrips: 13, statements: 13 },
  // One named prepared statement: after the first call, Bind and Execute only.
  'project by id': { roundTrips: 1, statements: 1 },
  // BEGIN; the update that reads and locks the row it replaces in the same statement; the audit
  // entry (its content is the row read) sent with the COMMIT, pipelined: one round trip.
  'update with version check': { roundTrips: 3, statements: 4 },
} as const satisfies Record<string, WireCounts>

for (const d of dialects) {
  // SQLite runs in the process: a statement is a function call, there is no round trip to count.
  describe.skipIf(!d.available || d.name === 'sqlite')(`${d.label}: round trips per operation`, () => {
    let target: TestDatabase
    let counter: PostgresWireCounter
    let db: AuraDatabase

    beforeAll(async () => {
      target = await d.create()
      counter = await PostgresWireCounter.start(target.url)
      db = await openDatabase({ url: counter.url, actor: 'tester', migrate: true })
      await db.ready()
    })
    afterAll(async () => {
      await db?.close()
      await counter?.close()
      await target?.drop()
    })

    /** The counts of one call of `fn`, after one untimed call that opens the pooled connections. */
    async function countOf(fn: () => Promise<unknown>): Promise<WireCounts> {
      await fn()
      counter.reset()
      await fn()
      return counter.counts()
    }

    const scenes = (projectId: string, n: number) =>
      Array.from({ length: n }, (_, s) => ({ projectId, sceneIndex: s, scriptText: `Scene ${s}` }))

    const addProject = () =>
      db.transaction(async (uow) => {
        const project = await uow.projectStates.add({ title: 'Counted', status: 'Draft' })
        await uow.sceneStates.addRange(scenes(project.id, 10))
      })

    const addProjectOneByOne = (n: number) => () =>
      db.transaction(async (uow) => {
        const project = await uow.projectStates.add({ title: 'Counted', status: 'Draft' })
        for (const scene of scenes(project.id, n)) await uow.sceneStates.add(scene)
      })

    it('counts what the library sends: one more insert in the unit is one more statement and round trip', async () => {
      const unit = await countOf(addProjectOneByOne(10))
      const withOneMore = await countOf(addProjectOneByOne(11))
      expect(withOneMore.statements).toBeGreaterThan(unit.statements)
      expect(withOneMore.roundTrips).toBeGreaterThan(unit.roundTrips)
    })

    it(`add project + 10 scenes in one unit: at most ${BOUNDS['add project + 10 scenes in one unit'].roundTrips} round trips`, async () => {
      const counts = await countOf(addProject)
      const bound = BOUNDS['add project + 10 scenes in one unit']
      expect(counts.roundTrips).toBeLessThanOrEqual(bound.roundTrips)
      expect(counts.statements).toBeLessThanOrEqual(bound.statements)
    })

    it(`add project + 10 scenes one add at a time: at most ${BOUNDS['add project + 10 scenes in one unit, one add per scene'].roundTrips} round trips`, async () => {
      const counts = await countOf(addProjectOneByOne(10))
      const bound = BOUNDS['add project + 10 scenes in one unit, one add per scene']
      expect(counts.roundTrips).toBeLessThanOrEqual(bound.roundTrips)
      expect(counts.statements).toBeLessThanOrEqual(bound.statements)
    })

    it(`project by id: at most ${BOUNDS['project by id'].roundTrips} round trip`, async () => {
      const project = await db.projectStates.add({ title: 'Read me' })
      const counts = await countOf(() => db.projectStates.getById(project.id))
      expect(counts.roundTrips).toBeLessThanOrEqual(BOUNDS['project by id'].roundTrips)
      expect(counts.statements).toBeLessThanOrEqual(BOUNDS['project by id'].statements)
    })

    it(`update with version check: at most ${BOUNDS['update with version check'].roundTrips} round trips`, async () => {
      let project = await db.projectStates.add({ title: 'Edit me' })
      let edit = 0
      const counts = await countOf(async () => {
        project = await db.projectStates.update({
          id: project.id,
          rowVersion: project.rowVersion,
          title: `Edit ${++edit}`,
        })
      })
      const bound = BOUNDS['update with version check']
      expect(counts.roundTrips).toBeLessThanOrEqual(bound.roundTrips)
      expect(counts.statements).toBeLessThanOrEqual(bound.statements)
      expect(project.rowVersion).toBe(3)
    })
  })
}
