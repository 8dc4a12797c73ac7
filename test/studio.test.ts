import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync } from 'node:fs'
import { expectOneLineError, runCli } from './cli-helpers.js'
import { dialects, sqlite } from './dialects.js'
import { useMigratedDatabase } from './helpers.js'
import {
  fillStudioData,
  startStudioCli,
  studioCookie,
  studioRequest,
  testSecretKey,
  type RunningStudio,
  type StudioData,
} from './studio-helpers.js'

const secretKey = testSecretKey()

/** Every page of the studio for the test data, with the query strings that exercise the most. */
function allPages(data: StudioData): string[] {
  return [
    '/projects',
    '/projects?q=launch',
    `/projects/${data.projectId}`,
    `/projects/${data.scriptProjectId}`,
    `/projects/${data.projectId}/versions?a=${data.v1}&b=${data.v2}`,
    '/audit',
    '/audit?table=configurations',
    '/audit?table=configurations&row=studio.test.apiKey',
    '/audit?actor=alice',
    '/history',
    `/history?project=${data.projectId}&user=alice`,
    '/configuration',
    '/health',
    '/health?verify=1',
    '/er',
    '/tables',
    '/tables/project_states',
    `/tables/project_states/rows/${data.projectId}`,
    '/tables/audit_entries',
    '/tables/audit_entries?col=tableName&val=configurations',
    '/tables/content_blobs',
    '/tables/templates',
    '/api/backup',
    '/static/studio.js',
    '/static/studio.css',
  ]
}

/** The CSRF token in a page's write forms. */
function csrfOf(body: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(body)
  if (!match) throw new Error('no write form on the page')
  return match[1]!
}

