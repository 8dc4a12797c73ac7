import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { openDatabase, verifyDatabase } from '../src/index.js'
import { dialects } from './dialects.js'
import { projectNumbers, projectsWithoutScenes, startFaultChild, useFreshDatabase } from './fault-helpers.js'

/** 1, 2, …, k. */
function oneTo(k: number): number[] {
  return Array.from({ length: k }, (_, i) => i + 1)
}

/** Commits a writer acknowledges before it is killed, per round: thousands in all on SQLite. */
const ACKNOWLEDGED_PER_ROUND = { sqlite: 1_000, postgres: 150 } as const
const ROUNDS = 2

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: kill -9 of a writer in the middle of its commits`, () => {
    const database = useFreshDatabase(d)

    it('loses no acknowledged commit, tears none, and the database reopens without help', async () => {
      const url = database().url
      let committed = 0
      for (let round = 1; round <= ROUNDS; round++) {
        // Each round's writer is the first to open the database after the previous one was
        // killed: on SQLite it recovers the hot WAL itself, with no repair step in between.
        const writer = startFaultChild(['writer', url, 'crash', String(committed + 1), '0'])
        await writer.until((lines) => lines.length >= ACKNOWLEDGED_PER_ROUND[d.name], 60_000)
        // A random moment: almost always inside a transaction (between BEGIN and COMMIT, or
        // inside the COMMIT's fsync), never in step with the printed lines.
        await sleep(Math.random() * 20)
        await writer.kill()
        expect(writer.lines.filter((line) => !/^\d+$/.test(line))).toEqual([])
        const acknowledged = Number(writer.lines.at(-1))

        const numbers = await projectNumbers(url, 'crash')
        // Gap-free: every acknowledged commit is there. The kill may land after a COMMIT returned
        // and before its number was printed, so one more than acknowledged is legitimate.
        expect(numbers).toEqual(oneTo(numbers.length))
        expect(numbers.length).toBeGreaterThanOrEqual(acknowledged)
        expect(numbers.length).toBeLessThanOrEqual(acknowledged + 1)
        // Atomic: no project without all of its 10 scenes.
        expect(await projectsWithoutScenes(url, 10)).toEqual([])
        committed = numbers.length
      }
      expect(committed).toBeGreaterThanOrEqual(ROUNDS * ACKNOWLEDGED_PER_ROUND[d.name])

      const db = await openDatabase({ url })
      try {
        const report = await verifyDatabase(db)
        expect(report.checks.filter((check) => !check.ok)).toEqual([])
        if (d.name === 'sqlite') expect(report.checks.map((check) => check.name)).toContain('integrity_check')
        // Still a working database: the next commit goes through.
        await db.projectStates.add({ title: 'after the crashes' })
        expect(await db.projectStates.count()).toBe(committed + 1)
      } finally {
        await db.close()
      }
    })
  })
}
