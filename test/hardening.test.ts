import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import {
  allTables,
  AuraDataError,
  BackupError,
  ConstraintError,
  DatabaseError,
  DatabaseReplacedError,
  listBackups,
  NotFoundError,
  openDatabase,
  restoreDatabase,
  ValidationError,
  verifyDatabase,
} from '../src/index.js'
import { startChild } from './backup-helpers.js'
import { runCli } from './cli-helpers.js'
import { dialects } from './dialects.js'
import { PROTOTYPE_NAMES, useMigratedDatabase } from './helpers.js'

/** The error a call rejects with (fails the test when it resolves). */
async function failure(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`)
    },
    (error: unknown) => error,
  )
}

async function refused(call: Promise<unknown>, field?: string): Promise<ValidationError> {
  const error = await failure(call)
  expect(error).toBeInstanceOf(ValidationError)
  if (field !== undefined) expect((error as ValidationError).field).toBe(field)
  return error as ValidationError
}

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.pid'])
  return child.pid!
}

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: hardening against hostile input`, () => {
    const ctx = useMigratedDatabase(d)

    it('(1) refuses keys that name Object.prototype members in add, update and filters', async () => {
      const { db } = ctx
      const project = await db.projectStates.add({ title: 'prototype keys' })
      const audits = await db.auditEntries.count()
      for (const name of PROTOTYPE_NAMES) {
        // JSON.parse makes `__proto__` an own key, as a request body would.
        const extra = JSON.parse(`{"${name}": 1}`) as Record<string, unknown>
        await refused(db.projectStates.add({ title: 'x', ...extra }), name)
        await refused(db.projectStates.update({ ...project, ...extra }), name)
        await refused(db.sceneStates.add({ projectId: project.id, sceneIndex: 0, ...extra }), name)
        await refused(db.projectStates.find(extra as never), name)
        await refused(db.projectStates.find({}, { orderBy: extra as never }), name)
        await refused(db.projectStates.find({ title: extra } as never), 'title')
      }
      expect(await db.auditEntries.count()).toBe(audits)
      expect(await db.projectStates.getById(project.id)).toEqual(project)
    })

    it('(2) refuses a huge limit or offset before any SQL, and takes the largest exact one', async () => {
      const { db } = ctx
      await db.projectStates.add({ title: 'paging' })
      for (const limit of [1e300, Number.MAX_VALUE, 2 ** 53, Infinity, -1, 0.5]) {
        await refused(db.projectStates.find({}, { limit }), 'limit')
        await refused(db.projectStates.getAll({ offset: limit }), 'offset')
      }
      const all = await db.projectStates.count()
      expect(await db.projectStates.find({}, { limit: Number.MAX_SAFE_INTEGER })).toHaveLength(all)
      expect(await db.projectStates.find({}, { offset: Number.MAX_SAFE_INTEGER })).toEqual([])
    })

    it('(3) stores timestamps from 0001 to 9999 exactly and refuses others, in writes and filters', async () => {
      const { db } = ctx
      const first = new Date('0001-01-01T00:00:00.000Z')
      const last = new Date('9999-12-31T23:59:59.999Z')
      const tag = `dates-${d.name}`
      const early = await db.projectStates.add({ title: tag, completedAt: first })
      const late = await db.projectStates.add({ title: tag, completedAt: last })
      expect((await db.projectStates.getById(early.id))?.completedAt).toEqual(first)
      expect((await db.projectStates.getById(late.id))?.completedAt).toEqual(last)
      const ordered = await db.projectStates.find({ title: tag }, { orderBy: { completedAt: 'asc' } })
      expect(ordered.map((p) => p.id)).toEqual([early.id, late.id])
      expect(
        (await db.projectStates.find({ title: tag, completedAt: { gt: new Date('1970-01-01') } })).map(
          (p) => p.id,
        ),
      ).toEqual([late.id])
      const before = await db.projectStates.count()
      for (const outside of [
        new Date(-8.64e15),
        new Date(8.64e15),
        new Date(first.getTime() - 1),
        new Date(last.getTime() + 1),
      ]) {
        const error = await refused(db.projectStates.add({ title: 'x', completedAt: outside }), 'completedAt')
        expect(error.message).toContain('0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z')
        await refused(db.projectStates.update({ ...early, completedAt: outside }), 'completedAt')
        await refused(db.projectStates.find({ completedAt: { lt: outside } }), 'completedAt')
        await refused(db.projectStates.find({ completedAt: { in: [first, outside] } }), 'completedAt')
      }
      expect(await db.projectStates.count()).toBe(before)
    })

    it('(4) stores configuration values exactly, or refuses them naming the path', async () => {
      const { db } = ctx
      const cyclic: Record<string, unknown> = { a: 1 }
      cyclic.self = cyclic
      let deep: unknown = 1
      for (let i = 0; i < 100; i++) deep = [deep]
      const sparse = [1, 2, 3]
      delete sparse[1]
      const bad: [unknown, string][] = [
        [[1, NaN, 3], 'configurations.value[1] is NaN'],
        [{ x: Infinity }, 'configurations.value.x is Infinity'],
        [{ x: { y: -Infinity } }, 'configurations.value.x.y is -Infinity'],
        [{ at: new Date() }, 'configurations.value.at is a Date'],
        [{ n: 10n }, 'configurations.value.n is a bigint'],
        [cyclic, 'configurations.value.self refers to itself'],
        [deep, 'nests more than 64 levels deep'],
        [{ z: -0 }, 'configurations.value.z is -0'],
        [sparse, 'configurations.value[1] is a hole'],
        [{ u: undefined }, 'configurations.value.u is undefined'],
        [[undefined], 'configurations.value[0] is undefined'],
        [{ f: () => 1 }, 'configurations.value.f is a function'],
        [{ m: new Map([[1, 2]]) }, 'configurations.value.m is a Map'],
        [{ 'odd key': new Set() }, 'configurations.value["odd key"] is a Set'],
        [{ [Symbol('s')]: 1 }, 'has symbol keys'],
        [NaN, 'finite number'],
        [Infinity, 'finite number'],
      ]
      for (const [value, message] of bad) {
        const error = await refused(
          db.configurations.set('hostile.value', value as never, { category: 'T' }),
          'value',
        )
        expect(error.message).toContain(message)
      }
      expect(await db.configurations.get('hostile.value')).toBeNull()
      const good: unknown[] = [
        -0,
        2 ** 53 + 1,
        1e300,
        5e-324,
        -1.5e-300,
        [1, 2.5, -3],
        { nested: { list: [true, false, null, 'text'] } },
        { lone: '\ud800 and \udfff', nul: 'a\u0000b', rtl: 'مرحبا \u202e', nonchar: '\uffff\ufdd0' },
        JSON.parse('{"__proto__": {"polluted": true}, "constructor": 1}'),
        [],
        {},
        '',
        'plain text',
        true,
      ]
      for (const [i, value] of good.entries()) {
        await db.configurations.set(`good.${i}`, value as never, { category: 'T' })
        const back = await db.configurations.getValue(`good.${i}`)
        expect(Object.is(back, value) || JSON.stringify(back) === JSON.stringify(value)).toBe(true)
        if (typeof value === 'number') expect(Object.is(back, value)).toBe(true)
        else expect(back).toStrictEqual(value)
      }
      const project = await db.projectStates.add({ title: 'checkpoint data' })
      await refused(
        db.renderCheckpoints.save(project.id, 'Render', {
          completedScenes: 0,
          totalScenes: 1,
          data: { p: NaN },
        }),
        'checkpointData',
      )
    })

    it('(5) handles `in` lists of any length with one parameter, in linear time', async () => {
      const { db } = ctx
      const project = await db.projectStates.add({ title: `in-list "quoted", {braced} \\ ${d.name}` })
      const scene = await db.sceneStates.add({ projectId: project.id, sceneIndex: 0, durationSeconds: 0.1 })
      const n = 70_000
      const ids = Array.from(
        { length: n },
        (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      )
      ids[n / 2] = project.id
      const titles = ids.map((id) => `"${id}", {x} \\`)
      titles[7] = project.title
      const started = performance.now()
      expect((await db.projectStates.find({ id: { in: ids } })).map((p) => p.id)).toEqual([project.id])
      expect(await db.projectStates.count({ title: { in: titles } })).toBe(1)
      const ms = performance.now() - started
      // Before: quadratic in the length (11-19 s for 33,000 on SQLite), then a raw driver error.
      expect(ms).toBeLessThan(15_000)
      // Every kind of column takes a list.
      expect(await db.sceneStates.count({ id: { in: [scene.id] }, durationSeconds: { in: [0.1, 2] } })).toBe(
        1,
      )
      expect(await db.sceneStates.count({ projectId: project.id, isCompleted: { in: [false] } })).toBe(1)
      expect(await db.sceneStates.count({ projectId: project.id, sceneIndex: { in: [5, 0] } })).toBe(1)
      expect(await db.projectStates.count({ id: project.id, createdAt: { in: [project.createdAt] } })).toBe(1)
      expect(await db.projectStates.count({ id: { in: [] } })).toBe(0)
    })

    it('(6) refuses NUL and lone surrogates in a template tag search', async () => {
      const { db } = ctx
      for (const tags of ['a\u0000b', ['ok', 'nul\u0000'], '\ud83c', ['x', 'half \udc00']]) {
        await refused(db.customTemplates.search({ tags }), 'tags')
        await refused(db.templates.search({ tags }), 'tags')
      }
      expect(await db.customTemplates.search({ tags: 'nothing-like-it' })).toEqual([])
    })

    it('(7) refuses lone surrogates in text filters, as writes do', async () => {
      const { db } = ctx
      await db.projectStates.add({ title: 'contains \ufffd replacement' })
      for (const text of ['\ud800', 'a\udfffb', '\udc00\ud800']) {
        await refused(db.projectStates.find({ title: { contains: text } }), 'title')
        await refused(db.projectStates.find({ title: { startsWith: text } }), 'title')
        await refused(db.projectStates.find({ title: text }), 'title')
        await refused(db.projectStates.count({ title: { in: ['ok', text] } }), 'title')
      }
      // A well-formed pair is fine.
      expect(await db.projectStates.find({ title: { contains: '\ud83c\udfac' } })).toEqual([])
    })

    it('(12) refuses a scene, asset, checkpoint or version for a soft-deleted project; nothing is written', async () => {
      const { db } = ctx
      const project = await db.projectStates.add({ title: 'soon deleted' })
      await db.sceneStates.add({ projectId: project.id, sceneIndex: 0 })
      await db.projectStates.delete(project.id)
      const audits = await db.auditEntries.count()
      const attempts = [
        () => db.sceneStates.add({ projectId: project.id, sceneIndex: 1 }),
        () => db.sceneStates.addRange([{ projectId: project.id, sceneIndex: 2 }]),
        () => db.assetStates.add({ projectId: project.id, assetType: 'Image', filePath: '/a.png' }),
        () => db.renderCheckpoints.save(project.id, 'Render', { completedScenes: 0, totalScenes: 1 }),
        // A version row added directly, not through createVersion (which locks the live project).
        () => db.projectVersions.add({ projectId: project.id, versionNumber: 1, versionType: 'Manual' }),
        () =>
          db.transaction(async (uow) => {
            await uow.sceneStates.add({ projectId: project.id, sceneIndex: 3 })
          }),
      ]
      for (const attempt of attempts) {
        const error = await failure(attempt())
        expect(error).toBeInstanceOf(NotFoundError)
        expect((error as NotFoundError).table).toBe('project_states')
      }
      expect(await db.auditEntries.count()).toBe(audits)
      expect(await db.sceneStates.count({ projectId: project.id }, { includeDeleted: true })).toBe(1)
      expect(await db.assetStates.count({ projectId: project.id }, { includeDeleted: true })).toBe(0)
      // A project that does not exist at all is still the foreign key's refusal.
      const orphan = await failure(
        db.sceneStates.add({ projectId: '00000000-0000-4000-8000-00000000abcd', sceneIndex: 0 }),
      )
      expect(orphan).toBeInstanceOf(ConstraintError)
      // Restored, the project takes children again.
      await db.projectStates.restore(project.id)
      await db.sceneStates.add({ projectId: project.id, sceneIndex: 1 })
      expect(await db.sceneStates.count({ projectId: project.id })).toBe(2)
    })

    it('(13) verify counts the domain tables only, the same on both dialects', async () => {
      const report = await verifyDatabase(ctx.db)
      expect(report.ok).toBe(true)
      const schema = report.checks.find((c) => c.name === 'schema matches migrations')!
      expect(schema.detail).toMatch(new RegExp(`^${allTables.length} tables as migrated`))
    })

    it('turns a driver error no code describes into a DatabaseError (no raw error escapes)', async () => {
      if (d.name === 'sqlite') {
        // A statement on a handle closed under the library: a TypeError from better-sqlite3.
        const other = await openDatabase({ url: ctx.target.url })
        ;(other.dialect as unknown as { handle: { close(): void } }).handle.close()
        const error = await failure(other.projectStates.getAll())
        expect(error).toBeInstanceOf(DatabaseError)
        expect((error as DatabaseError).code).toBe('AURA_DATABASE')
        expect((error as Error & { cause?: unknown }).cause).toBeInstanceOf(Error)
        await other.close()
        return
      }
      // PostgreSQL: a statement timeout set on the server side (57014), while another session
      // holds a lock the statement waits for.
      const url = new URL(ctx.target.url)
      url.searchParams.set('options', '-c statement_timeout=200')
      const timed = await openDatabase({ url: url.toString() })
      const admin = new pg.Client({ connectionString: ctx.target.url })
      await admin.connect()
      try {
        await admin.query('begin')
        await admin.query('lock table project_states in access exclusive mode')
        const error = await failure(timed.projectStates.getAll())
        expect(error).toBeInstanceOf(AuraDataError)
        expect((error as AuraDataError).code).toBe('AURA_DATABASE')
        expect((error as { cause?: { code?: string } }).cause?.code).toBe('57014')
      } finally {
        await admin.query('rollback')
        await admin.end()
        await timed.close()
      }
    })
  })

  describe.skipIf(!d.available)(`${d.label}: backups of several databases in one directory`, () => {
    const a = useMigratedDatabase(d)
    const b = useMigratedDatabase(d)

    it('(10) retention counts and prunes only its own database; restore refuses the other one unless forced', async () => {
      const dir = join(a.target.dir, 'shared-backups')
      await a.db.projectStates.add({ title: 'database A' })
      await b.db.projectStates.add({ title: 'database B' })
      const onlyOfB = await b.db.backup({ dir, keep: 1 })
      const firstOfA = await a.db.backup({ dir })
      const secondOfA = await a.db.backup({ dir, keep: 1 })
      expect(secondOfA.pruned).toEqual([firstOfA.file])
      expect(
        listBackups(dir)
          .map((entry) => entry.file)
          .sort(),
      ).toEqual([onlyOfB.file, secondOfA.file].sort())
      const again = await b.db.backup({ dir, keep: 1 })
      expect(again.pruned).toEqual([onlyOfB.file])
      expect(existsSync(secondOfA.file)).toBe(true)

      await b.db.close()
      {
        const error = await failure(
          restoreDatabase({ url: b.target.url, file: basename(secondOfA.file), dir, yes: true }),
        )
        expect(error).toBeInstanceOf(BackupError)
        expect((error as Error).message).toContain('is a backup of another database')
        expect((error as Error).message).toContain('--force-other-database')
        const cli = await runCli([
          '--db',
          b.target.url,
          'restore',
          basename(secondOfA.file),
          '--dir',
          dir,
          '--yes',
        ])
        expect(cli.code).toBe(1)
        expect(cli.stderr).toContain('is a backup of another database')
        const forced = await runCli([
          '--db',
          b.target.url,
          'restore',
          basename(secondOfA.file),
          '--dir',
          dir,
          '--yes',
          '--force-other-database',
        ])
        expect(forced.stderr).toBe('')
        expect(forced.code).toBe(0)
      }
      const restored = await openDatabase({ url: b.target.url })
      try {
        expect((await restored.projectStates.getAll()).map((p) => p.title)).toEqual(['database A'])
      } finally {
        await restored.close()
      }
    })
  })

  describe.skipIf(!d.available || d.name !== 'sqlite')(`${d.label}: the database file on disk`, () => {
    it('(8) a process that opens the database while restore swaps it gets the restored file, not SQLITE_READONLY_DBMOVED', async () => {
      const target = await d.create()
      try {
        const db = await openDatabase({ url: target.url, migrate: true })
        await db.projectStates.add({ title: 'in the backup' })
        const dir = join(target.dir, 'backups')
        const backup = await db.backup({ dir })
        await db.projectStates.add({ title: 'after the backup' })
        await db.close()
        const restore = startChild('slow-restore', target.url, dir, basename(backup.file))
        try {
          await restore.until((lines) => lines.includes('held'))
          // Opening waits for restore's exclusive lock and meets the file restore just replaced
          // (SQLITE_READONLY_DBMOVED on its handle): it opens again, on the restored file.
          const late = await openDatabase({ url: target.url })
          expect((await late.projectStates.getAll()).map((p) => p.title)).toEqual(['in the backup'])
          // The write waits for the restore to finish: restore verifies the row counts after it
          // lets go of the file, so a write in between would fail that verification.
          await restore.until((lines) => lines.includes('restored'))
          await late.projectStates.add({ title: 'after the restore' })
          await late.close()
        } finally {
          await restore.kill()
        }
        const reopened = await openDatabase({ url: target.url })
        expect(
          (await reopened.projectStates.getAll({ orderBy: { createdAt: 'asc' } })).map((p) => p.title),
        ).toEqual(['in the backup', 'after the restore'])
        // A handle that still writes to the replaced file (one opened before the swap in
        // rollback-journal mode; restore's exclusive lock leaves no other way in) gets the typed,
        // retryable error. It cannot be staged deterministically, so the mapping is checked here.
        const moved = reopened.dialect.mapError(
          Object.assign(new Error('attempt to write a readonly database'), {
            code: 'SQLITE_READONLY_DBMOVED',
          }),
        )
        expect(moved).toBeInstanceOf(DatabaseReplacedError)
        expect(moved.code).toBe('AURA_REPLACED')
        expect(moved.retryable).toBe(true)
        expect(moved.message).toContain('open it again')
        await reopened.close()
      } finally {
        await target.drop()
      }
    })

    it('(9) restore removes the staging copies of killed restores, only those whose process is gone', async () => {
      const target = await d.create()
      try {
        const db = await openDatabase({ url: target.url, migrate: true })
        const dir = join(target.dir, 'backups')
        const backup = await db.backup({ dir })
        await db.close()
        const dead = deadPid()
        const stale = [`.tmp-aura-${dead}-0a1b2c3d4e5f.db`, `.tmp-aura-${dead}-0a1b2c3d4e5f.db-journal`]
        const kept = [
          `.tmp-aura-${process.pid}-aaaaaaaaaaaa.db`, // a live process (this one)
          `.tmp-aura-${dead}-bbbbbbbbbbbb.db.keep`, // not a temporary name
          `.tmp-aura-${dead}.db`,
          'aura.db.tmp-aura-1-cc.db',
        ]
        for (const name of [...stale, ...kept]) writeFileSync(join(target.dir, name), 'leftover')
        mkdirSync(join(target.dir, `.tmp-aura-${dead}-dddddddddddd.db`)) // a directory: never touched
        // And a real one: a restore killed (SIGKILL) after staging its copy.
        const killed = startChild('slow-restore', target.url, dir, basename(backup.file))
        await killed.until((lines) => lines.includes('held'))
        await killed.kill()
        const staging = readdirSync(target.dir).filter((name) =>
          name.startsWith(`.tmp-aura-${killed.process.pid}-`),
        )
        expect(staging).toHaveLength(1)
        await restoreDatabase({ url: target.url, file: basename(backup.file), dir, yes: true })
        const left = readdirSync(target.dir)
        for (const name of stale) expect(left).not.toContain(name)
        for (const name of staging) expect(left).not.toContain(name)
        for (const name of kept) expect(left).toContain(name)
        expect(left).toContain(`.tmp-aura-${dead}-dddddddddddd.db`)
      } finally {
        await target.drop()
      }
    })

    it('(11) status, list, verify and backups work on a read-only file and in a read-only directory', async () => {
      const target = await d.create()
      try {
        const db = await openDatabase({ url: target.url, migrate: true })
        await db.projectStates.add({ title: 'read only' })
        const backup = await db.backup()
        await db.close()
        const { chmodSync, chownSync } = await import('node:fs')
        // The backups stay readable by whoever runs the commands below.
        chmodSync(join(target.dir, 'backups'), 0o755)
        for (const file of [backup.file, backup.manifest]) chmodSync(file, 0o644)
        // Root may write anything: run the CLI as `nobody` then, who only may read.
        const asRoot = process.getuid?.() === 0
        const run = (args: string[]) => (asRoot ? runCliAs(args, 65534) : runCli(args))
        // 1. A file the user may read, not write, in a directory the user may write.
        chmodSync(target.dir, 0o755)
        chmodSync(target.file!, 0o444)
        if (asRoot) chownSync(target.dir, 65534, 65534)
        await expectLooksWork(run, target.url)
        // 2. A read-only directory (as a read-only mount is): nothing can be created beside it.
        // (In a writable directory, SQLite's read-only open of a WAL database made -wal and -shm;
        // on a read-only mount there are none.)
        for (const name of readdirSync(target.dir)) {
          if (name.endsWith('-shm') || name.endsWith('-wal')) rmSync(join(target.dir, name))
        }
        if (asRoot) chownSync(target.dir, 0, 0)
        else chmodSync(target.dir, 0o555)
        await expectLooksWork(run, target.url)
        // Writing is a clear StorageError, not "attempt to write a readonly database".
        const seed = await run(['--db', target.url, 'seed'])
        expect(seed.code).toBe(1)
        expect(seed.stderr).toMatch(/read-only|cannot be opened/)
        expect(seed.stderr).not.toContain('SQLITE_')
        chmodSync(target.dir, 0o700)
        chmodSync(target.file!, 0o600)
      } finally {
        await target.drop()
      }
    })
  })
}

async function expectLooksWork(
  run: (args: string[]) => Promise<{ code: number | null; stdout: string; stderr: string }>,
  url: string,
): Promise<void> {
  for (const command of ['status', 'list', 'verify', 'backups']) {
    const result = await run(['--db', url, '--json', command])
    expect(result.stderr, command).toBe('')
    expect(result.code, command).toBe(0)
    expect(() => JSON.parse(result.stdout) as unknown).not.toThrow()
  }
}

/** Runs the built CLI as another user (the test runs as root). */
async function runCliAs(args: readonly string[], uid: number) {
  const { spawn } = await import('node:child_process')
  const { BIN, ROOT } = await import('./cli-helpers.js')
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' }
    delete env.AURA_DATABASE_URL
    delete env.AURA_MIGRATIONS_DIR
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env,
      uid,
      gid: uid,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}
