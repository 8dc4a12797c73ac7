import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { openDatabase } from '../src/index.js'
import { dialects, sqlite } from './dialects.js'
import {
  projectNumbers,
  projectsWithoutScenes,
  startFaultChild,
  useFreshDatabase,
  type FaultChild,
} from './fault-helpers.js'

/** 1, 2, …, k. */
function oneTo(k: number): number[] {
  return Array.from({ length: k }, (_, i) => i + 1)
}

function errorLines(child: FaultChild): string[] {
  return child.lines.filter((line) => line.startsWith('error'))
}

describe('sqlite: two writer processes on one file at once', () => {
  const database = useFreshDatabase(sqlite)
  // SQLite's busy handler is not fair: a waiting writer may watch the other commit hundreds of
  // times in a row. The guarantee is about waits shorter than the busy timeout (5 s), so each
  // writer's whole run, hold included, stays well below it even on a slow machine.
  const COMMITS = 200
  const HOLD_MS = 1_000

  it('lose no rows, and no SQLITE_BUSY reaches the one that waits while the other holds the lock', async () => {
    const url = database().url
    const [holder, waiter] = ['a', 'b'].map((tag) =>
      startFaultChild(['writer', url, tag, '1', String(COMMITS)], {
        env: {
          AURA_FAULT_WAIT_GO: '1',
          ...(tag === 'a' ? { AURA_FAULT_HOLD_FIRST_MS: String(HOLD_MS) } : {}),
        },
      }),
    ) as [FaultChild, FaultChild]
    // Both have opened the file before either writes.
    await Promise.all([holder, waiter].map((w) => w.until((lines) => lines.includes('ready'))))
    holder.send('go')
    // The holder is inside its first transaction, with the write lock, for another second: the
    // waiter's first transaction starts now and has to wait for it.
    await holder.until((lines) => lines.includes('holding'))
    waiter.send('go')
    const codes = await Promise.all([holder, waiter].map((w) => w.exit(60_000)))

    expect([holder, waiter].flatMap(errorLines)).toEqual([])
    expect(codes).toEqual([0, 0])
    expect(holder.lines).toEqual(['ready', 'holding', ...oneTo(COMMITS).map(String)])
    expect(waiter.lines).toEqual(['ready', ...oneTo(COMMITS).map(String)])
    expect(await projectNumbers(url, 'a')).toEqual(oneTo(COMMITS))
    expect(await projectNumbers(url, 'b')).toEqual(oneTo(COMMITS))
    expect(await projectsWithoutScenes(url, 10)).toEqual([])

    // In commit order (SQLite's rowid, assigned under the write lock) the held transaction comes
    // before every one of the waiter's: the waiter waited for the lock rather than failing.
    const db = await openDatabase({ url })
    try {
      const order = (
        await db.dialect.kysely
          .selectFrom('project_states')
          .select('title')
          .orderBy(sql`rowid`)
          .execute()
      ).map((row) => row.title as string)
      expect(order.indexOf('a:1')).toBeLessThan(order.indexOf('b:1'))
    } finally {
      await db.close()
    }
  })
})

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: a reader process beside a writer process`, () => {
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
