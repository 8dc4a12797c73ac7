import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { appendFileSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  AccessDeniedError,
  grantHubAccess,
  hubChangesSince,
  hubMembers,
  initHub,
  NotFoundError,
  openDatabase,
  revokeHubAccess,
  UsageError,
  ValidationError,
  type AuraDatabase,
} from '../src/index.js'
import { runCli, runCliJson } from './cli-helpers.js'
import { pgbouncer, POSTGRES_URL, postgres, sqlite, type TestDatabase } from './dialects.js'

/*
 * Who may see and change what on a team hub is enforced by PostgreSQL itself. These tests connect
 * as each editor's own login role and ask with plain SQL, as `psql` would, and through the
 * library. Roles are the server's, so each run creates its own and drops them afterwards.
 */

const run = randomBytes(4).toString('hex')

/** Runs `fn` on a plain connection to the shared server as its admin role. */
async function asAdmin(fn: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL })
  await client.connect()
  try {
    await fn(client)
  } finally {
    await client.end()
  }
}

/** The hub's URL with another login role. */
function urlAs(url: string, user: string): string {
  const u = new URL(url)
  u.username = user
  return u.toString()
}

/** The hub's URL as psql would take it: without Aura Data's own parameters. */
function plainUrl(url: string): string {
  const plain = new URL(url)
  plain.search = ''
  return plain.toString()
}

/** The rows `text` returns on a plain connection to the hub as `user` (as psql would connect). */
async function sqlAs(
  url: string,
  user: string,
  text: string,
  values: unknown[] = [],
): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: plainUrl(urlAs(url, user)) })
  await client.connect()
  try {
    return await client.query(text, values)
  } finally {
    await client.end()
  }
}

/** The SQLSTATE of the error `promise` rejects with. */
async function sqlState(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
  } catch (error) {
    return (error as { code?: string }).code
  }
  return undefined
}

/**
 * A login as `user` is refused by the server (no CONNECT: SQLSTATE 42501). PgBouncer passes the
 * server's refusal on under its own code (08P01), with the server's message.
 */
async function expectConnectionRefused(url: string, user: string): Promise<void> {
  const error = await sqlAs(url, user, 'select 1').then(
    () => null,
    (e: { code?: string; message: string }) => e,
  )
  expect(error?.code === '42501' || /permission denied for database/.test(error?.message ?? '')).toBe(true)
}

/**
 * Lets `roles` log in through the run's PgBouncer (trust, by its users file) and waits until it
 * has read the file again: a login as the last role gets past PgBouncer to the server.
 */
async function admitThroughPgbouncer(roles: readonly string[], url: string): Promise<void> {
  appendFileSync(inject('pgbouncerAuthFile'), roles.map((r) => `"${r}" ""\n`).join(''))
  execFileSync('kill', ['-HUP', readFileSync(inject('pgbouncerPidFile'), 'utf8').trim()])
  for (let attempt = 0; ; attempt++) {
    // CONNECT is not granted yet: the server's refusal (not PgBouncer's) means the user got through.
    const refusal = await sqlAs(url, roles.at(-1)!, 'select 1').catch((error: Error) => error.message)
    if (typeof refusal !== 'string' || refusal.includes('permission denied') || attempt === 200) return
    await sleep(50)
  }
}

