import { sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openDatabase } from '../src/index.js'
import { dialects, sqlite, type TestDatabase, type TestDialect } from './dialects.js'
import {
  killAll,
  projectNumbers,
  projectsWithoutScenes,
  startFaultChild,
  type FaultChild,
} from './fault-helpers.js'

/** 1, 2, …, k. */
function oneTo(k: number): number[] {
  return Array.from({ length: k }, (_, i) => i + 1)
}

/** A migrated database per test, dropped after it; children still running are killed first. */
function useFreshDatabase(d: TestDialect): () => TestDatabase {
  let target: TestDatabase | undefined
  beforeEach(async () => {
    target = await d.create()
    const db = await openDatabase({ url: target.url, migrate: true })
    await db.close()
  })
  afterEach(async () => {
    await killAll()
    await target?.drop()
  })
  return () => target!
}

function errorLines(child: FaultChild): string[] {
  return child.lines.filter((line) => line.startsWith('error'))
}

describe('sqlite: two writer processes on one file at once', () => {
  const database = useFreshDatabase(sqlite)
  const COMMITS = 300
  const HOLD_MS = 100

  it('lose no rows, and no SQLITE_BUSY reaches either while the other holds the lock briefly', async () => {
    const url = database().url
    // Every 25th transaction of each keeps the write lock 100 ms longer (far below the 5 s busy
    // timeout): the other writer then certainly waits for the lock, more than once.
    const writers = ['a', 'b'].map((tag) =>
      startFaultChild(['writer', url, tag, '1', String(COMMITS)], {
        env: { AURA_FAULT_WAIT_GO: '1', AURA_FAULT_HOLD_MS: String(HOLD_MS) },
      }),
    )
    // Both have opened the file before either writes: they start together.
    await Promise.all(writers.map((w) => w.until((lines) => lines.includes('ready'))))
    for (const w of writers) w.send('go')
    const codes = await Promise.all(writers.map((w) => w.exit(60_000)))

    expect(writers.flatMap(errorLines)).toEqual([])
    expect(codes).toEqual([0, 0])
    for (const w of writers) expect(w.lines).toEqual(['ready', ...oneTo(COMMITS).map(String)])
    expect(await projectNumbers(url, 'a')).toEqual(oneTo(COMMITS))
    expect(await projectNumbers(url, 'b')).toEqual(oneTo(COMMITS))
    expect(await projectsWithoutScenes(url, 10)).toEqual([])

    // They really wrote at the same time: in commit order (SQLite's rowid, assigned under the
    // write lock), each writer committed both before and after some commit of the other.
    const db = await openDatabase({ url })
    try {
      const order = (
        await db.dialect.kysely
          .selectFrom('project_states')
          .select('title')
          .orderBy(sql`rowid`)
          .execute()
      ).map((row) => (row.title as string).charAt(0))
      for (const [mine, other] of [
        ['a', 'b'],
        ['b', 'a'],
      ] as const) {
        expect(order.indexOf(mine)).toBeLessThan(order.lastIndexOf(other))
      }
    } finally {
      await db.close()
    }
  })
})

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.name}: a reader process beside a writer process`, () => {
    const database = useFreshDatabase(d)
    const ROUNDS = 40

    it('always sees whole transactions (a project with all 10 scenes, of one generation) and never fails', async () => {
      const url = database().url
      const writer = startFaultChild(['churn', url])
      // Some projects exist, and some have been rewritten, before the reader starts.
      await writer.until((lines) => lines.length >= 20)
      const reader = startFaultChild(['reader', url, String(ROUNDS)])
      await reader.until((lines) => lines.includes('round 1'))
      const writtenAtFirstRound = writer.lines.length
      expect(await reader.exit(60_000)).toBe(0)
      const writtenAtLastRound = writer.lines.length
      writer.closeStdin()
      expect(await writer.exit()).toBe(0)

      expect(reader.lines.filter((line) => !line.startsWith('round '))).toEqual([])
      expect(reader.lines).toHaveLength(ROUNDS)
      expect(errorLines(writer)).toEqual([])
      // The writer went on committing while the reader read: the snapshots were of a moving database.
      expect(writtenAtLastRound).toBeGreaterThan(writtenAtFirstRound)
      expect(await projectsWithoutScenes(url, 10)).toEqual([])
    })
  })
}
