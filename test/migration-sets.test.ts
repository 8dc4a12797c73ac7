/**
 * Application-owned migrations (docs/migrations.md, "Migration sets"): a configured folder that
 * is not a whole history is the `app` set, applied after the package's `aura-data` set and
 * recorded with its set, so neither is drift of the other.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  addGeneratedMigration,
  BackupError,
  checkSchema,
  MigrationError,
  openDatabase,
  parseRenames,
  restoreDatabase,
  verifyDatabase,
  type AuraDatabase,
} from '../src/index.js'
import { discoverSets, migrationSets } from '../src/migration/migration-sets.js'
// The application's own table definition; the extension API will be the public way to declare one.
import { c, defineTable } from '../src/schema/define.js'
import { allTables } from '../src/schema/index.js'
import {
  PACKAGE_MIGRATIONS,
  ROOT,
  copyMigrations,
  runCli,
  runCliJson,
  withDatabase,
  type CliResult,
} from './cli-helpers.js'
import { dialects, type TestDatabase } from './dialects.js'

vi.setConfig({ testTimeout: 120_000 })

const NOTES = '20260101000000_AddAppNotes'
const RATING = '20270101000000_AddProjectRating'

/** The application's two migrations: one creates a table, one adds a column to project_states. */
const APP_MIGRATIONS: Record<string, string> = {
  [NOTES]: `import type { Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('app_notes')
    .addColumn('id', 'integer', (col) => col.primaryKey())
    .addColumn('body', 'text', (col) => col.notNull())
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('app_notes').execute()
}
`,
  [RATING]: `import type { Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('project_states').addColumn('app_rating', 'integer').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('project_states').dropColumn('app_rating').execute()
}
`,
}

/** A fresh application folder under test/.tmp (so `import type … from 'kysely'` resolves) with the two migrations. */
function appFolder(): string {
  const parent = join(ROOT, 'test', '.tmp')
  mkdirSync(parent, { recursive: true })
  const dir = join(mkdtempSync(join(parent, 'app-')), 'migrations')
  mkdirSync(dir)
  for (const [name, source] of Object.entries(APP_MIGRATIONS)) writeFileSync(join(dir, `${name}.ts`), source)
  return dir
}

const packageNames = readdirSync(PACKAGE_MIGRATIONS)
  .filter((file) => file.endsWith('.ts'))
  .map((file) => file.slice(0, -3))
  .sort()
const LAST_PACKAGE = packageNames.at(-1)!

/**
 * Migrates the package's set at `url`, then puts the history table back as the engine created it
 * before migration sets (name as the key, no `migration_set`), rows kept.
 */
async function packageOnlyWithOldHistory(url: string): Promise<void> {
  const plain = await openDatabase({ url })
  try {
    await plain.migrate()
    const kysely = plain.dialect.kysely
    const rows = await kysely.selectFrom('aura_migrations').selectAll().execute()
    await kysely.schema.dropTable('aura_migrations').execute()
    await kysely.schema
      .createTable('aura_migrations')
      .addColumn('name', 'varchar(255)', (col) => col.primaryKey())
      .addColumn('checksum', 'varchar(64)', (col) => col.notNull())
      .addColumn('applied_at', sql.raw(plain.dialect.columnType('timestamp')), (col) => col.notNull())
      .addColumn('execution_ms', 'integer', (col) => col.notNull())
      .execute()
    await kysely
      .insertInto('aura_migrations')
      .values(
        rows.map(({ name, checksum, applied_at, execution_ms }) => ({
          name,
          checksum,
          applied_at,
          execution_ms,
        })),
      )
      .execute()
  } finally {
    await plain.close()
  }
}

/** A table only the application has: what an application declares beside the package's tables. */
const appNotesTable = defineTable({
  name: 'app_notes',
  primaryKey: 'id',
  keyGeneration: 'none',
  features: { audit: false, rowVersion: false, softDelete: false },
  columns: { id: c.int(), body: c.text(1000) },
})

