import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  addGeneratedMigration,
  allTables,
  checkSchema,
  EXPORT_STATUSES,
  MigrationError,
  openDatabase,
  parseRenames,
  UsageError,
  verifyDatabase,
  type AuraDatabase,
  type ColumnSpec,
  type IndexSpec,
  type TableDef,
} from '../src/index.js'
import { discoverMigrations } from '../src/migration/migration-source.js'
import { PACKAGE_MIGRATIONS, domainTables, runCli, runCliJson } from './cli-helpers.js'
import { dialects, postgres, type TestDatabase } from './dialects.js'

const CATCH_UP = readdirSync(PACKAGE_MIGRATIONS).find((f) => f.endsWith('_CatchUpProjectStates.ts'))!
const NO_RENAMES = parseRenames([])

/** A copy of the package's migrations in a scratch folder, optionally without some files. */
function migrationsCopy(without: readonly string[] = []): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'aura-evolution-')), 'migrations')
  cpSync(PACKAGE_MIGRATIONS, dir, { recursive: true })
  for (const file of without) rmSync(join(dir, file))
  return dir
}

/** The definitions with one table changed: columns patched or added, indexes replaced. */
function edited(
  table: string,
  change: {
    columns?: Record<string, Partial<ColumnSpec> | null>
    indexes?: (ix: readonly IndexSpec[]) => IndexSpec[]
  },
): TableDef[] {
  return allTables.map((def): TableDef => {
    if (def.name !== table) return def
    const columns: Record<string, ColumnSpec> = { ...(def.columns as Record<string, ColumnSpec>) }
    for (const [prop, patch] of Object.entries(change.columns ?? {})) {
      if (patch === null) delete columns[prop]
      else
        columns[prop] = {
          kind: 'text',
          nullable: true,
          hasDefault: false,
          column: prop.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`),
          ...columns[prop],
          ...patch,
        } as ColumnSpec
    }
    return {
      ...def,
      columns,
      fields: Object.keys(columns),
      byColumn: new Map(Object.entries(columns).map(([prop, spec]) => [spec.column, prop])),
      indexes: change.indexes ? change.indexes(def.indexes) : def.indexes,
    } as TableDef
  })
}

describe('aura-db check and add: the definitions against the migrations', () => {
  const dirs: string[] = []
  afterAll(() => {
    for (const dir of dirs) rmSync(join(dir, '..'), { recursive: true, force: true })
  })

  it('check exits 0 on the committed migrations and definitions', async () => {
    const result = await runCliJson(['check'])
    expect(result.code).toBe(0)
    expect(result.json).toEqual({
      ok: true,
      migrations: readdirSync(PACKAGE_MIGRATIONS).length,
      dialects: ['sqlite'],
      differences: [],
    })
  })

  it('check exits 3 naming every difference when the newest migration is missing', async () => {
    const dir = migrationsCopy([CATCH_UP])
    dirs.push(dir)
    const result = await runCli(['--migrations-dir', dir, 'check'])
    expect(result.code).toBe(3)
    for (const column of ['category', 'tags', 'template_id', 'duration_seconds', 'last_auto_save_at']) {
      expect(result.stdout).toContain(`project_states.${column} (SQLite): column is defined`)
    }
    expect(result.stdout).toContain('project_states index ix_project_states_status_category')
    expect(result.stderr).toMatch(/aura-db add NAME/)
  })

  it('an edited definition without a migration differs, naming the column; add writes the migration after which check is clean', async () => {
    const dir = migrationsCopy()
    dirs.push(dir)
    const tables = edited('project_states', { columns: { priority: { kind: 'int', min: 0, max: 9 } } })
    const before = await checkSchema(discoverMigrations(dir), tables)
    expect(before.ok).toBe(false)
    expect(before.differences.map((d) => d.subject)).toEqual([
      'project_states.priority',
      'project_states check ck_project_states_priority',
    ])
    const added = await addGeneratedMigration(dir, 'AddPriority', NO_RENAMES, { tables })
    expect(added.changes).toEqual([
      'add column project_states.priority',
      'add check ck_project_states_priority',
    ])
    expect((await checkSchema(discoverMigrations(dir), tables)).ok).toBe(true)
    // And the committed definitions now lag behind that migration.
    expect((await checkSchema(discoverMigrations(dir))).differences.map((d) => d.subject)).toContain(
      'project_states.priority',
    )
  })

  it('add refuses when nothing differs, and a drop with an add until the rename is stated; writes nothing', async () => {
    const dir = migrationsCopy()
    dirs.push(dir)
    const count = readdirSync(dir).length
    await expect(addGeneratedMigration(dir, 'Nothing', NO_RENAMES)).rejects.toThrow(
      /nothing to generate.*--empty/,
    )
    const renamed = edited('project_states', {
      columns: { jobId: null, pipelineJobId: { maxLength: 100 } },
      indexes: (ix) => ix.filter((i) => !i.columns.includes('job_id')),
    })
    const refusal = addGeneratedMigration(dir, 'RenameJob', NO_RENAMES, { tables: renamed })
    await expect(refusal).rejects.toBeInstanceOf(UsageError)
    await expect(refusal).rejects.toThrow(/--rename project_states\.job_id=pipeline_job_id/)
    expect(readdirSync(dir).length).toBe(count)
  })

  it('add and remove never write into node_modules: the shipped migrations stay as they are', async () => {
    const root = mkdtempSync(join(tmpdir(), 'aura-installed-'))
    const shipped = join(root, 'node_modules', 'aura-data', 'migrations')
    cpSync(PACKAGE_MIGRATIONS, shipped, { recursive: true })
    dirs.push(join(root, 'x'))
    const before = readdirSync(shipped)
    for (const args of [['add', 'Mine', '--empty'], ['add', 'Mine'], ['remove']]) {
      const result = await runCli([
        '--db',
        `sqlite:${join(root, 'app.db')}`,
        '--migrations-dir',
        shipped,
        ...args,
      ])
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stderr).toMatch(/inside node_modules/)
    }
    expect(readdirSync(shipped)).toEqual(before)
  })

  it('deleting the generated CatchUpProjectStates and running add again writes the committed file byte for byte', async () => {
    const dir = migrationsCopy([CATCH_UP])
    dirs.push(dir)
    const result = await runCliJson(['--migrations-dir', dir, 'add', 'CatchUpProjectStates'])
    expect(result.code).toBe(0)
    expect(readFileSync(result.json.file, 'utf8')).toBe(
      readFileSync(join(PACKAGE_MIGRATIONS, CATCH_UP), 'utf8'),
    )
  })
})

describe.skipIf(!postgres.available)('aura-db check --postgres: the comparison on PostgreSQL too', () => {
  let target: TestDatabase
  let dir: string
  beforeAll(async () => {
    target = await postgres.create()
    // A migration that does something on PostgreSQL only: SQLite's model cannot see it.
    dir = migrationsCopy()
    writeFileSync(
      join(dir, '20991231000000_PostgresOnly.ts'),
      `export async function up(db, ctx) {
        if (ctx.dialect !== 'postgres') return
        await db.schema.createIndex('ix_pg_only_title').on('project_states').column('title').execute()
        await db.schema.alterTable('scene_states').alterColumn('script_text', (c) => c.setDefault('x')).execute()
      }
      export async function down(db, ctx) {
        if (ctx.dialect !== 'postgres') return
        await db.schema.dropIndex('ix_pg_only_title').execute()
        await db.schema.alterTable('scene_states').alterColumn('script_text', (c) => c.setDefault('')).execute()
      }\n`,
    )
  })
  afterAll(async () => {
    await target?.drop()
    if (dir) rmSync(join(dir, '..'), { recursive: true, force: true })
  })

  it('exits 0 on the committed migrations, having compared on both dialects', async () => {
    const result = await runCliJson(['check', '--postgres', target.url])
    expect(result.code).toBe(0)
    expect(result.json).toMatchObject({ ok: true, dialects: ['sqlite', 'postgres'], differences: [] })
  })

  it('exits 3 naming a difference only PostgreSQL has, with its dialect; without --postgres it passes', async () => {
    const result = await runCliJson(['--migrations-dir', dir, 'check', '--postgres', target.url])
    expect(result.code).toBe(3)
    expect(result.json.differences).toEqual([
      {
        dialect: 'postgres',
        table: 'project_states',
        subject: 'project_states index ix_pg_only_title',
        problem: 'index (title) exists after the migrations but is not defined',
      },
      {
        dialect: 'postgres',
        table: 'scene_states',
        subject: 'scene_states.script_text',
        problem:
          "defined as text not null default ''::text, the migrations give text not null default 'x'::text",
      },
    ])
    const text = await runCli(['--migrations-dir', dir, 'check', '--postgres', target.url])
    expect(text.stdout).toContain('project_states index ix_pg_only_title (PostgreSQL): index (title) exists')
    expect((await runCli(['--migrations-dir', dir, 'check'])).code).toBe(0)
  })

  it('verify of a PostgreSQL database compares the definitions there, and leaves no scratch schema behind', async () => {
    const db = await openDatabase({ url: target.url, migrationsDir: dir, migrate: true })
    try {
      const report = await verifyDatabase(db)
      const check = report.checks.find((c) => c.name === 'definitions match migrations')!
      expect(check.ok).toBe(false)
      expect(check.detail).toContain('project_states index ix_pg_only_title: index (title) exists')
      const schemas = await sql<{ n: number }>`
        select count(*)::int as n from pg_namespace where nspname like 'aura_scratch_%'`.execute(
        db.dialect.kysely,
      )
      expect(schemas.rows[0]!.n).toBe(0)
    } finally {
      await db.close()
    }
  })

  it('refuses a --postgres URL that is not PostgreSQL (exit 2) before comparing anything', async () => {
    const result = await runCli(['check', '--postgres', 'sqlite:./x.db'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/is not a PostgreSQL URL/)
  })
})

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: generated migrations`, () => {
    const cleanup: (() => Promise<void>)[] = []
    afterAll(async () => {
      for (const step of cleanup.reverse()) await step()
    })

    async function database(migrationsDir: string): Promise<AuraDatabase> {
      const target = await d.create()
      const db = await openDatabase({ url: target.url, migrationsDir, create: true })
      cleanup.push(
        () => target.drop(),
        () => db.close(),
      )
      return db
    }
    const schemaOf = async (db: AuraDatabase) => domainTables(await db.dialect.introspect())

    let regenerated: string
    beforeAll(async () => {
      regenerated = migrationsCopy([CATCH_UP])
      cleanup.push(async () => rmSync(join(regenerated, '..'), { recursive: true, force: true }))
      await addGeneratedMigration(regenerated, 'CatchUpProjectStates', NO_RENAMES)
    })

    it('the regenerated catch-up migration gives the schema of the committed one; rollback gives the previous schema exactly', async () => {
      const committed = await database(PACKAGE_MIGRATIONS)
      await committed.migrate()
      const again = await database(regenerated)
      const files = again.migrator.files()
      await again.migrate({ to: files.at(-2)!.name })
      const previous = await schemaOf(again)
      await again.migrate()
      expect(await schemaOf(again)).toEqual(await schemaOf(committed))
      await again.rollback({ to: files.at(-2)!.name })
      expect(await schemaOf(again)).toEqual(previous)
    })

    it('the catch-up columns keep the data of the other columns through up → down → up', async () => {
      const db = await database(PACKAGE_MIGRATIONS)
      const files = db.migrator.files()
      await db.migrate({ to: files.at(-2)!.name })
      const k = db.dialect.kysely
      await k
        .insertInto('project_states')
        .values({ id: '6d1a1e7e-0000-4000-8000-000000000001', title: 'Kept' })
        .execute()
      await db.migrate()
      await k.updateTable('project_states').set({ category: 'travel' }).execute()
      await db.rollback({ to: files.at(-2)!.name })
      await db.migrate()
      const rows = await k.selectFrom('project_states').select(['title', 'category', 'status']).execute()
      expect(rows).toEqual([{ title: 'Kept', category: null, status: 'Draft' }])
    })

    it('altering CHECKs, a NOT NULL default and a unique index: up, down to the previous schema exactly, data kept (SQLite: table rebuilds)', async () => {
      const dir = migrationsCopy()
      cleanup.push(async () => rmSync(join(dir, '..'), { recursive: true, force: true }))
      // One more export status, a description that is never NULL, scene indexes no longer unique,
      // a wider rating range on templates (whose FTS5 triggers a rebuild must keep).
      let tables = edited('export_history', {
        columns: { status: { enumValues: [...EXPORT_STATUSES, 'Archived'] } },
      })
      tables = tables.map((t) =>
        t.name === 'project_states'
          ? edited('project_states', {
              columns: { description: { nullable: false, hasDefault: true, defaultValue: '' } },
            }).find((x) => x.name === 'project_states')!
          : t.name === 'scene_states'
            ? edited('scene_states', { indexes: (ix) => ix.filter((i) => !i.unique) }).find(
                (x) => x.name === 'scene_states',
              )!
            : t.name === 'templates'
              ? edited('templates', { columns: { rating: { max: 10 } } }).find((x) => x.name === 'templates')!
              : t,
      )
      const added = await addGeneratedMigration(dir, 'RelaxChecks', NO_RENAMES, { tables })
      expect(added.changes).toEqual(
        expect.arrayContaining([
          'alter column project_states.description',
          'change check ck_export_history_status',
          'drop index ux_scene_states_project_id_scene_index',
          'change check ck_templates_rating',
        ]),
      )
      expect((await checkSchema(discoverMigrations(dir), tables)).ok).toBe(true)

      const db = await database(dir)
      const files = db.migrator.files()
      const previousName = files.at(-2)!.name
      await db.migrate({ to: previousName })
      const previous = await schemaOf(db)
      const k = db.dialect.kysely
      const project = '6d1a1e7e-0000-4000-8000-000000000002'
      await k
        .insertInto('project_states')
        .values({ id: project, title: 'Rebuilt', category: 'news', description: 'd' })
        .execute()
      await k
        .insertInto('scene_states')
        .values({ project_id: project, scene_index: 0, script_text: 'one' })
        .execute()
      await k
        .insertInto('render_checkpoints')
        .values({ project_id: project, stage_name: 'Render', completed_scenes: 1, total_scenes: 2 })
        .execute()
      await k
        .insertInto('templates')
        .values({ name: 'Sunset reel', category: 'travel', template_data: '{}', rating: 4 })
        .execute()

      const run = await db.migrate()
      expect(run.error).toBeUndefined()
      // Now legal: the new export status, a duplicate scene index, a rating above 5.
      await k
        .insertInto('export_history')
        .values({ input_file: 'a', output_file: 'b', preset_name: 'p', status: 'Archived' })
        .execute()
      await k
        .insertInto('templates')
        .values({ name: 'Five plus', category: 'x', template_data: '{}', rating: 7 })
        .execute()
      await k
        .insertInto('scene_states')
        .values({ project_id: project, scene_index: 0, script_text: 'two' })
        .execute()
      const upSchema = await schemaOf(db)
      expect((await db.templates.search({ text: 'sunset' })).map((t) => t.name)).toEqual(['Sunset reel'])

      await k.deleteFrom('export_history').execute()
      await k.deleteFrom('templates').where('name', '=', 'Five plus').execute()
      await k.deleteFrom('scene_states').where('script_text', '=', 'two').execute()
      await db.rollback({ to: previousName })
      expect(await schemaOf(db)).toEqual(previous)
      await db.migrate()
      expect(await schemaOf(db)).toEqual(upSchema)
      // The FTS5 triggers (SQLite) came back with each rebuild of templates.
      expect((await db.templates.search({ text: 'sunset' })).map((t) => t.name)).toEqual(['Sunset reel'])
      expect(
        await k
          .selectFrom('project_states')
          .select(['title', 'category', 'description', 'row_version'])
          .execute(),
      ).toEqual([{ title: 'Rebuilt', category: 'news', description: 'd', row_version: 1 }])
      expect(await k.selectFrom('scene_states').select(['script_text']).execute()).toEqual([
        { script_text: 'one' },
      ])
      expect(await k.selectFrom('render_checkpoints').select(['stage_name']).execute()).toEqual([
        { stage_name: 'Render' },
      ])
      // The rebuilds ran with foreign keys off; the children still point at live parents.
      if (d.name === 'sqlite') expect((await sql`pragma foreign_key_check`.execute(k)).rows).toEqual([])
    })

    it.runIf(d.name === 'sqlite')(
      'a table rebuild refuses to run over a column another migration set added, instead of dropping it',
      async () => {
        const dir = migrationsCopy()
        cleanup.push(async () => rmSync(join(dir, '..'), { recursive: true, force: true }))
        const tables = edited('project_states', {
          columns: { description: { nullable: false, hasDefault: true, defaultValue: '' } },
        })
        await addGeneratedMigration(dir, 'DescriptionRequired', NO_RENAMES, { tables })
        const db = await database(dir)
        await db.migrate({ to: db.migrator.files().at(-2)!.name })
        // What an application's own migration does to a built-in table: a column of its own.
        await sql`alter table project_states add column client_ref text`.execute(db.dialect.kysely)
        await sql`insert into project_states (id, title, client_ref) values ('6d1a1e7e-0000-4000-8000-000000000009', 'Kept', 'ACME-1')`.execute(
          db.dialect.kysely,
        )
        const refused = await db.migrate().catch((error: unknown) => error)
        expect(refused).toBeInstanceOf(MigrationError)
        expect((refused as Error).message).toContain(
          'Rebuilding project_states would drop its columns client_ref, which this migration does not know',
        )
        // Rolled back: the column and its value are still there.
        const rows = await sql<{ client_ref: string }>`select client_ref from project_states`.execute(
          db.dialect.kysely,
        )
        expect(rows.rows).toEqual([{ client_ref: 'ACME-1' }])
        expect((await db.status()).pending).toHaveLength(1)
      },
    )

    it('adding a NOT NULL column without a default: applies to an empty table (SQLite: a rebuild), rolls back exactly; over rows it fails and changes nothing', async () => {
      const dir = migrationsCopy()
      cleanup.push(async () => rmSync(join(dir, '..'), { recursive: true, force: true }))
      const tables = edited('templates', { columns: { licence: { nullable: false, maxLength: 40 } } })
      const added = await addGeneratedMigration(dir, 'RequireLicence', NO_RENAMES, { tables })
      expect(added.changes).toEqual(['add column templates.licence'])
      const code = readFileSync(added.file, 'utf8')
      // SQLite cannot add such a column with ALTER TABLE: the step rebuilds the table.
      expect(code).toContain('templates__rebuild')

      const db = await database(dir)
      const previousName = db.migrator.files().at(-2)!.name
      await db.migrate({ to: previousName })
      const previous = await schemaOf(db)
      await db.migrate()
      const upSchema = await schemaOf(db)
      expect(upSchema).not.toEqual(previous)
      expect((await checkSchema(db.migrator.files(), tables)).ok).toBe(true)
      await db.rollback({ to: previousName })
      expect(await schemaOf(db)).toEqual(previous)

      // A row without a value for the new column: both databases refuse, the step is undone.
      const k = db.dialect.kysely
      await k
        .insertInto('templates')
        .values({ name: 'Needs a licence', category: 'x', template_data: '{}' })
        .execute()
      const run = await db.migrate().catch((error: unknown) => error)
      const failure = run instanceof Error ? run : (run as { error?: Error }).error
      expect(failure).toBeInstanceOf(MigrationError)
      expect(failure!.message).toContain('RequireLicence')
      expect(await schemaOf(db)).toEqual(previous)
      expect((await db.status()).pending).toEqual([added.name])
      expect(await k.selectFrom('templates').select('name').execute()).toEqual([{ name: 'Needs a licence' }])
    })

    it('a changed column type converts the values (PostgreSQL: USING a cast) and rolls back to exactly the old type, varchar length included', async () => {
      const dir = migrationsCopy()
      cleanup.push(async () => rmSync(join(dir, '..'), { recursive: true, force: true }))
      // current_stage is varchar(100) on PostgreSQL; a number now.
      const tables = edited('project_states', {
        columns: { currentStage: { kind: 'int', maxLength: undefined } },
      })
      const added = await addGeneratedMigration(dir, 'StageNumber', NO_RENAMES, { tables })
      expect(added.changes).toEqual(['alter column project_states.current_stage'])
      expect(readFileSync(added.file, 'utf8')).toContain(
        'alter table "project_states" alter column "current_stage" type varchar(100) using "current_stage"::varchar(100)',
      )

      const db = await database(dir)
      const previousName = db.migrator.files().at(-2)!.name
      await db.migrate({ to: previousName })
      const previous = await schemaOf(db)
      const k = db.dialect.kysely
      const id = '6d1a1e7e-0000-4000-8000-000000000003'
      await k.insertInto('project_states').values({ id, title: 'Staged', current_stage: '7' }).execute()
      expect((await db.migrate()).error).toBeUndefined()
      expect((await checkSchema(db.migrator.files(), tables)).ok).toBe(true)
      const stage = async () =>
        (await k.selectFrom('project_states').select('current_stage').executeTakeFirstOrThrow()).current_stage
      expect(await stage()).toBe(7)
      await db.rollback({ to: previousName })
      expect(await schemaOf(db)).toEqual(previous)
      expect(await stage()).toBe('7')
      if (d.name === 'postgres') {
        const { rows } = await sql<{
          type: string
        }>`select format_type(atttypid, atttypmod) as type from pg_attribute where attrelid = 'project_states'::regclass and attname = 'current_stage'`.execute(
          k,
        )
        expect(rows).toEqual([{ type: 'character varying(100)' }])
      }
    })

    it('a dropped column is marked as data loss, migrate reports it, and its down refuses with a clear error', async () => {
      const dir = migrationsCopy()
      cleanup.push(async () => rmSync(join(dir, '..'), { recursive: true, force: true }))
      const tables = edited('project_states', {
        columns: { jobId: null },
        indexes: (ix) => ix.filter((i) => !i.columns.includes('job_id')),
      })
      const added = await addGeneratedMigration(dir, 'DropJobId', NO_RENAMES, { tables })
      expect(added.dataLoss).toEqual(['drop column project_states.job_id'])
      expect(readFileSync(added.file, 'utf8')).toContain('// DATA LOSS: drop column project_states.job_id')
      const db = await database(dir)
      const run = await db.migrate()
      expect(run.results.at(-1)).toMatchObject({
        name: added.name,
        dataLoss: ['drop column project_states.job_id'],
      })
      expect((await checkSchema(db.migrator.files(), tables)).ok).toBe(true)
      const rollback = await db.rollback({ to: db.migrator.files().at(-2)!.name }).catch((e: Error) => e)
      const message = rollback instanceof Error ? rollback.message : (rollback.error?.message ?? '')
      expect(message).toMatch(
        /DropJobId cannot be rolled back: it lost data \(drop column project_states\.job_id\)/,
      )
      expect((await db.status()).current).toBe(added.name)
    })

    it('a rename stated with --rename keeps the values', async () => {
      const dir = migrationsCopy()
      cleanup.push(async () => rmSync(join(dir, '..'), { recursive: true, force: true }))
      const tables = edited('project_states', {
        columns: { jobId: null, pipelineJobId: { maxLength: 100 } },
        indexes: (ix) =>
          ix.map((i) =>
            i.columns.includes('job_id')
              ? { ...i, name: 'ix_project_states_pipeline_job_id', columns: ['pipeline_job_id'] }
              : i,
          ),
      })
      const added = await addGeneratedMigration(
        dir,
        'RenameJobId',
        parseRenames(['project_states.job_id=pipeline_job_id']),
        {
          tables,
        },
      )
      expect(added.dataLoss).toEqual([])
      const db = await database(dir)
      const files = db.migrator.files()
      await db.migrate({ to: files.at(-2)!.name })
      const k = db.dialect.kysely
      await k.insertInto('project_states').values({ title: 'Job', job_id: 'j-1' }).execute()
      await db.migrate()
      expect(await k.selectFrom('project_states').select(['pipeline_job_id']).execute()).toEqual([
        { pipeline_job_id: 'j-1' },
      ])
      expect((await checkSchema(files, tables)).ok).toBe(true)
      await db.rollback({ to: files.at(-2)!.name })
      expect(await k.selectFrom('project_states').select(['job_id']).execute()).toEqual([{ job_id: 'j-1' }])
    })
  })
}
