import { randomBytes } from 'node:crypto'
import { basename, join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { expectOneLineError, runCli } from './cli-helpers.js'
import { dialects, type TestDatabase } from './dialects.js'
import { buildLegacyDatabase } from './legacy-fixture.js'
import { startStudioCli, studioCookie, studioRequest, type RunningStudio } from './studio-helpers.js'

const KEY = { AURA_SECRET_KEY: randomBytes(32).toString('base64') }

/** What a page must never show: a JavaScript or database error's own text. */
const RAW_ERROR = /is not iterable|no such table|does not exist|TypeError|SQLITE_/

// Issue 23, item 10, and issue 22, item 11: the studio shows what happened and what to do,
// never a raw error, and two studios on one machine do not mix their sessions.
for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.name}: studio errors and sessions`, () => {
    let target: TestDatabase
    const studios: RunningStudio[] = []

    async function studio(args: readonly string[] = []): Promise<RunningStudio> {
      const started = await startStudioCli(target.url, args, KEY)
      studios.push(started)
      return started
    }

    beforeEach(async () => {
      target = await d.create()
      const init = await runCli(['--db', target.url, 'init', '--no-seed'], KEY)
      expect(init.code, init.stderr).toBe(0)
    })
    afterEach(async () => {
      for (const s of studios.splice(0)) await s.stop()
      await target.drop()
    })

    it("the audit trail shows an EF import's entry (its source and row counts), not HTTP 500", async () => {
      const legacy = join(target.dir, 'legacy-aura.db')
      buildLegacyDatabase(legacy)
      const imported = await runCli(['--db', target.url, 'import', 'ef', legacy], KEY)
      expect(imported.code, imported.stderr).toBe(0)
      const running = await studio()
      const cookie = await studioCookie(running)
      for (const path of ['/audit', '/audit?table=*']) {
        const res = await studioRequest(running, path, { cookie })
        expect({ path, status: res.status }).toEqual({ path, status: 200 })
        expect(res.body).toMatch(/class="action import"/)
        expect(res.body).toContain('legacy-aura.db')
        expect(res.body).not.toMatch(RAW_ERROR)
      }
    })

    it('after a rollback under the running studio, a page says the schema changed and what to do', async () => {
      const running = await studio()
      const cookie = await studioCookie(running)
      expect((await studioRequest(running, '/projects', { cookie })).status).toBe(200)
      const rolledBack = await runCli(['--db', target.url, '--yes', 'rollback', '0'], KEY)
      expect(rolledBack.code, rolledBack.stderr).toBe(0)
      const res = await studioRequest(running, '/projects', { cookie })
      expect(res.status, res.body.slice(-600)).toBe(503)
      expect(res.body).toMatch(/schema changed while this studio was running/)
      expect(res.body).toContain('aura-db migrate')
      expect(res.body).not.toMatch(RAW_ERROR)
    })

    it('a busy port is a usage error (exit 2) saying how to pick another', async () => {
      const running = await studio()
      const port = new URL(running.origin).port
      const second = await runCli(['--db', target.url, 'studio', '--port', port], KEY)
      expect(second.code).toBe(2)
      const [line] = expectOneLineError(second.stderr)
      expect(line).toContain(`Port ${port} is in use`)
      expect(line).toContain('--port 0')
      expect(line).not.toMatch(/EADDRINUSE/)
    })

    it("(6) the health page lists this database's backups only, in the words of aura-db backups", async () => {
      const dir = join(target.dir, 'shared-backups')
      const other = await d.create()
      try {
        expect((await runCli(['--db', other.url, 'init', '--no-seed'], KEY)).code).toBe(0)
        const ours = await runCli(['--json', '--db', target.url, 'backup', '--dir', dir], KEY)
        const theirs = await runCli(['--json', '--db', other.url, 'backup', '--dir', dir], KEY)
        expect([ours.code, theirs.code]).toEqual([0, 0])
        const running = await studio(['--dir', dir])
        const res = await studioRequest(running, '/health', { cookie: await studioCookie(running) })
        expect(res.status).toBe(200)
        expect(res.body).toContain(basename(JSON.parse(ours.stdout).file as string))
        expect(res.body).not.toContain(basename(JSON.parse(theirs.stdout).file as string))
        expect(res.body).toMatch(/<td><span class="ok">yes<\/span><\/td>\s*<td>regular<\/td>/)
      } finally {
        await other.drop()
      }
    })

    it('two studios open at once keep their own sessions', async () => {
      const first = await studio()
      const second = await studio(['--write'])
      const firstCookie = await studioCookie(first)
      const secondCookie = await studioCookie(second)
      expect(firstCookie).not.toBe(secondCookie)
      // A browser sends both cookies to both (cookies are per host, not per port).
      const both = `${firstCookie}; ${secondCookie}`
      const fromFirst = await studioRequest(first, '/health', { cookie: both })
      const fromSecond = await studioRequest(second, '/health', { cookie: both })
      expect([fromFirst.status, fromSecond.status]).toEqual([200, 200])
      // Each studio's own mode: only the --write one offers the backup form.
      expect(fromFirst.body).not.toContain('Take a backup</button>')
      expect(fromSecond.body).toContain('Take a backup')
      // One studio's session is no session of the other's.
      expect((await studioRequest(second, '/health', { cookie: firstCookie })).status).toBe(401)
      expect((await studioRequest(first, '/health', { cookie: secondCookie })).status).toBe(401)
      // Stopping one leaves the other's session working.
      await first.stop()
      expect((await studioRequest(second, '/health', { cookie: both })).status).toBe(200)
    })
  })
}