describe('migration sets', () => {
  it('a folder holding the package first migration is a whole history; any other is an app set after the package', () => {
    const history = copyMigrations()
    const app = appFolder()
    try {
      expect(migrationSets(history)).toEqual([{ name: 'aura-data', dir: history }])
      expect(migrationSets(app).map((s) => s.name)).toEqual(['aura-data', 'app'])
      expect(migrationSets(join(ROOT, 'migrations'))).toEqual([
        { name: 'aura-data', dir: join(ROOT, 'migrations') },
      ])
    } finally {
      rmSync(join(history, '..'), { recursive: true, force: true })
      rmSync(join(app, '..'), { recursive: true, force: true })
    }
  })
})

describe('compiled application migrations', () => {
  it('one migration as both X.ts and X.js in a folder is refused, naming both files', () => {
    const app = appFolder()
    try {
      writeFileSync(
        join(app, `${NOTES}.js`),
        'export async function up() {}\nexport async function down() {}\n',
      )
      expect(() => discoverSets(migrationSets(app))).toThrow(MigrationError)
      expect(() => discoverSets(migrationSets(app))).toThrow(
        `The migration ${NOTES} is in ${app} twice, as ${NOTES}.js and ${NOTES}.ts`,
      )
    } finally {
      rmSync(join(app, '..'), { recursive: true, force: true })
    }
  })
})

