import { execFile } from 'node:child_process'
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { dialects, type TestDatabase } from './dialects.js'
import {
  copyMigrations,
  domainTables,
  expectOneLineError,
  finished,
  INITIAL,
  ROOT,
  runCli,
  runCliJson,
  snapshot,
  startCli,
  withDatabase,
  type CliResult,
} from './cli-helpers.js'
import { expectSpecSchema } from './schema-spec.js'

const exec = promisify(execFile)

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex')
}

/** Asserts a successful run, showing its stderr when it was not. */
function expectSuccess(result: CliResult): void {
  expect(result.code, result.stderr).toBe(0)
}

/**
 * Writes a test migration after all of the package's: it creates `probe_<name>`, then writes its
 * pid to AURA_TEST_MARKER (when set) while inside its transaction, then waits AURA_TEST_SLEEP_MS.
 */
function probeMigration(dir: string, name: string): string {
  const table = `probe_${name.toLowerCase()}`
  writeFileSync(
    join(dir, `20990101000000_${name}.ts`),
    `import { writeFileSync } from 'node:fs'
import type { Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('${table}').addColumn('id', 'integer', (col) => col.primaryKey()).execute()
  if (process.env.AURA_TEST_MARKER) writeFileSync(process.env.AURA_TEST_MARKER, String(process.pid))
  const ms = Number(process.env.AURA_TEST_SLEEP_MS ?? 0)
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms))
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('${table}').execute()
}
`,
  )
  return `20990101000000_${name}`
}

async function waitForFile(path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} did not appear within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** The private copy of the migrations every test here uses, and its migration names. */
let migrations: string
let names: string[]
beforeAll(() => {
  migrations = copyMigrations()
  names = readdirSync(migrations)
    .filter((f) => /^\d{14}_\w+\.ts$/.test(f))
    .sort()
    .map((f) => f.slice(0, -3))
})
afterAll(() => rmSync(dirname(migrations), { recursive: true, force: true }))

