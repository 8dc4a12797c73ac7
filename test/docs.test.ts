import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { exitCodeFor } from '../src/cli/exit-codes.js'
import * as errors from '../src/errors.js'
import { expectOneLineError, ROOT, runCli, runCliJson } from './cli-helpers.js'
import { postgres, POSTGRES_URL } from './dialects.js'

const GENERATED = ['schema.md', 'er-diagram.md'] as const

const dirs: string[] = []
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aura-docs-'))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

// The reference has a PostgreSQL column, so it can only be generated with a server; without one
// this half is skipped like every PostgreSQL test (and fails under AURA_REQUIRE_POSTGRES=1).
describe.skipIf(!postgres.available)('docs: generated from the migrated schema', () => {
  it('the committed docs/schema.md and docs/er-diagram.md are exactly what `aura-db docs` generates', async () => {
    const out = tempDir()
    const run = await runCliJson(['docs', '--out', out, '--postgres', POSTGRES_URL])
    expect(run.code, run.stderr).toBe(0)
    expect(run.json.files).toEqual(GENERATED.map((name) => ({ file: join(out, name), status: 'created' })))
    for (const name of GENERATED) {
      expect(
        readFileSync(join(ROOT, 'docs', name), 'utf8'),
        `docs/${name} is stale: run \`npm run docs -- --postgres ${POSTGRES_URL}\` and commit it`,
      ).toBe(readFileSync(join(out, name), 'utf8'))
    }
  })

  it('is deterministic, and --check exits 3 naming the file that differs without writing', async () => {
    const out = tempDir()
    expect((await runCli(['docs', '--out', out, '--postgres', POSTGRES_URL])).code).toBe(0)
    const again = await runCliJson(['docs', '--out', out, '--postgres', POSTGRES_URL])
    expect(again.json.files.map((f: { status: string }) => f.status)).toEqual(['unchanged', 'unchanged'])

    const schema = join(out, 'schema.md')
    writeFileSync(schema, readFileSync(schema, 'utf8').replace('| no |', '| yes |'))
    const check = await runCli(['docs', '--check', '--out', out, '--postgres', POSTGRES_URL])
    expect(check.code).toBe(3)
    expect(expectOneLineError(check.stderr)[0]).toMatch(/out of date: .*schema\.md \(stale\)/)
    expect(readFileSync(schema, 'utf8')).toContain('| yes |')
  })
})

describe('docs: without PostgreSQL', () => {
  it('refuses with a usage error (exit 2) that says how to give a server, and writes nothing', async () => {
    const dir = tempDir()
    const out = join(dir, 'docs')
    const run = await runCli(['--db', `sqlite:${join(dir, 'aura.db')}`, 'docs', '--out', out])
    expect(run.code).toBe(2)
    expect(expectOneLineError(run.stderr)[0]).toContain('--postgres postgres://')
    expect(existsSync(out)).toBe(false)

    const notPostgres = await runCli(['docs', '--out', out, '--postgres', 'sqlite::memory:'])
    expect(notPostgres.code).toBe(2)
    expect(expectOneLineError(notPostgres.stderr)[0]).toContain('is not a PostgreSQL URL')
  })
})

/** Every error class of src/errors.ts, with an instance to read its code and retryability from. */
function errorClasses(): { name: string; error: errors.AuraDataError }[] {
  return Object.entries(errors)
    .filter(([, value]) => typeof value === 'function' && value.prototype instanceof errors.AuraDataError)
    .map(([name, Class]) => ({
      name,
      // Every constructor takes a message (or table and id) first; the second argument is ignored or a constraint kind.
      error: new (Class as new (...args: unknown[]) => errors.AuraDataError)('x', 'unique'),
    }))
    .sort((a, b) => a.error.code.localeCompare(b.error.code))
}

describe('docs/errors.md', () => {
  const text = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8')

  it('src/errors.ts has exactly one error class per code of ERROR_CODES', () => {
    expect(errorClasses().map((c) => c.error.code)).toEqual([...errors.ERROR_CODES].sort())
  })

  it('has one section per error code, naming its class: no code missing, none extra', () => {
    const sections = [...text.matchAll(/^## `(\w+)` · `(\w+)`\s*$/gm)].map((m) => [m[1], m[2]])
    expect(sections.sort()).toEqual(errorClasses().map((c) => [c.error.code, c.name]))
  })

  it('its summary table gives each code its class, retryability and CLI exit code as the code does', () => {
    const rows = [
      ...text.matchAll(/^\|\s*`(AURA_\w+)`\s*\|\s*`(\w+)`\s*\|\s*(yes|no)\s*\|\s*(\d)\s*\|/gm),
    ].map((m) => [m[1], m[2], m[3], Number(m[4])])
    expect(rows.sort()).toEqual(
      errorClasses().map((c) => [
        c.error.code,
        c.name,
        c.error.retryable ? 'yes' : 'no',
        exitCodeFor(c.error),
      ]),
    )
  })
})