describe('add over an app set', () => {
  let app: string
  beforeEach(() => {
    app = join(appFolder(), '..', 'generated')
    mkdirSync(app)
  })
  afterEach(() => rmSync(join(app, '..'), { recursive: true, force: true }))

  it('generates only the application difference: the package set is the starting point', async () => {
    const tables = [...allTables, appNotesTable]
    const before = discoverSets(migrationSets()).filter((f) => f.set === 'aura-data')
    const added = await addGeneratedMigration(app, 'AddAppNotes', parseRenames([]), { before, tables })
    expect(added.changes).toEqual([expect.stringContaining('app_notes')])
    expect(readdirSync(app)).toEqual([`${added.name}.ts`])
    const files = discoverSets(migrationSets(app))
    expect(files.at(-1)).toMatchObject({ name: added.name, set: 'app' })
    expect((await checkSchema(files, tables)).differences).toEqual([])
  })

  it('aura-db add in an app folder without a definition change has nothing to generate (not the whole schema)', async () => {
    const result = await runCli(['add', 'Nothing'], { AURA_MIGRATIONS_DIR: app })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('there is nothing to generate')
    expect(readdirSync(app)).toEqual([])
  })
})

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: application migrations beside the package's`, () => {
    let target: TestDatabase
    let app: string
    let db: AuraDatabase

    beforeEach(async () => {
      target = await d.create()
      app = appFolder()
      db = await openDatabase({ url: target.url, migrationsDir: app })
    })
    afterEach(async () => {
      await db.close()
      await target.drop()
      rmSync(join(app, '..'), { recursive: true, force: true })
    })

    it('a compiled (.mjs) app migration runs as it is, its checksum that of the file', async () => {
      const compiled = join(app, '20280101000000_AddCompiledNotes.mjs')
      const source = `export async function up(db) {
  await db.schema.createTable('app_compiled').addColumn('id', 'integer', (col) => col.primaryKey()).execute()
}
export async function down(db) {
  await db.schema.dropTable('app_compiled').execute()
}
`
      writeFileSync(compiled, source)
      const run = await db.migrate()
      expect(run.results.at(-1)).toMatchObject({ name: '20280101000000_AddCompiledNotes', set: 'app' })
      expect(await db.dialect.hasTable('app_compiled')).toBe(true)
      const applied = (await db.status()).applied.at(-1)!
      expect(applied.checksum).toBe(createHash('sha256').update(source).digest('hex'))
      await db.rollback()
      expect(await db.dialect.hasTable('app_compiled')).toBe(false)
    })

    it('migrate applies the package set, then the app set, and records each with its set', async () => {
      const pendingBefore = (await verifyDatabase(db)).checks.find((c) => c.name === 'pending migrations')
      expect(pendingBefore?.detail).toBe(
        `${packageNames.length + 2} pending: aura-data: ${packageNames.join(', ')}; app: ${NOTES}, ${RATING}`,
      )
      const run = await db.migrate()
      expect(run.error).toBeUndefined()
      expect(run.results.map((r) => [r.name, r.set])).toEqual([
        ...packageNames.map((name) => [name, 'aura-data']),
        [NOTES, 'app'],
        [RATING, 'app'],
      ])
      const status = await db.status()
      expect(status.current).toBe(RATING)
      expect(status.pending).toEqual([])
      expect(status.drift).toEqual([])
      expect(status.sets.map((s) => [s.name, s.current, s.applied, s.pending])).toEqual([
        ['aura-data', LAST_PACKAGE, packageNames.length, []],
        ['app', RATING, 2, []],
      ])
      expect((await db.migrator.list()).map((m) => [m.name, m.set, m.state, m.checksum])).toEqual([
        ...packageNames.map((name) => [name, 'aura-data', 'applied', 'ok']),
        [NOTES, 'app', 'applied', 'ok'],
        [RATING, 'app', 'applied', 'ok'],
      ])
      const rows = await db.dialect.kysely
        .selectFrom('aura_migrations')
        .select(['migration_set', 'name'])
        .where('migration_set', '=', 'app')
        .orderBy('name')
        .execute()
      expect(rows).toEqual([
        { migration_set: 'app', name: NOTES },
        { migration_set: 'app', name: RATING },
      ])
      const checks = new Map((await verifyDatabase(db)).checks.map((check) => [check.name, check]))
      expect(checks.get('migration checksums')).toMatchObject({
        ok: true,
        detail: `${packageNames.length + 2} applied migration(s) match their files (aura-data: ${packageNames.length}, app: 2)`,
      })
      expect(checks.get('pending migrations')).toMatchObject({ ok: true })
      // The scratch replay applies both sets: the live schema, app table and column included, is the expected one.
      expect(checks.get('schema matches migrations')).toMatchObject({ ok: true })
      // Not declared in the table definitions (the application declares them with the extension API).
      expect(checks.get('definitions match migrations')?.detail).toContain('app_notes')
      await db.dialect.kysely.insertInto('app_notes').values({ id: 1, body: 'kept' }).execute()
      const columns = (await db.dialect.introspect()).tables.find((t) => t.name === 'project_states')!.columns
      expect(columns.map((c) => c.name)).toContain('app_rating')
    })

    it('a changed app file is drift of the app set only; the package set stays clean', async () => {
      await db.migrate()
      writeFileSync(join(app, `${RATING}.ts`), `${APP_MIGRATIONS[RATING]}\n// edited\n`)
      const status = await db.status()
      expect(status.drift.map((e) => [e.name, e.set, e.problem])).toEqual([[RATING, 'app', 'changed']])
      await expect(db.migrate()).rejects.toThrow(`${RATING}.ts: changed since it was applied (app set`)
      // Without the app folder configured, the package alone is clean but the app's rows have no file.
      const packageOnly = await openDatabase({ url: target.url, readOnly: d.name === 'sqlite' })
      try {
        const drift = (await packageOnly.status()).drift
        expect(drift.map((e) => [e.name, e.set, e.problem])).toEqual([
          [NOTES, 'app', 'missing'],
          [RATING, 'app', 'missing'],
        ])
      } finally {
        await packageOnly.close()
      }
    })

    it('rollback reverts the app set newest first; --to the last package migration removes only app ones', async () => {
      await db.migrate()
      const one = await db.rollback()
      expect(one.results.map((r) => [r.name, r.set, r.direction])).toEqual([[RATING, 'app', 'down']])
      await db.migrate()
      const toPackage = await db.rollback({ to: LAST_PACKAGE })
      expect(toPackage.results.map((r) => [r.name, r.set])).toEqual([
        [RATING, 'app'],
        [NOTES, 'app'],
      ])
      const status = await db.status()
      expect(status.current).toBe(LAST_PACKAGE)
      expect(status.pending).toEqual([NOTES, RATING])
      expect(await db.dialect.hasTable('app_notes')).toBe(false)
    })

    it('a package migration shipped after the app ones were applied is pending and applies; an app file older than an applied app one is refused', async () => {
      // As after upgrading the package: the app set applied, the package's newest migration not yet.
      await db.migrator.migrate({ only: [...packageNames.slice(0, -1), NOTES, RATING] })
      const status = await db.status()
      expect(status.pending).toEqual([LAST_PACKAGE])
      expect(status.drift).toEqual([])
      expect((await db.migrate()).results.map((r) => [r.name, r.set, r.status])).toEqual([
        [LAST_PACKAGE, 'aura-data', 'success'],
      ])

      writeFileSync(join(app, '20260601000000_Late.ts'), APP_MIGRATIONS[NOTES]!)
      await expect(db.migrate()).rejects.toThrow(
        /older than the applied 20270101000000_AddProjectRating of the same set/,
      )
    })

    it('verify of a database whose pending package migration sorts before an applied app one: the schema checks pass, the pending one names it', async () => {
      // After upgrading the package: its newest migration (2026-12) is pending, the app's
      // RATING (2027) applied. The scratch database verify compares with must apply exactly the
      // applied ones, not the first N by name.
      await db.migrator.migrate({ only: [...packageNames.slice(0, -1), NOTES, RATING] })
      // This handle does not declare the app's tables, so "definitions match migrations" has
      // its own findings; the checks of the schema against the migrations are what is at stake.
      const byName = async () => new Map((await verifyDatabase(db)).checks.map((c) => [c.name, c]))
      const checks = await byName()
      expect(checks.get('pending migrations')).toEqual({
        name: 'pending migrations',
        ok: false,
        detail: `1 pending: aura-data: ${LAST_PACKAGE}`,
      })
      expect(checks.get('migration checksums')?.ok).toBe(true)
      expect(checks.get('schema matches migrations')).toMatchObject({ ok: true })
      await db.migrate()
      expect((await byName()).get('pending migrations')?.ok).toBe(true)
      expect((await byName()).get('schema matches migrations')?.ok).toBe(true)
    })

    it('an app migration named like a package one is refused before anything runs', async () => {
      const taken = packageNames[1]!
      cpSync(join(ROOT, 'migrations', `${taken}.ts`), join(app, `${taken}.ts`))
      await expect(db.migrate()).rejects.toThrow(MigrationError)
      await expect(db.migrate()).rejects.toThrow(`${taken} of the app set`)
      expect(await db.dialect.hasTable('project_states')).toBe(false)
    })

    it('a history table of the engine before sets is read as aura-data, then upgraded by migrate', async () => {
      await packageOnlyWithOldHistory(target.url)

      const readOnly = await openDatabase({
        url: target.url,
        migrationsDir: app,
        readOnly: d.name === 'sqlite',
      })
      try {
        const status = await readOnly.status()
        expect(status.applied.map((m) => m.set)).toEqual(packageNames.map(() => 'aura-data'))
        expect(status.drift).toEqual([])
        expect(status.pending).toEqual([NOTES, RATING])
      } finally {
        await readOnly.close()
      }

      expect((await db.migrate()).results.map((r) => [r.name, r.set])).toEqual([
        [NOTES, 'app'],
        [RATING, 'app'],
      ])
      const history = await db.dialect.kysely
        .selectFrom('aura_migrations')
        .select(['migration_set', 'name'])
        .orderBy('name')
        .execute()
      expect(history).toEqual(
        [
          ...packageNames.map((name) => ({ migration_set: 'aura-data', name })),
          { migration_set: 'app', name: NOTES },
          { migration_set: 'app', name: RATING },
        ].sort((a, b) => a.name.localeCompare(b.name)),
      )
      expect((await db.rollback({ to: 0 })).error).toBeUndefined()
      expect((await db.status()).applied).toEqual([])
    })
  })

  describe.skipIf(!d.available)(`${d.label}: restoring a backup with an app set`, () => {
    let target: TestDatabase
    let app: string
    beforeEach(async () => {
      target = await d.create()
      app = appFolder()
    })
    afterEach(async () => {
      await target.drop()
      rmSync(join(app, '..'), { recursive: true, force: true })
    })

    it('restore accepts a backup whose history is, set by set, a prefix of the code; without the app folder its app migrations are unknown', async () => {
      const dir = join(target.dir, 'backups')
      const db = await openDatabase({ url: target.url, migrationsDir: app })
      let file: string
      try {
        await db.migrate()
        file = (await db.backup({ dir })).file
      } finally {
        await db.close()
      }
      await expect(restoreDatabase({ url: target.url, file, dir, yes: true })).rejects.toThrow(RATING)
      const restored = await restoreDatabase({ url: target.url, file, dir, yes: true, migrationsDir: app })
      expect(restored.migration).not.toBeNull()
      const after = await openDatabase({ url: target.url, migrationsDir: app })
      try {
        const status = await after.status()
        expect(status.drift).toEqual([])
        expect(status.pending).toEqual([])
        expect(status.sets.map((s) => [s.name, s.current])).toEqual([
          ['aura-data', LAST_PACKAGE],
          ['app', RATING],
        ])
      } finally {
        await after.close()
      }
    })

    it('restore compares the history set by set: a package migration pending behind applied app ones is accepted; an app migration the code puts between applied ones is refused', async () => {
      const dir = join(target.dir, 'backups')
      const db = await openDatabase({ url: target.url, migrationsDir: app })
      let file: string
      try {
        // Merged by name, [..., NOTES, RATING] is not a prefix of the code's [..., NOTES,
        // LAST_PACKAGE, RATING]; set by set it is.
        await db.migrator.migrate({ only: [...packageNames.slice(0, -1), NOTES, RATING] })
        file = (await db.backup({ dir })).file
      } finally {
        await db.close()
      }
      await restoreDatabase({ url: target.url, file, dir, yes: true, migrationsDir: app })
      const after = await openDatabase({ url: target.url, migrationsDir: app })
      try {
        expect((await after.status()).pending).toEqual([LAST_PACKAGE])
      } finally {
        await after.close()
      }

      // The code now has an app migration between the two the backup applied.
      const between = '20260601000000_Between'
      writeFileSync(join(app, `${between}.ts`), APP_MIGRATIONS[NOTES]!.replaceAll('app_notes', 'app_between'))
      const refused = await restoreDatabase({
        url: target.url,
        file,
        dir,
        yes: true,
        migrationsDir: app,
      }).catch((e: unknown) => e)
      expect(refused).toBeInstanceOf(BackupError)
      expect((refused as Error).message).toContain(
        `is not a prefix of this code's migrations (found ${RATING} where the code has ${between})`,
      )
    })

    it.skipIf(d.name !== 'postgres')(
      'a logical export of a history before sets restores, every row recorded as aura-data',
      async () => {
        await packageOnlyWithOldHistory(target.url)
        const dir = join(target.dir, 'backups')
        const path = process.env.PATH
        // No pg_dump on PATH: the library's logical export, whose restore recreates the tables.
        process.env.PATH = join(target.dir, 'empty-bin')
        try {
          const db = await openDatabase({ url: target.url })
          let file: string
          try {
            file = (await db.backup({ dir })).file
          } finally {
            await db.close()
          }
          expect(JSON.parse(readFileSync(`${file}.json`, 'utf8')).format).toBe('aura-logical-v1')
          await restoreDatabase({ url: target.url, file, dir, yes: true })
        } finally {
          process.env.PATH = path
        }
        const db = await openDatabase({ url: target.url })
        try {
          const rows = await db.dialect.kysely
            .selectFrom('aura_migrations')
            .select(['migration_set', 'name'])
            .orderBy('name')
            .execute()
          expect(rows).toEqual(packageNames.map((name) => ({ migration_set: 'aura-data', name })))
          expect((await db.status()).drift).toEqual([])
        } finally {
          await db.close()
        }
      },
    )
  })

  describe.skipIf(!d.available)(`${d.label}: the CLI over an application folder`, () => {
    let target: TestDatabase
    let app: string
    let env: Record<string, string>

    beforeAll(async () => {
      target = await d.create()
      app = appFolder()
      env = { AURA_DATABASE_URL: target.url, AURA_MIGRATIONS_DIR: app }
    })
    afterAll(async () => {
      await target.drop()
      rmSync(join(app, '..'), { recursive: true, force: true })
    })

    it('migrate prints each step with its set; status --json and list show the sets; remove deletes only an unapplied app file', async () => {
      const migrate = await runCli(['migrate', '--yes', '--no-backup'], env)
      expect(migrate.code, migrate.stderr).toBe(0)
      expect(migrate.stdout).toMatch(new RegExp(`${NOTES}\\s+app\\s+up\\s+success`))
      expect(migrate.stdout).toMatch(new RegExp(`${LAST_PACKAGE}\\s+aura-data\\s+up\\s+success`))

      const status = await runCliJson<{ sets: { name: string; current: string }[]; drift: unknown[] }>(
        ['status'],
        env,
      )
      expect(status.code).toBe(0)
      expect(status.json.drift).toEqual([])
      expect(status.json.sets.map((s) => [s.name, s.current])).toEqual([
        ['aura-data', LAST_PACKAGE],
        ['app', RATING],
      ])
      const list = await runCli(['list'], env)
      expect(list.stdout).toMatch(new RegExp(`${RATING}\\s+app\\s+applied`))
      expect(list.stdout).toMatch(new RegExp(`${packageNames[0]}\\s+aura-data\\s+applied`))

      const refused: CliResult = await runCli(['remove'], env)
      expect(refused.code).toBe(1)
      expect(refused.stderr).toContain(`Refusing to remove ${RATING}`)
      expect(existsSync(join(app, `${RATING}.ts`))).toBe(true)

      // Rolled back in this process (the CLI's rollback is covered by test/cli-migrations.test.ts).
      await withDatabase(target.url, app, (db) => db.rollback())
      const removed = await runCliJson<{ removed: string; set: string }>(['remove'], env)
      expect(removed.code, removed.stderr).toBe(0)
      expect(removed.json).toMatchObject({ removed: RATING, set: 'app' })
      expect(readdirSync(app)).toEqual([`${NOTES}.ts`])
      expect(
        readdirSync(join(ROOT, 'migrations'))
          .filter((f) => f.endsWith('.ts'))
          .map((f) => f.slice(0, -3)),
      ).toEqual(packageNames)
    })
  })
}