describe('aura-db usage', () => {
  it('bad usage exits 2 with "error: …" on stderr and nothing on stdout', async () => {
    for (const args of [
      ['frobnicate'],
      ['migrate', '--frobnicate'],
      ['migrate', '--to', 'NoSuchMigration'],
      ['script', '--dialect', 'mysql'],
      ['add', 'addFoo'],
      ['add', 'Add-Foo'],
      ['add', '9Lives'],
    ]) {
      const result = await runCli(['--db', 'sqlite::memory:', '--migrations-dir', migrations, ...args])
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stdout, args.join(' ')).toBe('')
      expect(result.stderr, args.join(' ')).toMatch(/^error: /)
      expect(result.stderr, args.join(' ')).not.toMatch(/^\s+at /m)
    }
    expect(readdirSync(migrations).sort()).toEqual(names.map((n) => `${n}.ts`))
    expect((await runCli([])).code).toBe(2)
  })

  it('an unsupported URL: exit 2, one line on stderr, no stack trace and no password', async () => {
    const result = await runCli(['--db', 'mysql://root:hunter2@localhost/aura', 'status'])
    expect(result.code).toBe(2)
    expect(expectOneLineError(result.stderr)[0]).toContain('Unsupported database URL')
    expect(result.stderr).not.toContain('hunter2')
  })

  it('add creates a migration that type-checks with the strict compiler settings, and sorts last', async () => {
    const added = await runCliJson(['--migrations-dir', migrations, 'add', 'AddFoo', '--empty'])
    expectSuccess(added)
    try {
      expect(added.json.name).toMatch(/^\d{14}_AddFoo$/)
      expect(added.json.name > names.at(-1)!).toBe(true)
      expect(added.json.file).toBe(join(migrations, `${added.json.name}.ts`))
      const source = readFileSync(added.json.file, 'utf8')
      expect(source).toMatch(/^import type \{[^}]+\} from 'kysely'$/m)
      expect(source).not.toMatch(/^import (?!type)/m)
      expect(source).toMatch(/export async function up\(db: Kysely<any>, ctx: MigrationContext\)/)
      expect(source).toMatch(/export async function down\(db: Kysely<any>, ctx: MigrationContext\)/)
      // A file named on tsc's command line is compiled without tsconfig.json: the settings are given here.
      await exec(
        process.execPath,
        [
          join(ROOT, 'node_modules/typescript/bin/tsc'),
          ...['--noEmit', '--strict', '--noUncheckedIndexedAccess', '--verbatimModuleSyntax'],
          ...[
            '--module',
            'nodenext',
            '--moduleResolution',
            'nodenext',
            '--target',
            'es2022',
            '--types',
            'node',
          ],
          added.json.file,
        ],
        { cwd: migrations },
      )
    } finally {
      rmSync(added.json.file, { force: true })
    }
  })
})

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: aura-db migration commands`, () => {
    let target: TestDatabase
    /** `--db URL --migrations-dir DIR` of this test. */
    let db: string[]
    /** Migration files a test added to the shared copy; removed after it. */
    const extra: string[] = []

    beforeEach(async () => {
      target = await d.create()
      db = ['--db', target.url, '--migrations-dir', migrations]
    })
    afterEach(async () => {
      for (const name of extra.splice(0)) rmSync(join(migrations, `${name}.ts`), { force: true })
      await target.drop()
    })

    const status = () => withDatabase(target.url, migrations, (handle) => handle.status())

    it('migrate, then status --json: every migration applied, none pending; InitialCreate made the schema of schema.md', async () => {
      const initial = await runCliJson([...db, 'migrate', '--to', 'InitialCreate'])
      expectSuccess(initial)
      expect(initial.json).toEqual({
        results: [
          { name: INITIAL, set: 'aura-data', direction: 'up', status: 'success', ms: expect.any(Number) },
        ],
        backup: null,
      })
      expectSpecSchema(domainTables(await snapshot(target.url)), d.name)

      const rest = await runCliJson([...db, 'migrate'])
      expectSuccess(rest)
      expect(rest.json.results.map((r: any) => [r.name, r.status])).toEqual(
        names.slice(1).map((n) => [n, 'success']),
      )

      const json = await runCliJson([...db, 'status'])
      expectSuccess(json)
      expect(json.json).toEqual({
        dialect: d.name,
        database: expect.any(String),
        current: names.at(-1),
        applied: names.map((name) => ({
          name,
          set: 'aura-data',
          appliedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
          checksum: sha256(join(migrations, `${name}.ts`)),
          executionMs: expect.any(Number),
        })),
        pending: [],
        drift: [],
        // The copy holds the package's first migration: a whole history, the one set `aura-data`.
        sets: [
          { name: 'aura-data', dir: migrations, current: names.at(-1), applied: names.length, pending: [] },
        ],
        // `aura-db check`'s verdict on the same migrations.
        definitions: { ok: true, migrations: names.length, dialects: ['sqlite'], differences: [] },
      })

      const list = await runCliJson([...db, 'list'])
      expectSuccess(list)
      expect(list.json).toEqual({
        migrations: names.map((name) => ({
          name,
          set: 'aura-data',
          state: 'applied',
          appliedAt: expect.any(String),
          checksum: 'ok',
        })),
      })

      const human = await runCli([...db, 'list'])
      const lines = human.stdout.trimEnd().split('\n')
      expect(lines[0]).toMatch(/^migration +set +state +applied at +checksum$/)
      expect(lines.slice(1).map((l) => l.split(/ {2,}/))).toEqual(
        names.map((n) => [n, 'aura-data', 'applied', expect.stringMatching(/^\d{4}-/), 'ok']),
      )
      // Aligned: every row's state starts under the header's "state".
      expect(new Set(lines.map((l) => l.search(/ (state|applied) /)))).toHaveLength(1)
    })

    it('migrate --dry-run prints the SQL and changes nothing', async () => {
      const before = await snapshot(target.url)
      const human = await runCli([...db, 'migrate', '--dry-run'])
      expectSuccess(human)
      expect(human.stdout).toMatch(/^create table "project_states" \(/im)
      const json = await runCliJson([...db, 'migrate', '--dry-run'])
      expect(json.json.results).toEqual(
        names.map((name) => ({ name, set: 'aura-data', direction: 'up', status: 'not-executed', ms: 0 })),
      )
      expect(json.json.sql.map((s: any) => s.name)).toEqual(names)
      expect(await snapshot(target.url)).toEqual(before)
      expect((await status()).pending).toEqual(names)
    })

    it('rollback asks unless --yes; rollback to 0 and migrate again gives the same schema', async () => {
      expectSuccess(await runCli([...db, 'migrate']))
      const migrated = await snapshot(target.url)

      const unasked = await runCli([...db, 'rollback', '0'])
      expect(unasked.code).toBe(2)
      expect(expectOneLineError(unasked.stderr)[0]).toContain('pass --yes')
      const unknown = await runCli([...db, '--yes', 'rollback', 'NotApplied'])
      expect(unknown.code).toBe(2)
      expectOneLineError(unknown.stderr)
      expect(await snapshot(target.url)).toEqual(migrated)

      const last = await runCliJson([...db, '--yes', 'rollback'])
      expectSuccess(last)
      expect(last.json.results).toEqual([
        {
          name: names.at(-1),
          set: 'aura-data',
          direction: 'down',
          status: 'success',
          ms: expect.any(Number),
        },
      ])
      const all = await runCliJson([...db, '--yes', 'rollback', '0'])
      expectSuccess(all)
      expect(all.json.results.map((r: any) => r.name)).toEqual(names.slice(0, -1).reverse())
      expect(domainTables(await snapshot(target.url)).tables).toEqual([])
      expect((await status()).current).toBeNull()

      expectSuccess(await runCli([...db, 'migrate']))
      expect(await snapshot(target.url)).toEqual(migrated)
    })

    it('an edited applied migration: status exits 3 naming the file and both checksums; migrate and verify refuse', async () => {
      const mine = copyMigrations()
      try {
        const own = ['--db', target.url, '--migrations-dir', mine]
        expectSuccess(await runCli([...own, 'migrate', '--to', INITIAL]))
        const file = join(mine, `${INITIAL}.ts`)
        const recorded = sha256(file)
        appendFileSync(file, '\n// edited after it was applied\n')
        const now = sha256(file)
        const schema = await snapshot(target.url)

        const json = await runCliJson([...own, 'status'])
        expect(json.code).toBe(3)
        expect(json.json.drift).toEqual([
          { name: INITIAL, set: 'aura-data', problem: 'changed', expected: recorded, actual: now },
        ])
        const [line] = expectOneLineError(json.stderr)
        expect(line).toContain(`${INITIAL}.ts`)
        expect(line).toContain(recorded)
        expect(line).toContain(now)

        const migrate = await runCli([...own, 'migrate'])
        expect(migrate.code).toBe(3)
        expect(expectOneLineError(migrate.stderr)[0]).toContain(`Refusing to migrate: ${INITIAL}.ts changed`)
        expect(await snapshot(target.url)).toEqual(schema)

        const verify = await runCliJson([...own, 'verify'])
        expect(verify.code).toBe(3)
        expect(verify.json.ok).toBe(false)
        expect(verify.json.checks.find((c: any) => c.name === 'migration checksums')).toMatchObject({
          ok: false,
        })
      } finally {
        rmSync(dirname(mine), { recursive: true, force: true })
      }
    })

    it('a migration that fails at its last statement leaves schema and history at the previous migration', async () => {
      const failing = '20990101000000_AddFailing'
      extra.push(failing)
      writeFileSync(
        join(migrations, `${failing}.ts`),
        `import type { Kysely, sql as SqlTag } from 'kysely'

