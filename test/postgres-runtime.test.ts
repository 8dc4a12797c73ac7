import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { openDatabase, UsageError, type AuraDatabase } from '../src/index.js'
import { pgbouncer, postgres } from './dialects.js'
import { useMigratedDatabase } from './helpers.js'

/** What a team runs into on PostgreSQL that one process on SQLite never does. */
for (const d of [postgres, pgbouncer]) {
  describe.skipIf(!d.available)(`${d.label}: a column added by another process`, () => {
    // One connection: every statement below runs on the connection where it was prepared before.
    const ctx = useMigratedDatabase(d, { postgres: { poolSize: 1 } })

    /** The colleague's migration: a nullable column on project_states, from another session. */
    async function addColumnElsewhere(column: string): Promise<void> {
      const url = new URL(ctx.target.url)
      // Straight to the server, as `aura-db migrate` of another process would (DDL via the direct URL).
      const direct = url.searchParams.get('aura_direct')
      if (direct) {
        const [host, port] = direct.split(':')
        url.hostname = host!
        url.port = port ?? ''
      }
      url.search = ''
      const other = new pg.Client({ connectionString: url.toString() })
      await other.connect()
      try {
        await other.query(`alter table project_states add column ${column} text`)
      } finally {
        await other.end()
      }
    }

    it('never fails a call: reads, writes, units and db.transaction go on after the table changed', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'Before' })
      // Every statement shape below has run (and been prepared) once before the change.
      const warm = async (round: string) => {
        // The first statement after the change runs inside a unit: a failure there could not
        // be retried by the library (the transaction is aborted), so it must not happen at all.
        const uow = await db.beginUnitOfWork()
        const inUnit = await uow.projectStates.getById(p.id)
        await uow.projectStates.update({ ...inUnit!, title: `Unit ${round}` })
        await uow.sceneStates.add({ projectId: p.id, sceneIndex: Number(round), scriptText: round })
        await uow.commit()
        const read = await db.projectStates.getById(p.id)
        await db.projectStates.update({ ...read!, title: `Update ${round}` })
        expect(await db.projectStates.find({ title: `Update ${round}` })).toHaveLength(1)
        expect(await db.sceneStates.count({ projectId: p.id })).toBe(Number(round))
        await db.transaction(async (unit) => {
          const again = await unit.projectStates.getById(p.id)
          await unit.projectStates.update({ ...again!, title: `Transaction ${round}` })
        })
      }
      await warm('1')
      await addColumnElsewhere('colleague_note')
      await warm('2')
      await addColumnElsewhere('colleague_tag')
      await warm('3')
      expect((await db.projectStates.getById(p.id))?.title).toBe('Transaction 3')
    })
  })
}

describe.skipIf(!pgbouncer.available)('postgres via pgbouncer: pooler mode', () => {
  const ctx = useMigratedDatabase(pgbouncer)

  it('two handles with four concurrent loops each: every call succeeds (no named statement crosses server connections)', async () => {
    const second = await openDatabase({ url: ctx.target.url, postgres: { poolSize: 4 } })
    try {
      const loop = async (db: AuraDatabase, tag: string) => {
        for (let i = 0; i < 15; i++) {
          const p = await db.projectStates.add({ title: `${tag}-${i}` })
          await db.sceneStates.add({ projectId: p.id, sceneIndex: 0, scriptText: 'x' })
          const read = await db.projectStates.getById(p.id)
          await db.projectStates.update({ ...read!, title: `${tag}-${i}-done` })
          await db.transaction(async (uow) => {
            await uow.sceneStates.add({ projectId: p.id, sceneIndex: 1, scriptText: 'y' })
          })
        }
      }
      await Promise.all([ctx.db, second].flatMap((db, h) => [0, 1, 2, 3].map((l) => loop(db, `h${h}l${l}`))))
      expect(await ctx.db.projectStates.count({ title: { contains: '-done' } })).toBe(2 * 4 * 15)
      expect(await ctx.db.sceneStates.count({})).toBe(2 * 4 * 15 * 2)
    } finally {
      await second.close()
    }
  })

  it('without the server itself (aura_direct), migrate and backup are refused with a UsageError naming it; data calls work', async () => {
    const url = new URL(ctx.target.url)
    url.searchParams.delete('aura_direct')
    const db = await openDatabase({ url: url.toString() })
    try {
      expect(await db.projectStates.count({})).toBeGreaterThanOrEqual(0)
      for (const operation of [() => db.migrate(), () => db.backup({ dir: ctx.target.dir })]) {
        const error = await operation().catch((e: unknown) => e)
        expect(error).toBeInstanceOf(UsageError)
        expect((error as Error).message).toContain('aura_direct')
      }
    } finally {
      await db.close()
    }
  })

  it('an unknown pooler mode in the URL is a UsageError before anything connects', async () => {
    const url = new URL(ctx.target.url)
    url.searchParams.set('aura_pooler', 'session')
    await expect(openDatabase({ url: url.toString() })).rejects.toBeInstanceOf(UsageError)
  })
})
