/**
 * The package as a user gets it: `npm pack`, installed from the tarball into an empty project
 * (ONE install, shared by every check below: better-sqlite3 may have to build, which takes
 * minutes on a loaded machine), then used from
 * ESM, CommonJS and TypeScript, with no TypeScript loader installed; last, as an application
 * with its own migrations and columns (which adds tsx to the same install).
 */
import { createHash } from 'node:crypto'
import { execFile, execFileSync, spawnSync } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { typescriptBlocks } from './doc-examples.js'

const ROOT = join(import.meta.dirname, '..')
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm'
/** For the long runs: a synchronous one would starve vitest's worker RPC for minutes. */
const execFileAsync = promisify(execFile)

let project: string
let pkg: string

/** Runs a program in the consumer project; returns its output, failing the test on a non-zero exit. */
function run(command: string, args: readonly string[], env: Record<string, string> = {}): string {
  return execFileSync(command, args, {
    cwd: project,
    encoding: 'utf8',
    env: { ...process.env, AURA_DATABASE_URL: '', AURA_MIGRATIONS_DIR: '', NO_COLOR: '1', ...env },
  })
}

/** The installed `aura-db` bin, run with node. */
function cli(args: readonly string[]) {
  return spawnSync(process.execPath, [join(pkg, 'bin', 'aura-db.js'), ...args], {
    cwd: project,
    encoding: 'utf8',
    env: { ...process.env, AURA_DATABASE_URL: '', AURA_MIGRATIONS_DIR: '', NO_COLOR: '1' },
  })
}

const USE = `
  const db = await openDatabase({ url: 'sqlite::memory:', migrate: true })
  const project = await db.projectStates.add({ title: 'From the tarball' })
  const read = await db.projectStates.getById(project.id)
  console.log(JSON.stringify({ title: read.title, usage: ERROR_CODES.includes('AURA_USAGE') }))
  await db.close()
`

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'aura-package-'))
  const packed = JSON.parse(
    execFileSync(NPM, ['pack', '--json', '--ignore-scripts', '--pack-destination', project], {
      cwd: ROOT,
      encoding: 'utf8',
    }),
  ) as { filename: string }[]
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }))
  // typescript@latest joins the same install: the newest compiler checks our declarations too.
  // Install scripts are skipped: the only one that matters is better-sqlite3's native build, which
  // compiles SQLite from source here (no prebuilt binaries are reachable) for about two minutes of
  // both cores. When npm resolved the version this checkout already built for this Node, its addon
  // is the same file, so it is copied; any other version is built as a user's install would.
  await execFileAsync(
    NPM,
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      join(project, packed[0]!.filename),
      'typescript@latest',
    ],
    { cwd: project },
  )
  await provideNativeAddon(join(project, 'node_modules', 'better-sqlite3'))
  pkg = join(project, 'node_modules', 'aura-data')
})

/** better-sqlite3's compiled addon in the consumer's install: copied when the versions match, else built. */
async function provideNativeAddon(installed: string): Promise<void> {
  const ours = join(ROOT, 'node_modules', 'better-sqlite3')
  const version = (dir: string) =>
    (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version
  const addon = join('build', 'Release', 'better_sqlite3.node')
  if (version(installed) === version(ours) && existsSync(join(ours, addon))) {
    mkdirSync(join(installed, 'build', 'Release'), { recursive: true })
    copyFileSync(join(ours, addon), join(installed, addon))
  } else {
    await execFileAsync(NPM, ['rebuild', 'better-sqlite3'], { cwd: project })
  }
}

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true })
})