export async function up(db: Kysely<any>, ctx: { sql: typeof SqlTag }): Promise<void> {
  await db.schema.createTable('failing_probe').addColumn('id', 'integer', (col) => col.primaryKey()).execute()
  await db.updateTable('system_configuration').set({ ffmpeg_path: '/changed/by/failing' }).execute()
  await ctx.sql\`select * from no_such_table_anywhere\`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('failing_probe').execute()
}
`,
      )
      const run = await runCliJson([...db, 'migrate'])
      expect(run.code).toBe(1)
      expect(run.json.results).toEqual([
        ...names.map((name) => ({
          name,
          set: 'aura-data',
          direction: 'up',
          status: 'success',
          ms: expect.any(Number),
        })),
        { name: failing, set: 'aura-data', direction: 'up', status: 'error', ms: expect.any(Number) },
      ])
      expect(expectOneLineError(run.stderr)[0]).toContain(
        `Migration ${failing} (up) failed and was rolled back`,
      )

      const after = await status()
      expect(after.current).toBe(names.at(-1))
      expect(after.pending).toEqual([failing])
      const live = await snapshot(target.url)
      expect(live.tables.map((t) => t.name)).not.toContain('failing_probe')
      const straight = await d.create()
      try {
        await withDatabase(straight.url, migrations, (handle) => handle.migrate({ to: names.at(-1)! }))
        expect(live).toEqual(await snapshot(straight.url))
      } finally {
        await straight.drop()
      }
      const row = await withDatabase(target.url, migrations, (handle) =>
        handle.dialect.kysely.selectFrom('system_configuration').select('ffmpeg_path').executeTakeFirst(),
      )
      expect(row).toEqual({ ffmpeg_path: null })
    })

    it('two migrate processes started together: each migration applied exactly once, both exit 0', async () => {
      const probe = probeMigration(migrations, 'SlowProbe')
      extra.push(probe)
      // The last migration sleeps inside its transaction, so the runners certainly overlap.
      const env = { AURA_TEST_SLEEP_MS: '1500' }
      const [a, b] = await Promise.all([
        finished(startCli(['--json', ...db, 'migrate'], env)),
        finished(startCli(['--json', ...db, 'migrate'], env)),
      ])
      expect([a.code, b.code, a.stderr + b.stderr]).toEqual([0, 0, ''])
      const results = [...JSON.parse(a.stdout).results, ...JSON.parse(b.stdout).results]
      expect(results.map((r: any) => [r.name, r.status]).sort()).toEqual(
        [...names, probe].map((n) => [n, 'success']),
      )
      const after = await status()
      expect(after.applied.map((m) => m.name)).toEqual([...names, probe])
      expect(after.pending).toEqual([])
    })

    it('a migrate process killed with SIGKILL inside a migration: the next migrate finishes without manual unlocking', async () => {
      await withDatabase(target.url, migrations, (handle) => handle.migrate())
      const probe = probeMigration(migrations, 'KillProbe')
      extra.push(probe)
      const marker = join(target.dir, 'inside-migration')
      const child = startCli([...db, 'migrate'], { AURA_TEST_MARKER: marker, AURA_TEST_SLEEP_MS: '120000' })
      const done = finished(child)
      await waitForFile(marker, 30_000)
      child.kill('SIGKILL')
      expect((await done).signal).toBe('SIGKILL')

      const after = await status()
      expect(after.current).toBe(names.at(-1))
      expect(after.pending).toEqual([probe])
      expect((await snapshot(target.url)).tables.map((t) => t.name)).not.toContain('probe_killprobe')

      // The SQLite lock row would expire only after 10 minutes: finishing fast means the dead holder was seen.
      const started = Date.now()
      const again = await runCliJson([...db, 'migrate'])
      expectSuccess(again)
      expect(again.json.results).toEqual([
        { name: probe, set: 'aura-data', direction: 'up', status: 'success', ms: expect.any(Number) },
      ])
      expect(Date.now() - started).toBeLessThan(30_000)
      expect((await snapshot(target.url)).tables.map((t) => t.name)).toContain('probe_killprobe')
    })

    it('remove deletes the newest migration when it is not applied, and refuses when it is', async () => {
      const probe = probeMigration(migrations, 'RemoveProbe')
      extra.push(probe)
      await withDatabase(target.url, migrations, (handle) => handle.migrate({ to: names.at(-1)! }))
      const removed = await runCliJson([...db, 'remove'])
      expectSuccess(removed)
      expect(removed.json).toEqual({
        removed: probe,
        set: 'aura-data',
        file: join(migrations, `${probe}.ts`),
      })
      expect(existsSync(join(migrations, `${probe}.ts`))).toBe(false)

      const refused = await runCli([...db, 'remove'])
      expect(refused.code).toBe(1)
      expect(expectOneLineError(refused.stderr)[0]).toContain(`Refusing to remove ${names.at(-1)}`)
      expect(existsSync(join(migrations, `${names.at(-1)}.ts`))).toBe(true)
    })

    it('a database that cannot be used: exit 1, one line and no password on stderr; AURA_DEBUG=1 adds the stack', async () => {
      const text = join(target.dir, 'text.db')
      // Per dialect: a file that is not SQLite (it must stay untouched); a server nobody listens on.
      const bad = {
        sqlite: () => {
          writeFileSync(text, 'certainly not SQLite\n'.repeat(20))
          const before = readFileSync(text)
          return {
            url: `sqlite:${text}`,
            message: 'is not a SQLite database',
            untouched: () => expect(readFileSync(text)).toEqual(before),
          }
        },
        postgres: () => ({
          url: 'postgres://aura:s3cret@127.0.0.1:1/aura',
          message: 'Cannot reach the database server',
          untouched: () => expect(existsSync(text)).toBe(false),
        }),
      }[d.name]()
      const result = await runCli(['--db', bad.url, '--migrations-dir', migrations, 'migrate'])
      expect(result.code).toBe(1)
      expect(expectOneLineError(result.stderr)[0]).toContain(bad.message)
      expect(result.stderr).not.toContain('s3cret')
      bad.untouched()
      const debug = await runCli(['--db', bad.url, '--migrations-dir', migrations, 'migrate'], {
        AURA_DEBUG: '1',
      })
      expect(debug.code).toBe(1)
      expect(debug.stderr).toMatch(/^\s+at /m)
    })
  })

  describe.skipIf(!d.available)(`${d.label}: aura-db script`, () => {
    let scripted: TestDatabase
    let migrated: TestDatabase

    beforeEach(async () => {
      scripted = await d.create()
      migrated = await d.create()
    })
    afterEach(async () => {
      await scripted.drop()
      await migrated.drop()
    })

    /** Runs a script the way a DBA would: `sqlite3 file < script` or `psql -f script`. */
    async function runScript(file: string): Promise<void> {
      const script = join(scripted.dir, file)
      if (d.name === 'sqlite')
        await exec('sh', ['-c', 'sqlite3 -bail "$1" < "$2"', 'sh', scripted.file!, script])
      else await exec('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', scripted.url, '-f', script])
    }

    const scriptCli = (...args: string[]) =>
      runCliJson(['--migrations-dir', migrations, 'script', ...args, '--dialect', d.name])

    it(`script --dialect ${d.name} run by ${d.name === 'sqlite' ? 'sqlite3' : 'psql'} on an empty database gives the schema of migrate; the down script empties it`, async () => {
      const up = await scriptCli(join(scripted.dir, 'up.sql'))
      expectSuccess(up)
      expect(up.json).toEqual({
        file: join(scripted.dir, 'up.sql'),
        dialect: d.name,
        direction: 'up',
        migrations: names,
        steps: names.map((name) => ({ name, set: 'aura-data' })),
      })
      const stdout = await runCli(['--migrations-dir', migrations, 'script', '--dialect', d.name])
      expect(stdout.stdout).toBe(readFileSync(join(scripted.dir, 'up.sql'), 'utf8'))

      await runScript('up.sql')
      await withDatabase(migrated.url, migrations, (handle) => handle.migrate())
      expect(await snapshot(scripted.url)).toEqual(await snapshot(migrated.url))
      const after = await withDatabase(scripted.url, migrations, (handle) => handle.status())
      expect(after).toMatchObject({ current: names.at(-1), pending: [], drift: [] })

      const down = await scriptCli(join(scripted.dir, 'down.sql'), '--from', names.at(-1)!, '--to', '0')
      expect(down.json).toMatchObject({ direction: 'down', migrations: [...names].reverse() })
      await runScript('down.sql')
      expect(domainTables(await snapshot(scripted.url)).tables).toEqual([])
      expect((await withDatabase(scripted.url, migrations, (handle) => handle.status())).pending).toEqual(
        names,
      )
    })

    it('script --to / --from split the migrations; run one after the other they give the schema of migrate', async () => {
      const first = await scriptCli(join(scripted.dir, 'first.sql'), '--to', INITIAL)
      expect(first.json).toMatchObject({ direction: 'up', migrations: [INITIAL] })
      const rest = await scriptCli(join(scripted.dir, 'rest.sql'), '--from', 'InitialCreate')
      expect(rest.json).toMatchObject({ direction: 'up', migrations: names.slice(1) })
      await runScript('first.sql')
      await runScript('rest.sql')
      await withDatabase(migrated.url, migrations, (handle) => handle.migrate())
      expect(await snapshot(scripted.url)).toEqual(await snapshot(migrated.url))
    })

    // SQLite has no procedural blocks to guard statements with: its script must run exactly once, and says so.
    it.skipIf(d.name !== 'postgres')(
      'the PostgreSQL script is idempotent: a second run changes nothing',
      async () => {
        expectSuccess(await scriptCli(join(scripted.dir, 'up.sql')))
        await runScript('up.sql')
        const once = await snapshot(scripted.url)
        const history = await withDatabase(scripted.url, migrations, (handle) => handle.migrator.history())
        await runScript('up.sql')
        expect(await snapshot(scripted.url)).toEqual(once)
        expect(await withDatabase(scripted.url, migrations, (handle) => handle.migrator.history())).toEqual(
          history,
        )
      },
    )
  })
}
