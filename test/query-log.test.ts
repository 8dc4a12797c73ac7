/**
 * The query log (`openDatabase({ log, slowQueryMs, logParameters })`) and the PostgreSQL pool
 * options, on both dialects.
 */
import { sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openDatabase, type AuraDatabase, type QueryLogEvent } from '../src/index.js'
import { runCli } from './cli-helpers.js'
import { dialects, type TestDatabase } from './dialects.js'

/** A value that must never reach a log unless parameters were asked for. */
const SECRET_TITLE = 'Quarterly results 7f3a9c'

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: query log`, () => {
    let target: TestDatabase
    const open: AuraDatabase[] = []

    beforeEach(async () => {
      target = await d.create()
      const db = await openDatabase({ url: target.url, migrate: true })
      await db.close()
    })
    afterEach(async () => {
      for (const db of open.splice(0)) await db.close()
      await target.drop()
    })

    async function logged(options: { slowQueryMs?: number; logParameters?: boolean }) {
      const events: QueryLogEvent[] = []
      const db = await openDatabase({ url: target.url, log: (event) => events.push(event), ...options })
      open.push(db)
      return { db, events }
    }

    it('slowQueryMs: 0 logs every statement with its duration and rows, and no values', async () => {
      const { db, events } = await logged({ slowQueryMs: 0 })
      const project = await db.projectStates.add({ title: SECRET_TITLE })
      const found = await db.projectStates.find({ title: SECRET_TITLE })
      expect(found.map((p) => p.id)).toEqual([project.id])

      await db.transaction(async (uow) => {
        await uow.sceneStates.add({ projectId: project.id, sceneIndex: 0 })
      })

      const insert = events.find((e) => /insert into "project_states"/i.test(e.sql))
      const select = events.filter((e) => /^select/i.test(e.sql) && e.sql.includes('"project_states"'))
      expect(insert).toMatchObject({ dialect: d.name, rows: 1, failed: false, slow: true })
      expect(select.some((e) => e.rows === 1)).toBe(true)
      // The unit of work's transaction control is a statement too.
      expect(events.some((e) => /^begin/i.test(e.sql))).toBe(true)
      expect(events.some((e) => /^commit/i.test(e.sql))).toBe(true)
      for (const event of events) {
        expect(event.durationMs).toBeGreaterThanOrEqual(0)
        expect(Number.isFinite(event.durationMs)).toBe(true)
        expect(event).not.toHaveProperty('parameters')
      }
      expect(JSON.stringify(events)).not.toContain(SECRET_TITLE)
    })

    it('logs exactly the statements the database ran: the same with a log and no threshold', async () => {
      const all = await logged({})
      const zero = await logged({ slowQueryMs: 0 })
      for (const { db } of [all, zero]) {
        const p = await db.projectStates.add({ title: 'Counted' })
        await db.projectStates.getById(p.id)
        await sql`select 1 as one`.execute(db.dialect.kysely)
      }
      const shape = (events: QueryLogEvent[]) => events.map((e) => e.sql)
      expect(shape(zero.events)).toEqual(shape(all.events))
      expect(all.events.every((e) => !e.slow)).toBe(true)
      expect(zero.events.some((e) => e.sql === 'select 1 as one')).toBe(true)
    })

    it('a threshold no statement reaches logs nothing; logParameters includes the values', async () => {
      const quiet = await logged({ slowQueryMs: 60_000 })
      await quiet.db.projectStates.add({ title: 'Fast' })
      expect(quiet.events).toEqual([])

      const verbose = await logged({ logParameters: true })
      await verbose.db.projectStates.add({ title: SECRET_TITLE })
      const insert = verbose.events.find((e) => /insert into "project_states"/i.test(e.sql))
      expect(insert?.parameters).toContain(SECRET_TITLE)
    })

    it('a failed statement is logged as failed, and still thrown', async () => {
      const { db, events } = await logged({ slowQueryMs: 0 })
      await expect(sql`select * from no_such_table`.execute(db.dialect.kysely)).rejects.toThrow()
      expect(events.find((e) => e.sql.includes('no_such_table'))).toMatchObject({ failed: true, rows: 0 })
    })

    it('AURA_SLOW_QUERY_MS=0 writes every statement of a CLI command to stderr, without values; stdout stays one JSON document', async () => {
      const result = await runCli(['--json', '--db', target.url, 'status'], { AURA_SLOW_QUERY_MS: '0' })
      expect(result.code, result.stderr).toBe(0)
      expect(JSON.parse(result.stdout).pending).toEqual([])
      const lines = result.stderr.trim().split('\n')
      expect(lines.length).toBeGreaterThan(0)
      for (const line of lines)
        expect(line).toMatch(/^aura-data: slow query \d+\.\d ms, \d+ row\(s\)(, failed)?: \S/)
      expect(lines.some((line) => line.includes('aura_migrations'))).toBe(true)

      // A command that binds values: the seed writes titles, descriptions and settings. None of
      // them may reach stderr, only the statements with their placeholders.
      const seeded = await runCli(['--json', '--db', target.url, 'seed'], { AURA_SLOW_QUERY_MS: '0' })
      expect(seeded.code, seeded.stderr).toBe(0)
      expect(seeded.stderr).toMatch(/insert into "project_states"/i)
      for (const value of [
        'Welcome to Aura - Sample Project',
        'Quick Start Tutorial',
        'Advanced Features Demo',
      ])
        expect(seeded.stderr).not.toContain(value)

      const bad = await runCli(['--json', '--db', target.url, 'status'], { AURA_SLOW_QUERY_MS: 'soon' })
      expect(bad.code).toBe(2)
      expect(JSON.parse(bad.stdout).error.message).toContain('AURA_SLOW_QUERY_MS')
    })
  })
}

describe.skipIf(!dialects[1]!.available)('postgres: pool options', () => {
  it('sets the application name and the statement timeout on every connection', async () => {
    const target = await dialects[1]!.create()
    const db = await openDatabase({
      url: target.url,
      postgres: {
        poolSize: 2,
        applicationName: 'aura-test-app',
        statementTimeoutMs: 1234,
        connectionTimeoutMs: 5000,
      },
    })
    try {
      const { rows } = await sql<{ name: string; timeout: string }>`
        select current_setting('application_name') as name, current_setting('statement_timeout') as timeout
      `.execute(db.dialect.kysely)
      expect(rows[0]).toEqual({ name: 'aura-test-app', timeout: '1234ms' })
      // The server cancels what runs longer than the timeout.
      await expect(sql`select pg_sleep(3)`.execute(db.dialect.kysely)).rejects.toThrow(/statement timeout/)
    } finally {
      await db.close()
      await target.drop()
    }
  })
})