describe('the packed tarball', () => {
  it('works from ESM (import)', () => {
    writeFileSync(join(project, 'use.mjs'), `import { openDatabase, ERROR_CODES } from 'aura-data'\n${USE}`)
    expect(JSON.parse(run(process.execPath, ['use.mjs']))).toEqual({ title: 'From the tarball', usage: true })
  })

  it('works from CommonJS (require), with the same error classes as the ESM entry exports', () => {
    writeFileSync(
      join(project, 'use.cjs'),
      `const { openDatabase, ERROR_CODES, UsageError, AuraDataError } = require('aura-data')
      ;(async () => {
        ${USE}
        const refused = await openDatabase({ url: 'nonsense' }).catch((e) => e)
        if (!(refused instanceof UsageError) || !(refused instanceof AuraDataError)) throw refused
      })().catch((e) => { console.error(e); process.exit(1) })`,
    )
    expect(JSON.parse(run(process.execPath, ['use.cjs']))).toEqual({ title: 'From the tarball', usage: true })
  })

  it('type-checks for a TypeScript consumer (ESM and CommonJS) on the pinned and the newest TypeScript, without "types": ["node"]', async () => {
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
        },
        files: ['use.mts', 'use.cts'],
      }),
    )
    const body = `
      export async function main(): Promise<string> {
        const db: AuraDatabase = await openDatabase({ url: 'sqlite::memory:', migrate: true })
        const project = await db.projectStates.add({ title: 'Typed' })
        const status: MigrationStatus = await db.migrator.status()
        await db.close()
        return project.title + status.applied.length
      }`
    writeFileSync(
      join(project, 'use.mts'),
      `import { openDatabase, type AuraDatabase, type MigrationStatus } from 'aura-data'\n${body}`,
    )
    writeFileSync(
      join(project, 'use.cts'),
      `import { openDatabase, type AuraDatabase, type MigrationStatus } from 'aura-data'\n${body}`,
    )
    const pinned = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
    const newest = join(project, 'node_modules', 'typescript', 'bin', 'tsc')
    const pinnedVersion = JSON.parse(readFileSync(join(ROOT, 'node_modules/typescript/package.json'), 'utf8'))
    const newestVersion = JSON.parse(
      readFileSync(join(project, 'node_modules/typescript/package.json'), 'utf8'),
    )
    expect(newestVersion.version).not.toBe(pinnedVersion.version)
    for (const tsc of [pinned, newest]) {
      const result = await execFileAsync(process.execPath, [tsc, '-p', 'tsconfig.json'], {
        cwd: project,
      }).then(
        ({ stdout, stderr }) => ({ output: stdout + stderr, status: 0 }),
        (error: { stdout: string; stderr: string; code: number }) => ({
          output: error.stdout + error.stderr,
          status: error.code,
        }),
      )
      expect({ tsc, ...result }).toEqual({ tsc, output: '', status: 0 })
    }
  })

  it('installs no TypeScript loader, and migrates with the compiled migrations, storing the checksums main stored', () => {
    const ls = spawnSync(NPM, ['ls', 'tsx', '--all'], { cwd: project, encoding: 'utf8' })
    expect(ls.stdout).not.toContain('tsx@')
    expect(existsSync(join(project, 'node_modules', 'tsx'))).toBe(false)

    const migrate = cli(['--json', '--db', 'sqlite:./app.db', 'migrate'])
    expect(migrate.stderr).toBe('')
    expect(migrate.status).toBe(0)
    const fixture = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/applied-migrations.json'), 'utf8')) as {
      migrations: { name: string; checksum: string }[]
    }
    const list = JSON.parse(cli(['--json', '--db', 'sqlite:./app.db', 'list']).stdout) as {
      migrations: { name: string; checksum: string }[]
    }
    // Later migrations (added after the fixture was recorded) are there too; these must be ok.
    const recorded = new Set(fixture.migrations.map((m) => m.name))
    expect(list.migrations.filter((m) => recorded.has(m.name)).map((m) => [m.name, m.checksum])).toEqual(
      fixture.migrations.map((m) => [m.name, 'ok']),
    )
    expect(list.migrations.every((m) => m.checksum === 'ok')).toBe(true)
    // The history rows a database migrated before this change holds: no drift against them.
    const rows = run(process.execPath, [
      '-e',
      `const D = require('better-sqlite3'); console.log(JSON.stringify(new D('app.db').prepare('SELECT name, checksum FROM aura_migrations ORDER BY name').all()))`,
    ])
    expect((JSON.parse(rows) as { name: string }[]).filter((r) => recorded.has(r.name))).toEqual(
      fixture.migrations,
    )
  })

  it('names `npm i -D tsx` when an application authors a TypeScript migration without tsx', () => {
    mkdirSync(join(project, 'own-migrations'))
    // `--empty`: the definitions match the package's migrations, so there is nothing to generate.
    expect(cli(['--migrations-dir', 'own-migrations', 'add', 'AddTags', '--empty']).status).toBe(0)
    const migrate = cli([
      '--json',
      '--db',
      'sqlite:./own.db',
      '--migrations-dir',
      'own-migrations',
      'migrate',
    ])
    expect(migrate.status).toBe(1)
    expect(`${migrate.stdout}${migrate.stderr}`).toContain('npm i -D tsx')
  })

  it('runs an application migration shipped compiled (.mjs) without tsx, recorded in the app set', () => {
    expect(existsSync(join(project, 'node_modules', 'tsx'))).toBe(false)
    mkdirSync(join(project, 'compiled-migrations'))
    writeFileSync(
      join(project, 'compiled-migrations', '20991201000000_AddNotes.mjs'),
      `export async function up(db) {
        await db.schema.createTable('app_notes').addColumn('id', 'integer', (c) => c.primaryKey()).execute()
      }
      export async function down(db) {
        await db.schema.dropTable('app_notes').execute()
      }\n`,
    )
    const own = ['--db', 'sqlite:./compiled.db', '--migrations-dir', 'compiled-migrations']
    const migrate = cli(['--json', ...own, 'migrate'])
    expect(migrate.stderr).toBe('')
    expect(migrate.status).toBe(0)
    const list = JSON.parse(cli(['--json', ...own, 'list']).stdout) as {
      migrations: { name: string; set: string; state: string; checksum: string }[]
    }
    expect(list.migrations.at(-1)).toMatchObject({
      name: '20991201000000_AddNotes',
      set: 'app',
      state: 'applied',
      checksum: 'ok',
    })
  })

  it('ships source maps whose sources resolve, and no test or bench code', () => {
    const maps = readdirSync(join(pkg, 'dist'), { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.js.map'),
    )
    expect(maps.length).toBeGreaterThan(50)
    const unresolved = maps.flatMap((map) => {
      const { sources } = JSON.parse(readFileSync(join(pkg, 'dist', map), 'utf8')) as { sources: string[] }
      return sources
        .map((source) => resolve(dirname(join(pkg, 'dist', map)), source))
        .filter((source) => !existsSync(source))
    })
    expect(unresolved).toEqual([])
    expect(existsSync(join(pkg, 'dist', 'bench'))).toBe(false)
    expect(existsSync(join(pkg, 'test'))).toBe(false)
  })
})

