import { appendFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sql } from 'kysely'
import { MigrationError, openDatabase, verifyDatabase, type AuraDatabase } from '../src/index.js'
import { dialects, type TestDatabase } from './dialects.js'
import { copyMigrations, domainTables, INITIAL, snapshot } from './cli-helpers.js'

/** A migration after all of the package's, for tests that need one pending. */
const PROBE = '20990101000000_ProbeDrift'
const PROBE_MIGRATION = `import type { Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('probe_drift').addColumn('id', 'integer', (col) => col.primaryKey()).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('probe_drift').execute()
}
`
import { expectSpecSchema } from './schema-spec.js'

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: migration engine`, () => {
    let target: TestDatabase
    let db: AuraDatabase

    beforeEach(async () => {
      target = await d.create()
      db = await openDatabase({ url: target.url })
    })
    afterEach(async () => {
      await db.close()
      await target.drop()
    })

    it('InitialCreate turns an empty database into exactly the schema of schema.md, with the system_configuration row', async () => {
      const run = await db.migrate({ to: INITIAL })
      expect(run.results).toEqual([
        { name: INITIAL, set: 'aura-data', direction: 'up', status: 'success', ms: expect.any(Number) },
      ])
      const status = await db.status()
      expect(status.current).toBe(INITIAL)
      expect(status.pending).toEqual(
        db.migrator
          .files()
          .slice(1)
          .map((f) => f.name),
      )
      expect(status.drift).toEqual([])
      expectSpecSchema(domainTables(await db.dialect.introspect()), d.name)
      const rows = await db.dialect.kysely.selectFrom('system_configuration').select(['id']).execute()
      expect(rows).toEqual([{ id: 1 }])
    })

    it('migrate applies every pending migration once, in order; a second run finds nothing to do', async () => {
      const names = db.migrator.files().map((f) => f.name)
      expect((await db.migrate()).results.map((r) => [r.name, r.status])).toEqual(
        names.map((n) => [n, 'success']),
      )
      expect((await db.migrate()).results).toEqual([])
      const status = await db.status()
      expect(status.applied.map((m) => m.name)).toEqual(names)
      expect(status.current).toBe(names.at(-1))
      expect(status.pending).toEqual([])
      expectSpecSchema(domainTables(await db.dialect.introspect()), d.name, 'latest')
    })

    it('up → down → up gives, for every migration, the schema of a straight up', async () => {
      const files = db.migrator.files()
      expect(files.length).toBeGreaterThan(0)
      let before = domainTables(await db.dialect.introspect())
      expect(before.tables).toEqual([])
      for (const [i, file] of files.entries()) {
        await db.migrate({ to: file.name })
        const up = domainTables(await db.dialect.introspect())
        expect(up).not.toEqual(before)

        await db.rollback({ to: i === 0 ? 0 : files[i - 1]!.name })
        expect(domainTables(await db.dialect.introspect()), `${file.name} down`).toEqual(before)
        expect((await db.status()).current).toBe(i === 0 ? null : files[i - 1]!.name)

        await db.migrate({ to: file.name })
        expect(domainTables(await db.dialect.introspect()), `${file.name} up again`).toEqual(up)
        expect((await db.status()).current).toBe(file.name)
        before = up
      }
    })

    it('a dry run returns the SQL and changes nothing', async () => {
      const names = db.migrator.files().map((f) => f.name)
      const run = await db.migrator.migrate({ dryRun: true })
      expect(run.results).toEqual(
        names.map((name) => ({ name, set: 'aura-data', direction: 'up', status: 'not-executed', ms: 0 })),
      )
      expect(run.sql?.[0]?.statements.some((s) => /create table "project_states"/i.test(s))).toBe(true)
      expect((await db.dialect.introspect()).tables).toEqual([])
      expect((await db.status()).pending).toEqual(names)
    })

    it('rollback refuses a target that is not applied and leaves the database as it was', async () => {
      await db.migrate()
      const schema = await snapshot(target.url)
      await expect(db.rollback({ to: '20990101000000_Nope' })).rejects.toBeInstanceOf(MigrationError)
      expect(await snapshot(target.url)).toEqual(schema)
    })

    it('verify passes on a migrated database and names what differs after a manual schema change', async () => {
      await db.migrate()
      const good = await verifyDatabase(db)
      expect(good.ok).toBe(true)
      expect(good.checks.every((c) => c.ok)).toBe(true)
      expect(good.checks.map((c) => c.name)).toEqual(
        expect.arrayContaining(['migration checksums', 'pending migrations', 'schema matches migrations']),
      )

      await sql`drop index ix_templates_category`.execute(db.dialect.kysely)
      await sql`create table stray (id integer primary key)`.execute(db.dialect.kysely)
      const bad = await verifyDatabase(db)
      expect(bad.ok).toBe(false)
      const schemaCheck = bad.checks.find((c) => c.name === 'schema matches migrations')!
      expect(schemaCheck.ok).toBe(false)
      expect(schemaCheck.detail).toContain('templates: index ix_templates_category is missing')
      expect(schemaCheck.detail).toContain('table stray is not created by the migrations')
    })

    // SQLite computes the expected schema in memory; only PostgreSQL leaves something to clean up.
    it.skipIf(d.name !== 'postgres')('verify drops the scratch schema it migrated', async () => {
      await db.migrate()
      expect((await verifyDatabase(db)).ok).toBe(true)
      const left = await sql<{
        n: number
      }>`select count(*)::int as n from pg_namespace where nspname like 'aura_scratch_%'`.execute(
        db.dialect.kysely,
      )
      expect(left.rows[0]?.n).toBe(0)
    })

    it('db.migrate() reads the history under the lock: drift recorded while it waited is refused, nothing applied', async () => {
      const dir = copyMigrations()
      const mine = await openDatabase({ url: target.url, migrationsDir: dir })
      const other = await openDatabase({ url: target.url, migrationsDir: dir })
      try {
        await mine.migrate()
        writeFileSync(join(dir, `${PROBE}.ts`), PROBE_MIGRATION)
        const lock = await other.dialect.acquireMigrationLock('another runner', 5_000)
        const refused = mine.migrate().then(
          () => null,
          (e: unknown) => e,
        )
        // Give it time to reach the lock and wait there.
        await new Promise((resolve) => setTimeout(resolve, 300))
        // While it waits, another runner with an edited InitialCreate records its checksum.
        await other.dialect.kysely
          .updateTable('aura_migrations')
          .set({ checksum: '0'.repeat(64) })
          .where('name', '=', INITIAL)
          .execute()
        await lock.release()
        const error = await refused
        expect(error).toBeInstanceOf(MigrationError)
        expect((error as Error).message).toContain(`${INITIAL}.ts: changed since it was applied`)
        expect(await mine.dialect.hasTable('probe_drift')).toBe(false)
        expect((await mine.status()).pending).toEqual([PROBE])
      } finally {
        await mine.close()
        await other.close()
        rmSync(dirname(dir), { recursive: true, force: true })
      }
    })

    it('the data API refuses a database whose applied migration was edited, naming it', async () => {
      const dir = copyMigrations()
      try {
        const before = await openDatabase({ url: target.url, migrationsDir: dir })
        try {
          await before.migrate()
          expect(await before.projectStates.count()).toBe(0)
        } finally {
          await before.close()
        }
        appendFileSync(join(dir, `${INITIAL}.ts`), '\n// edited after it was applied\n')
        const after = await openDatabase({ url: target.url, migrationsDir: dir })
        try {
          const error = await after.projectStates.count().catch((e: unknown) => e)
          expect(error).toBeInstanceOf(MigrationError)
          expect((error as Error).message).toContain(INITIAL)
          await expect(after.transaction(async () => {})).rejects.toBeInstanceOf(MigrationError)
        } finally {
          await after.close()
        }
      } finally {
        rmSync(dirname(dir), { recursive: true, force: true })
      }
    })

    it('verify reports pending migrations on an empty database', async () => {
      const names = db.migrator.files().map((f) => f.name)
      const report = await verifyDatabase(db)
      expect(report.ok).toBe(false)
      expect(report.checks.find((c) => c.name === 'pending migrations')).toEqual({
        name: 'pending migrations',
        ok: false,
        detail: `${names.length} pending: ${names.join(', ')}`,
      })
      expect(report.checks.find((c) => c.name === 'schema matches migrations')?.ok).toBe(true)
    })
  })
}
