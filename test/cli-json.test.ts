/**
 * The `--json` contract (docs/errors.md, "Command line"): every command, in a success and a
 * failure case, prints exactly one JSON document on stdout — its report, or
 * `{ "error": { "code", "message", "hint" } }` — and exits with the documented code.
 */
import { readdirSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { copyMigrations, finished, runCli, startCli, type CliResult } from './cli-helpers.js'
import { dialects, type TestDatabase } from './dialects.js'

/** stdout parsed as one JSON document (JSON.parse refuses two, or trailing text). */
function document(result: CliResult): any {
  try {
    return JSON.parse(result.stdout)
  } catch {
    throw new Error(
      `stdout is not one JSON document (exit ${result.code}):\n${result.stdout}\n${result.stderr}`,
    )
  }
}

// Each case runs the CLI a dozen times; on a loaded machine one run takes seconds.
vi.setConfig({ testTimeout: 300_000 })

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: every command with --json`, () => {
    let target: TestDatabase
    let migrations: string
    /** A database that does not exist: a file never created, or a PostgreSQL database never created. */
    let missing: string
    let common: string[]

    const json = async (args: readonly string[]) => {
      const result = await runCli(['--json', ...common, ...args])
      return { result, doc: document(result) }
    }
    const succeeds = async (args: readonly string[]) => {
      const { result, doc } = await json(args)
      expect(result.code, result.stderr).toBe(0)
      expect(doc.error).toBeUndefined()
      return doc
    }
    const fails = async (args: readonly string[], code: string, exit: number, db?: string) => {
      const result = await runCli([
        '--json',
        '--db',
        db ?? target.url,
        '--migrations-dir',
        migrations,
        ...args,
      ])
      const doc = document(result)
      expect({ exit: result.code, code: doc.error?.code }, result.stderr).toEqual({ exit, code })
      expect(typeof doc.error.message).toBe('string')
      expect(doc.error).toHaveProperty('hint')
      return doc
    }

    beforeAll(async () => {
      target = await d.create()
      migrations = copyMigrations()
      common = ['--db', target.url, '--migrations-dir', migrations]
      missing =
        d.name === 'sqlite'
          ? `sqlite:${join(target.dir, 'never-created.db')}`
          : target.url.replace(/\/([^/]+)$/, '/$1_never_created')
    })
    afterAll(async () => {
      rmSync(dirname(migrations), { recursive: true, force: true })
      await target?.drop()
    })

    it('a missing database is the same usage error (exit 2) on both dialects', async () => {
      for (const command of ['status', 'list', 'verify', 'seed'])
        await fails([command], 'AURA_USAGE', 2, missing)
    })

    it('init, status, list, verify, seed', async () => {
      const init = await succeeds(['init', '--no-seed'])
      expect(init.seed).toBeNull()
      await fails(['init', '--profile', 'staging'], 'AURA_USAGE', 2)
      expect((await succeeds(['status'])).pending).toEqual([])
      expect((await succeeds(['list'])).migrations.length).toBeGreaterThan(0)
      expect((await succeeds(['verify'])).checks.length).toBeGreaterThan(0)
      const seed = await succeeds(['seed', '--profile', 'production'])
      expect(seed.inserted.configurations).toBeGreaterThan(0)
      expect(seed.inserted.project_states).toBe(0)
    })

    it('migrate, rollback, add, remove, script', async () => {
      expect((await succeeds(['migrate'])).results).toEqual([])
      await fails(['migrate', '--to', 'NoSuchMigration'], 'AURA_USAGE', 2)
      const rollback = await succeeds(['--yes', 'rollback'])
      expect(rollback.results).toHaveLength(1)
      // Not a terminal and no --yes: the question cannot be asked.
      await fails(['rollback'], 'AURA_USAGE', 2)
      expect((await succeeds(['migrate'])).results).toHaveLength(1)

      const added = await succeeds(['add', 'AddTags', '--empty'])
      expect(readdirSync(migrations)).toContain(`${added.name}.ts`)
      await fails(['add', 'not a name'], 'AURA_USAGE', 2)
      expect((await succeeds(['remove'])).removed).toBe(added.name)
      // The newest migration is applied now: remove refuses.
      await fails(['remove'], 'AURA_MIGRATION', 1)

      const script = await succeeds(['script'])
      expect(script.sql).toContain('CREATE TABLE')
      await fails(['script', '--from', 'NoSuchMigration'], 'AURA_USAGE', 2)
    })

    it('backup, backups, restore', async () => {
      // Not the default directory: migrate and rollback have put their backups there.
      const dir = join(target.dir, 'json-backups')
      const backup = await succeeds(['backup', '--dir', dir])
      await fails(['backup', '--keep', '0'], 'AURA_VALIDATION', 2)
      const backups = await succeeds(['backups', '--dir', dir])
      expect(backups.backups.map((b: { kind: string }) => b.kind)).toEqual(['regular'])
      await fails(['backups'], 'AURA_USAGE', 2, 'mysql://nowhere')
      const restore = await succeeds(['--yes', 'restore', backup.file, '--dir', dir])
      expect(restore.restored).toBe(backup.file)
      await fails(['--yes', 'restore', 'no-such-backup.db', '--dir', dir], 'AURA_BACKUP', 1)
    })

    it('docs and studio', async () => {
      const docs = await succeeds([
        'docs',
        '--out',
        join(target.dir, 'docs'),
        '--postgres',
        process.env.AURA_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test',
      ])
      expect(docs.files.length).toBe(2)
      await fails(['docs', '--out', join(target.dir, 'docs')], 'AURA_USAGE', 2, 'sqlite::memory:')

      const studio = startCli(['--json', ...common, 'studio'])
      let stdout = ''
      await new Promise<void>((resolve) =>
        studio.stdout!.on('data', (chunk: Buffer) => {
          stdout += chunk.toString()
          if (stdout.trimEnd().endsWith('}')) resolve()
        }),
      )
      studio.kill('SIGTERM')
      const ran = await finished(studio)
      expect(ran.code).toBe(0)
      expect(document({ ...ran, stdout }).url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//)
      await fails(['studio', '--port', '70000'], 'AURA_USAGE', 2)
    })
  })
}

describe('a command line commander refuses, with --json', () => {
  it('is one JSON error document on stdout, exit 2', async () => {
    const result = await runCli(['--json', 'status', '--no-such-option'])
    expect(result.code).toBe(2)
    expect(document(result).error).toMatchObject({ code: 'AURA_USAGE' })
    const unknown = await runCli(['--json', 'no-such-command'])
    expect(unknown.code).toBe(2)
    expect(document(unknown).error.code).toBe('AURA_USAGE')
  })

  it('an in-memory database is refused by backup, as docs/errors.md says', async () => {
    const result = await runCli(['--json', '--db', 'sqlite::memory:', 'backup'])
    expect({ code: result.code, error: document(result).error.code }).toEqual({
      code: 1,
      error: 'AURA_BACKUP',
    })
  })

  it('a bare path as --db suggests the sqlite: URL', async () => {
    const result = await runCli(['--json', '--db', './aura.db', 'status'])
    expect(result.code).toBe(2)
    expect(document(result).error.message).toContain('Did you mean sqlite:./aura.db?')
  })
})