/**
 * The schema module of the sample application, its extension of project_states and its own
 * table: the example of docs/migrations.md, so the documented workflow is the tested one.
 */
const SCHEMA_MODULE = typescriptBlocks('docs/migrations.md', "## Your application's own migrations")[0]!

/** The sample application's code: typed (tsc checks it) and run with tsx. */
const APP_SCRIPT = `
import { openDatabase, ValidationError } from 'aura-data'
import { clientNotes, tables } from './schema.mts'

const db = await openDatabase({ url: 'sqlite:./sample.db', migrationsDir: './app-migrations', tables })
const project = await db.projectStates.add({ title: 'For ACME', clientRef: 'ACME-42' })
await db.table(clientNotes).add({ projectId: project.id, body: 'kick-off call' })
const found = await db.projectStates.find({ clientRef: 'ACME-42' }, { orderBy: { clientRef: 'asc' } })
const tooLong = await db.projectStates.add({ title: 'x', clientRef: 'x'.repeat(101) }).catch((e: unknown) => e)
console.log(JSON.stringify({
  clientRefs: found.map((p) => p.clientRef),
  notes: await db.table(clientNotes).count({ projectId: project.id }),
  refused: tooLong instanceof ValidationError,
}))
await db.close()
`

describe('an application with its own migrations and columns, on the installed package', () => {
  /** sha256 of each file of the installed package's migrations/. */
  const packageMigrations = () =>
    Object.fromEntries(
      readdirSync(join(pkg, 'migrations')).map((file) => [
        file,
        createHash('sha256')
          .update(readFileSync(join(pkg, 'migrations', file)))
          .digest('hex'),
      ]),
    )
  let shipped: Record<string, string>

  /** `npx aura-db` in the application, configured by its aura.config.json alone. */
  function npx(args: readonly string[]) {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' }
    for (const name of Object.keys(env)) if (name.startsWith('AURA_')) delete env[name]
    return spawnSync(NPM, ['exec', '--no', '--', ...args], { cwd: project, encoding: 'utf8', env })
  }

  beforeAll(async () => {
    shipped = packageMigrations()
    const tsx = JSON.parse(readFileSync(join(ROOT, 'node_modules/tsx/package.json'), 'utf8')) as {
      version: string
    }
    // An application that writes TypeScript migrations installs tsx (the tests above proved the
    // package installs without it).
    await execFileAsync(
      NPM,
      ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--prefer-offline', `tsx@${tsx.version}`],
      {
        cwd: project,
      },
    )
    mkdirSync(join(project, 'app-migrations'))
    // .mts: the consumer project is CommonJS by default, and the extension must augment the ESM
    // declarations that app.mts imports.
    writeFileSync(join(project, 'schema.mts'), SCHEMA_MODULE)
    writeFileSync(join(project, 'app.mts'), APP_SCRIPT)
    writeFileSync(
      join(project, 'aura.config.json'),
      JSON.stringify({
        databaseUrl: 'sqlite:./sample.db',
        migrationsDir: 'app-migrations',
        schema: 'schema.mts',
      }),
    )
  })

  it('check names the declared column, add generates only its difference into the app folder, then all is clean', async () => {
    const before = npx(['aura-db', 'check'])
    expect(before.status).toBe(3)
    expect(before.stdout).toContain('project_states.client_ref')

    const add = npx(['aura-db', '--json', 'add', 'AddClientRef'])
    expect(add.stderr).toBe('')
    expect(add.status).toBe(0)
    const added = JSON.parse(add.stdout) as { set: string; file: string; changes: string[] }
    expect(added.set).toBe('app')
    expect(added.changes).toEqual([
      'add column project_states.client_ref',
      'create index ix_project_states_client_ref',
      'create table client_notes',
    ])
    expect(readdirSync(join(project, 'app-migrations'))).toEqual([
      expect.stringMatching(/^\d{14}_AddClientRef\.ts$/),
    ])

    const migrate = npx(['aura-db', 'migrate'])
    expect(migrate.status, migrate.stderr).toBe(0)

    // The application's code type-checks with its declaration of the extension, and runs.
    writeFileSync(
      join(project, 'tsconfig.app.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          allowImportingTsExtensions: true,
        },
        files: ['app.mts', 'schema.mts'],
      }),
    )
    const tsc = await execFileAsync(
      process.execPath,
      [join(project, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.app.json'],
      { cwd: project },
    ).then(
      ({ stdout }) => ({ status: 0, output: stdout }),
      (error: { stdout: string; code: number }) => ({ status: error.code, output: error.stdout }),
    )
    expect(tsc).toEqual({ status: 0, output: '' })
    const used = npx(['tsx', 'app.mts'])
    expect(used.stderr).toBe('')
    expect(JSON.parse(used.stdout)).toEqual({ clientRefs: ['ACME-42'], notes: 1, refused: true })

    for (const command of ['status', 'verify', 'check']) {
      const result = npx(['aura-db', command])
      expect({ command, status: result.status, stderr: result.stderr }).toEqual({
        command,
        status: 0,
        stderr: '',
      })
    }
    expect(packageMigrations()).toEqual(shipped)
  })
})