describe('an installed package (inside node_modules)', () => {
  let project: string
  let installed: string

  beforeAll(() => {
    // The package as npm installs it, inside a project under the worktree so its dependencies resolve.
    const parent = join(ROOT, 'test', '.tmp')
    mkdirSync(parent, { recursive: true })
    project = mkdtempSync(join(parent, 'installed-'))
    installed = join(project, 'node_modules', 'aura-data')
    for (const part of [
      'package.json',
      'bin',
      'migrations',
      'assets',
      join('dist', 'src'),
      join('dist', 'cli'),
      join('dist', 'migrations'),
    ]) {
      if (existsSync(join(ROOT, part))) cpSync(join(ROOT, part), join(installed, part), { recursive: true })
    }
  })
  afterAll(() => rmSync(project, { recursive: true, force: true }))

  function installedCli(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
    return runCli(args, env, { bin: join(installed, 'bin', 'aura-db.js'), cwd: project })
  }

  it('add without a configured folder refuses to write into the shipped migrations', async () => {
    const result = await installedCli(['add', 'Anything', '--empty'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('inside node_modules')
    expect(result.stderr).toContain('--migrations-dir')
    expect(readdirSync(join(installed, 'migrations')).sort()).toEqual(
      readdirSync(join(ROOT, 'migrations')).sort(),
    )
  })

  it('add with the application folder configured writes there', async () => {
    const app = join(project, 'migrations')
    mkdirSync(app)
    const result = await installedCli(['--json', 'add', 'AddNotes', '--empty'], { AURA_MIGRATIONS_DIR: app })
    expect(result.code, result.stderr).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ set: 'app' })
    expect(readdirSync(app)).toEqual([expect.stringMatching(/^\d{14}_AddNotes\.ts$/)])
  })
})