for (const d of [postgres, pgbouncer]) {
  describe.skipIf(!d.available)(`${d.label}: a team hub, enforced by the database`, () => {
    const role = (name: string) => `aura_t${run}_${d === pgbouncer ? 'b' : 'd'}_${name}`
    const ALICE = role('alice')
    const BOB = role('bob')
    const CAROL = role('carol')
    let target: TestDatabase
    /**
     * Where to try a login after a revoke: through PgBouncer, a login the server refuses after it
     * accepted that user before waits in the pooler (it retries the login, up to its
     * query_wait_timeout, 2 minutes) instead of failing, so the check goes to the server itself.
     */
    const afterRevoke = () => {
      const url = new URL(target.url)
      const direct = url.searchParams.get('aura_direct')
      if (direct) url.host = direct
      return url.toString()
    }
    let owner: AuraDatabase
    let editorsRole = ''
    let projectA = ''
    let projectB = ''

    beforeAll(async () => {
      await asAdmin(async (client) => {
        for (const name of [ALICE, BOB, CAROL]) await client.query(`create role "${name}" login`)
      })
      target = await d.create()
      owner = await openDatabase({ url: target.url, actor: 'owner' })
      editorsRole = (await initHub(owner)).editorsRole
      if (d === pgbouncer) await admitThroughPgbouncer([ALICE, BOB, CAROL], target.url)
      projectA = (await owner.projectStates.add({ title: 'Project A' })).id
      projectB = (await owner.projectStates.add({ title: 'Project B' })).id
      await owner.sceneStates.add({ projectId: projectA, sceneIndex: 0, scriptText: 'A0' })
      await owner.sceneStates.add({ projectId: projectB, sceneIndex: 0, scriptText: 'B0' })
      await owner.configurations.set('machine.path', '/srv', { category: 'local' })
    })

    afterAll(async () => {
      await owner?.close()
      await target?.drop()
      // The database is gone, and with it every privilege on its objects: the roles can go too.
      await asAdmin(async (client) => {
        for (const name of [ALICE, BOB, CAROL, editorsRole].filter(Boolean)) {
          await client.query(`drop role if exists "${name}"`)
        }
      })
    })

    it('takes CONNECT away from everyone not granted: a role never granted cannot reach the data', async () => {
      await expectConnectionRefused(target.url, CAROL)
    })

    it('a member sees only the rows of its projects, by plain SQL', async () => {
      await grantHubAccess(owner, ALICE, { project: projectA })
      await grantHubAccess(owner, BOB, { project: projectA, readOnly: true })
      for (const who of [ALICE, BOB]) {
        const projects = await sqlAs(target.url, who, 'select id, title from project_states')
        expect(projects.rows.map((r) => r.title)).toEqual(['Project A'])
        const scenes = await sqlAs(target.url, who, 'select script_text from scene_states')
        expect(scenes.rows.map((r) => r.script_text)).toEqual(['A0'])
        // Never shared: machine settings, and the audit trail of everyone's work.
        expect(await sqlState(sqlAs(target.url, who, 'select * from configurations'))).toBe('42501')
        expect(await sqlState(sqlAs(target.url, who, 'select * from audit_entries'))).toBe('42501')
      }
      await expectConnectionRefused(target.url, CAROL)
    })

    it('a writer changes only its projects; a reader changes nothing', async () => {
      const update = 'update project_states set title = $1 where id = $2'
      expect((await sqlAs(target.url, ALICE, update, ['A by alice', projectA])).rowCount).toBe(1)
      expect((await sqlAs(target.url, ALICE, update, ['B by alice', projectB])).rowCount).toBe(0)
      expect((await sqlAs(target.url, BOB, update, ['A by bob', projectA])).rowCount).toBe(0)
      const insertScene = `insert into scene_states (id, project_id, scene_index, is_completed, created_at, updated_at, row_version)
      values (gen_random_uuid(), $1, 7, false, now(), now(), 1)`
      expect(await sqlState(sqlAs(target.url, ALICE, insertScene, [projectB]))).toBe('42501')
      expect(await sqlState(sqlAs(target.url, BOB, insertScene, [projectA]))).toBe('42501')
      expect((await owner.projectStates.getById(projectB))?.title).toBe('Project B')
      expect((await owner.projectStates.getById(projectA))?.title).toBe('A by alice')
    })

    it('through the library: a member reads its projects, and a refused write is an AccessDeniedError', async () => {
      const alice = await openDatabase({ url: urlAs(target.url, ALICE), actor: ALICE })
      const bob = await openDatabase({ url: urlAs(target.url, BOB), actor: BOB })
      try {
        expect((await alice.projectStates.getAll()).map((p) => p.id)).toEqual([projectA])
        const scene = await alice.sceneStates.add({ projectId: projectA, sceneIndex: 1, scriptText: 'A1' })
        expect(scene.createdBy).toBe(ALICE)
        await expect(bob.sceneStates.add({ projectId: projectA, sceneIndex: 2 })).rejects.toBeInstanceOf(
          AccessDeniedError,
        )
        await expect(bob.configurations.getAll()).rejects.toBeInstanceOf(AccessDeniedError)
        // A project created on the hub by a member is its own: visible and writable to it alone.
        const own = await alice.projectStates.add({ title: 'Alice’s own' })
        expect(await alice.projectStates.getById(own.id)).not.toBeNull()
        expect(await bob.projectStates.getById(own.id)).toBeNull()
        const grants = await hubMembers(owner)
        expect(
          grants.filter((g) => g.role === ALICE).map((g) => [g.projectId, g.access, g.grantedBy]),
        ).toEqual(
          expect.arrayContaining([
            [projectA, 'write', expect.any(String)],
            [own.id, 'write', ALICE],
          ]),
        )
      } finally {
        await alice.close()
        await bob.close()
      }
    })

    it('a member cannot make a grant or a project appear to come from another role', async () => {
      const id = (
        await sqlAs(
          target.url,
          ALICE,
          `insert into project_states (id, title, status, current_wizard_step, created_at, updated_at, created_by, modified_by, row_version, is_deleted)
         values (gen_random_uuid(), 'Claims to be bob''s', 'Draft', 0, now(), now(), $1, $1, 1, false) returning id`,
          [BOB],
        )
      ).rows[0].id as string
      const grants = await hubMembers(owner)
      expect(grants.filter((g) => g.projectId === id).map((g) => g.role)).toEqual([ALICE])
      expect(await sqlState(sqlAs(target.url, ALICE, 'select * from aura_hub_members'))).toBe('42501')
      expect(
        await sqlState(
          sqlAs(
            target.url,
            ALICE,
            `insert into aura_hub_members (role_name, project_id, access) values ($1, $2, 'write')`,
            [ALICE, projectB],
          ),
        ),
      ).toBe('42501')
    })

    it('the change log never skips a change that committed late, and names who made each from the session', async () => {
      const start = await hubChangesSince(owner)
      // A transaction that starts first and commits last: its id is smaller than the next one's.
      const slow = new pg.Client({ connectionString: plainUrl(target.url) })
      await slow.connect()
      let slowId = ''
      let fastId = ''
      try {
        await slow.query('begin')
        slowId = (
          await slow.query(
            `insert into project_states (id, title, status, current_wizard_step, created_at, updated_at, row_version, is_deleted)
             values (gen_random_uuid(), 'Slow', 'Draft', 0, now(), now(), 1, false) returning id`,
          )
        ).rows[0].id as string
        fastId = (await owner.projectStates.add({ title: 'Fast' })).id
        // The fast one committed first; the slow one, numbered by its commit, comes after it.
        const early = await hubChangesSince(owner, start.cursor)
        expect(early.changes.filter((c) => c.table === 'project_states').map((c) => c.rowId)).toEqual([
          fastId,
        ])
        await slow.query('commit')
        const late = await hubChangesSince(owner, early.cursor)
        expect(late.changes.filter((c) => c.table === 'project_states').map((c) => c.rowId)).toEqual([slowId])
        expect((await hubChangesSince(owner, late.cursor)).changes).toEqual([])
      } finally {
        await slow.end()
      }
      // Who changed a row comes from the session, whatever the row says.
      await grantHubAccess(owner, ALICE, { project: fastId })
      const before = await hubChangesSince(owner)
      await sqlAs(
        target.url,
        ALICE,
        `update project_states set title = 'Fast, edited', modified_by = $1 where id = $2`,
        [BOB, fastId],
      )
      const edit = (await hubChangesSince(owner, before.cursor)).changes
      expect(edit.map((c) => [c.action, c.rowId, c.changedBy, c.rowVersion])).toEqual([
        ['update', fastId, ALICE, 1],
      ])
      // A member reads the log of its projects only.
      const alice = await openDatabase({ url: urlAs(target.url, ALICE) })
      try {
        const seen = (await hubChangesSince(alice)).changes
        expect(seen.some((c) => c.projectId === fastId)).toBe(true)
        expect(seen.some((c) => c.projectId === projectB || c.rowId === slowId)).toBe(false)
        await expect(hubChangesSince(alice, 'not a cursor')).rejects.toBeInstanceOf(ValidationError)
      } finally {
        await alice.close()
      }
      expect(
        await sqlState(
          sqlAs(
            target.url,
            ALICE,
            `insert into aura_hub_changes (table_name, row_id, action) values ('x', 'y', 'insert')`,
          ),
        ),
      ).toBe('42501')
    })

    it('--all-projects includes projects created later; revoking the last grant takes CONNECT away', async () => {
      await grantHubAccess(owner, CAROL, { allProjects: true, readOnly: true })
      const later = await owner.projectStates.add({ title: 'Created later' })
      const seen = await sqlAs(target.url, CAROL, 'select title from project_states order by title')
      expect(seen.rows.map((r) => r.title)).toEqual(
        expect.arrayContaining(['A by alice', 'Project B', 'Created later']),
      )
      expect(await revokeHubAccess(owner, CAROL, { allProjects: true })).toBe(true)
      await expectConnectionRefused(afterRevoke(), CAROL)
      expect(await revokeHubAccess(owner, CAROL, { allProjects: true })).toBe(false)

      expect(await revokeHubAccess(owner, BOB, { project: projectA })).toBe(true)
      await expectConnectionRefused(afterRevoke(), BOB)
      // Alice keeps her own projects after losing project A.
      await revokeHubAccess(owner, ALICE, { project: projectA })
      const left = await sqlAs(target.url, ALICE, 'select title from project_states')
      expect(left.rows.map((r) => r.title)).not.toContain('A by alice')
      expect(left.rows.length).toBeGreaterThan(0)
      expect((await owner.projectStates.getById(later.id))?.title).toBe('Created later')
    })

    it('aura-db hub: init, grant, members --json and revoke, with usage errors as exit 2', async () => {
      const db = ['--db', target.url]
      expect((await runCli([...db, 'hub', 'init'])).code).toBe(0)
      const granted = await runCli([...db, 'hub', 'grant', BOB, '--project', projectB, '--read-only'])
      expect([granted.code, granted.stdout.trim()]).toEqual([
        0,
        `Granted ${BOB} read access to project ${projectB}.`,
      ])
      const { json } = await runCliJson([...db, 'hub', 'members'])
      expect(json.members).toContainEqual(
        expect.objectContaining({
          role: BOB,
          projectId: projectB,
          access: 'read',
          grantedAt: expect.any(String),
        }),
      )
      expect(
        (await sqlAs(target.url, BOB, 'select title from project_states')).rows.map((r) => r.title),
      ).toEqual(['Project B'])
      const neither = await runCli([...db, 'hub', 'grant', BOB])
      expect(neither.code).toBe(2)
      expect(neither.stderr).toContain('either one project')
      const both = await runCli([...db, 'hub', 'revoke', BOB, '--project', projectB, '--all-projects'])
      expect(both.code).toBe(2)
      const revoked = await runCli([...db, 'hub', 'revoke', BOB, '--project', projectB])
      expect([revoked.code, revoked.stdout.trim()]).toEqual([
        0,
        `Revoked ${BOB}'s access to project ${projectB}.`,
      ])
      await expectConnectionRefused(afterRevoke(), BOB)
    })

    it('init is repeatable, and bad grants are refused before anything changes', async () => {
      await initHub(owner)
      const before = await hubMembers(owner)
      await expect(
        grantHubAccess(owner, 'no_such_role_' + run, { project: projectA }),
      ).rejects.toBeInstanceOf(ValidationError)
      await expect(grantHubAccess(owner, '', { project: projectA })).rejects.toBeInstanceOf(ValidationError)
      await expect(grantHubAccess(owner, BOB, { project: 'not-a-uuid' })).rejects.toBeInstanceOf(
        ValidationError,
      )
      await expect(
        grantHubAccess(owner, BOB, { project: projectA, allProjects: true } as never),
      ).rejects.toBeInstanceOf(ValidationError)
      await expect(
        grantHubAccess(owner, BOB, { project: '00000000-0000-4000-8000-000000000000' }),
      ).rejects.toBeInstanceOf(NotFoundError)
      expect(await hubMembers(owner)).toEqual(before)
    })
  })
}

describe('a hub is a PostgreSQL database', () => {
  it('refuses SQLite, and a PostgreSQL database before hub init', async () => {
    const file = await sqlite.create()
    const db = await openDatabase({ url: file.url, migrate: true })
    try {
      await expect(initHub(db)).rejects.toBeInstanceOf(UsageError)
      await expect(hubMembers(db)).rejects.toBeInstanceOf(UsageError)
    } finally {
      await db.close()
      await file.drop()
    }
    if (!postgres.available) return
    const server = await postgres.create()
    const plain = await openDatabase({ url: server.url, migrate: true })
    try {
      await expect(hubMembers(plain)).rejects.toThrow(/hub init/)
    } finally {
      await plain.close()
      await server.drop()
    }
  })
})