describe('sqlite: aura-db studio command line', () => {
  it('refuses a bad --port (exit 2) and a missing database file (no file left behind)', async () => {
    const target = await sqlite.create()
    try {
      const port = await runCli(['--db', target.url, 'studio', '--port', '80x'])
      expect(port.code).toBe(2)
      expect(expectOneLineError(port.stderr)[0]).toContain('--port must be a whole number')
      const missing = await runCli(['--db', target.url, 'studio'])
      expect(missing.code).toBe(2)
      expect(expectOneLineError(missing.stderr)[0]).toMatch(/does not exist/)
      expect(existsSync(target.file!)).toBe(false)
    } finally {
      await target.drop()
    }
  })
})

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: studio over HTTP`, () => {
    const handle = useMigratedDatabase(d, { actor: 'alice', secretKey })
    let data: StudioData
    let readOnly: RunningStudio
    let writable: RunningStudio
    let readCookie: string
    let writeCookie: string
    let ciphertext: string

    beforeAll(async () => {
      data = await fillStudioData(handle.db)
      const row = await handle.db.dialect.kysely
        .selectFrom('configurations')
        .select('value')
        .where('key', '=', 'studio.test.apiKey')
        .executeTakeFirstOrThrow()
      ciphertext = row.value as string
      // The read-only studio runs without the secret key (it never needs it), the writable one
      // with it: neither may send a sensitive value anywhere.
      ;[readOnly, writable] = await Promise.all([
        startStudioCli(handle.target.url),
        startStudioCli(handle.target.url, ['--write', '--dir', `${handle.target.dir}/backups`], {
          AURA_SECRET_KEY: secretKey,
        }),
      ])
      ;[readCookie, writeCookie] = await Promise.all([studioCookie(readOnly), studioCookie(writable)])
    })

    afterAll(async () => {
      await Promise.all([readOnly?.stop(), writable?.stop()])
    })

    it('refuses every request without the token: 401, no data', async () => {
      for (const path of [
        '/projects',
        `/projects/${data.projectId}`,
        '/configuration',
        '/static/studio.js',
      ]) {
        const res = await studioRequest(readOnly, path)
        expect(res.status, path).toBe(401)
        expect(res.body).not.toContain('Launch video')
      }
      expect((await studioRequest(readOnly, `/projects?token=${'x'.repeat(43)}`)).status).toBe(401)
      expect((await studioRequest(readOnly, '/projects', { cookie: `${readCookie}x` })).status).toBe(401)
      // Each run has its own token: the other studio's cookie does not open this one.
      const other = writeCookie.split('=')[1]!
      const forged = `${readCookie.split('=')[0]}=${other}`
      expect((await studioRequest(readOnly, '/projects', { cookie: forged })).status).toBe(401)
    })

    it('the token opens a session: an HttpOnly, SameSite=Strict cookie, and the token leaves the URL', async () => {
      const res = await studioRequest(readOnly, `/projects?q=launch&token=${readOnly.token}`)
      expect(res.status).toBe(303)
      expect(res.headers.location).toBe('/projects?q=launch')
      expect(String(res.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict; Path=\//)
      const page = await studioRequest(readOnly, '/projects', { cookie: readCookie })
      expect(page.status).toBe(200)
      expect(page.body).toContain('Launch video')
    })

    it('refuses a request addressed to another host or from another origin (DNS rebinding)', async () => {
      const port = new URL(readOnly.origin).port
      for (const host of [
        `evil.example:${port}`,
        `localhost:${port}`,
        '127.0.0.1',
        `127.0.0.1:${Number(port) + 1}`,
      ]) {
        const res = await studioRequest(readOnly, '/projects', {
          cookie: readCookie,
          headers: { Host: host },
        })
        expect(res.status, host).toBe(403)
        expect(res.body).not.toContain('Launch video')
      }
      const cross = await studioRequest(readOnly, '/projects', {
        cookie: readCookie,
        headers: { Origin: 'http://evil.example' },
      })
      expect(cross.status).toBe(403)
    })

    it('sends a strict Content-Security-Policy and no CORS headers on every response', async () => {
      for (const [path, cookie] of [
        ['/projects', readCookie],
        ['/projects', null],
        ['/nowhere', readCookie],
        ['/static/studio.js', readCookie],
      ] as const) {
        const res = await studioRequest(readOnly, path, { cookie })
        expect(res.headers['content-security-policy'], path).toMatch(/default-src 'none'; script-src 'self'/)
        expect(res.headers['content-security-policy']).not.toMatch(/unsafe-inline|unsafe-eval/)
        expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([])
      }
      const page = await studioRequest(readOnly, `/projects/${data.projectId}`, { cookie: readCookie })
      // No inline script at all: the only script is the studio's own file.
      expect(page.body.match(/<script[^>]*>/g)).toEqual(['<script src="/static/studio.js" defer>'])
    })

    it("the health page shows the studio's own database use: statements with their timings (and the pool on PostgreSQL), never a value", async () => {
      await studioRequest(readOnly, '/projects', { cookie: readCookie })
      const res = await studioRequest(readOnly, '/health', { cookie: readCookie })
      expect(res.status).toBe(200)
      expect(res.body).toContain('database use')
      expect(res.body).toMatch(/<code>select [^<]*project_states/)
      expect(res.body).toContain('p99 ms')
      if (d.name === 'postgres') expect(res.body).toContain('Connections open')
      expect(res.body).not.toContain('window.__pwned')
    })

    it('shows a stored <script> title as text, on the list, the project page and in the audit trail', async () => {
      for (const path of [
        '/projects',
        `/projects/${data.scriptProjectId}`,
        `/audit?table=project_states&row=${data.scriptProjectId}`,
      ]) {
        const res = await studioRequest(readOnly, path, { cookie: readCookie })
        expect(res.status, path).toBe(200)
        expect(res.body, path).toContain(
          '&lt;script&gt;window.__pwned = 1&lt;/script&gt;&lt;img src=x onerror=',
        )
        expect(res.body, path).not.toContain('<script>window')
        expect(res.body, path).not.toContain('<img src=x')
      }
    })

    it('never sends a sensitive configuration value (plaintext or ciphertext), in any response', async () => {
      expect(ciphertext).not.toContain(data.secretValue)
      for (const [studio, cookie] of [
        [readOnly, readCookie],
        [writable, writeCookie],
      ] as const) {
        for (const path of allPages(data)) {
          const res = await studioRequest(studio, path, { cookie })
          expect(res.status, path).toBe(200)
          expect(res.body, path).not.toContain(data.secretValue)
          expect(res.body, path).not.toContain(ciphertext)
        }
        const config = await studioRequest(studio, '/configuration', { cookie })
        expect(config.body).toContain('studio.test.apiKey')
        expect(config.body).toContain('•••••• (sensitive)')
      }
    })

    it('refuses every write route without --write, and offers no write form', async () => {
      const auditBefore = await handle.db.auditEntries.count()
      const versionsBefore = await handle.db.projectVersions.count({ projectId: data.projectId })
      const page = await studioRequest(readOnly, `/projects/${data.projectId}/versions`, {
        cookie: readCookie,
      })
      expect(page.body).not.toContain('method="post"')
      for (const path of [
        `/projects/${data.projectId}/versions/${data.v1}/restore`,
        '/history/undo',
        '/history/redo',
        '/health/backup',
        `/projects/${data.projectId}/restore`,
        `/tables/project_states/rows/${data.projectId}`,
        `/tables/project_states/rows/${data.projectId}/restore`,
      ]) {
        const res = await studioRequest(readOnly, path, {
          method: 'POST',
          cookie: readCookie,
          headers: { Origin: readOnly.origin },
          form: { csrf: 'anything', project: data.projectId, user: 'alice' },
        })
        expect(res.status, path).toBe(403)
        expect(res.body).toContain('read-only')
      }
      expect(await handle.db.auditEntries.count()).toBe(auditBefore)
      expect(await handle.db.projectVersions.count({ projectId: data.projectId })).toBe(versionsBefore)
    })

    it('with --write, a write needs the run’s CSRF token and the studio’s origin', async () => {
      const auditBefore = await handle.db.auditEntries.count()
      const path = `/projects/${data.projectId}/versions/${data.v1}/restore`
      const page = await studioRequest(writable, `/projects/${data.projectId}/versions`, {
        cookie: writeCookie,
      })
      const csrf = csrfOf(page.body)
      const post = (form: Record<string, string>, origin = writable.origin) =>
        studioRequest(writable, path, {
          method: 'POST',
          cookie: writeCookie,
          headers: { Origin: origin },
          form,
        })
      expect((await post({})).status).toBe(403)
      expect((await post({ csrf: `${csrf}x` })).status).toBe(403)
      expect((await post({ csrf }, 'http://evil.example')).status).toBe(403)
      expect(await handle.db.auditEntries.count()).toBe(auditBefore)
    })

    it('with --write, undo and redo go through the library: the tracked edit is undone, audited, redone', async () => {
      const page = await studioRequest(writable, `/history?project=${data.projectId}&user=alice`, {
        cookie: writeCookie,
      })
      const csrf = csrfOf(page.body)
      const step = (verb: 'undo' | 'redo') =>
        studioRequest(writable, `/history/${verb}`, {
          method: 'POST',
          cookie: writeCookie,
          headers: { Origin: writable.origin },
          form: { csrf, project: data.projectId, user: 'alice' },
        })
      const brief = async () =>
        JSON.parse((await handle.db.projectStates.getById(data.projectId))!.briefJson!)
      expect((await brief()).topic).toBe('Summer launch')
      const undone = await step('undo')
      expect(undone.status).toBe(303)
      expect((await brief()).topic).toBe('Spring launch')
      const [entry] = await handle.db.auditEntries.find(
        { tableName: 'project_states', rowId: data.projectId },
        { orderBy: { id: 'desc' }, limit: 1 },
      )
      expect(entry!.actor).toBe('aura-studio')
      expect(entry!.changesJson).toContain('Spring launch')
      const after = await studioRequest(writable, undone.headers.location as string, { cookie: writeCookie })
      expect(after.body).toContain('Undone: ProjectUpdate')
      expect((await step('redo')).status).toBe(303)
      expect((await brief()).topic).toBe('Summer launch')
    })

    it('the health page lists each applied migration with the set it came from', async () => {
      const res = await studioRequest(readOnly, '/health', { cookie: readCookie })
      expect(res.status).toBe(200)
      expect(res.body).toContain('<th>Set</th>')
      const rows = [...res.body.matchAll(/<tr>\s*<td>(\d{14}_\w+)<\/td>\s*<td>([\w-]+)<\/td>/g)]
      expect(rows.map((m) => m[2])).toEqual(rows.map(() => 'aura-data'))
      expect(rows.length).toBe((await handle.db.status()).applied.length)
    })

    it('pages through projects with keyset paging: every project once, in update order', async () => {
      for (let i = 0; i < 60; i++) await handle.db.projectStates.add({ title: `Paging project ${i}` })
      const seen: string[] = []
      let path: string | null = '/projects?q=paging'
      let pages = 0
      while (path) {
        const res = await studioRequest(readOnly, path, { cookie: readCookie })
        expect(res.status).toBe(200)
        seen.push(...[...res.body.matchAll(/class="project-link">Paging project (\d+)</g)].map((m) => m[1]!))
        const next = /<a href="([^"]+)" rel="next">/.exec(res.body)
        path = next ? next[1]!.replace(/&amp;/g, '&') : null
        pages++
      }
      expect(pages).toBe(2)
      expect(seen).toHaveLength(60)
      expect(new Set(seen).size).toBe(60)
      const statusFiltered = await studioRequest(readOnly, '/projects?status=Completed', {
        cookie: readCookie,
      })
      expect(statusFiltered.body).toContain('No projects match.')
    })
  })

  describe.skipIf(!d.available)(`${d.label}: studio category filter`, () => {
    const handle = useMigratedDatabase(d, { actor: 'alice' })
    let studio: RunningStudio
    let cookie: string

    beforeAll(async () => {
      const { db } = handle
      for (const [title, category] of [
        ['Tutorial one', 'Education'],
        ['Promo one', 'Marketing'],
        ['Tutorial two', 'Education'],
      ] as const) {
        await db.projectStates.add({ title, category })
      }
      studio = await startStudioCli(handle.target.url)
      cookie = await studioCookie(studio)
    })

    afterAll(async () => {
      await studio?.stop()
    })

    it('offers the categories in use and filters by one', async () => {
      const all = await studioRequest(studio, '/projects', { cookie })
      expect(all.body).toMatch(/<option value="Education"\s*>Education<\/option>/)
      expect(all.body).toMatch(/<option value="Marketing"\s*>Marketing<\/option>/)
      const education = await studioRequest(studio, '/projects?category=Education', { cookie })
      const titles = [...education.body.matchAll(/class="project-link">([^<]+)</g)].map((m) => m[1])
      expect(titles.sort()).toEqual(['Tutorial one', 'Tutorial two'])
    })
  })
}
