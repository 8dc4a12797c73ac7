/**
 * A database URL's password never reaches a message: library errors, the command line's errors,
 * hints, `--json` documents and the reports of commands that succeed.
 */
import { describe, expect, it } from 'vitest'
import { openDatabase } from '../src/index.js'
import { runCli } from './cli-helpers.js'
import { postgres } from './dialects.js'
import { useMigratedDatabase } from './helpers.js'

const PASSWORD = 'Pw7hunter2x'

/** The spellings of a password in a URL that the driver accepts. */
function withPassword(base: URL): string[] {
  const host = `${base.hostname}:${base.port || '5432'}${base.pathname}`
  return [
    `postgres://postgres:${PASSWORD}@${host}`,
    `postgres://:${PASSWORD}@${host}`,
    `postgres://postgres:${PASSWORD}@${host}?password=${PASSWORD}`,
    `postgresql://postgres@${host}?sslmode=disable&password=${PASSWORD}`,
  ]
}

function expectNoPassword(text: string): void {
  expect(text).not.toContain(PASSWORD)
}

describe('postgres: a password in a database URL is never printed', () => {
  const unreachable = withPassword(new URL('postgres://127.0.0.1:1/aura'))

  it.each(unreachable)('library errors of an unreachable server: %#', async (url) => {
    // Opening is lazy: the first call connects.
    const db = await openDatabase({ url, postgres: { connectionTimeoutMs: 3000 } })
    try {
      const error = await db.migrate().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(Error)
      expectNoPassword(String(error))
      expectNoPassword(JSON.stringify(error))
      expectNoPassword(String((error as Error).stack))
    } finally {
      await db.close()
    }
  })

  it.each(unreachable)('command-line errors, human and --json: %#', async (url) => {
    const env = { AURA_PG_CONNECT_TIMEOUT_MS: '3000' }
    for (const command of [['status'], ['migrate'], ['verify'], ['backup'], ['backups'], ['seed']]) {
      for (const json of [[], ['--json']]) {
        const run = await runCli([...json, '--db', url, ...command], env)
        expect(run.code, `${command.join(' ')}: ${run.stderr}`).not.toBe(0)
        expectNoPassword(run.stdout + run.stderr)
      }
    }
  })
})

describe.skipIf(!postgres.available)('postgres: commands that succeed do not print the password', () => {
  const ctx = useMigratedDatabase(postgres)

  it('status, verify, backup and backups on a reachable server (trust auth ignores the password)', async () => {
    // Not the spelling without a user name: the server needs one.
    for (const url of withPassword(new URL(ctx.target.url)).filter((u) => !u.includes('//:'))) {
      for (const command of [
        ['status'],
        ['verify'],
        ['backup', '--dir', ctx.target.dir],
        ['backups', '--dir', ctx.target.dir],
      ]) {
        for (const json of [[], ['--json']]) {
          const run = await runCli([...json, '--db', url, ...command])
          expect(run.code, `${command.join(' ')}: ${run.stderr}`).toBe(0)
          expectNoPassword(run.stdout + run.stderr)
        }
      }
    }
  })
})
