import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { importEfDatabase, openDatabase, type AuraDatabase } from '../src/index.js'
import { ROOT } from './cli-helpers.js'
import { dialects, type TestDatabase } from './dialects.js'
import { buildLegacyDatabase } from './legacy-fixture.js'

const SECRET = randomBytes(32).toString('base64')
const LIBRARY = join(ROOT, 'dist', 'src', 'index.js')

/** Runs an ES module in a child Node process with `env`; resolves with its exit signal or code. */
function runNode(
  source: string,
  env: Record<string, string>,
): { child: ChildProcess; done: Promise<string> } {
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const done = new Promise<string>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? String(code))),
  )
  return { child, done }
}

/** The private copies an import with `pid` made in `dir`. */
const copiesOf = (dir: string, pid: number) =>
  readdirSync(dir).filter((name) => name.startsWith(`aura-legacy-${pid}-`))

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.name}: import ef reads the legacy file safely`, () => {
    let target: TestDatabase
    let db: AuraDatabase
    let tmp: string
    let savedTmp: string | undefined

    beforeEach(async () => {
      target = await d.create()
      db = await openDatabase({ url: target.url, actor: 'importer', secretKey: SECRET, migrate: true })
      // A TMPDIR of our own: the copies counted are this test's only.
      tmp = join(target.dir, 'tmp')
      mkdirSync(tmp)
      savedTmp = process.env.TMPDIR
      process.env.TMPDIR = tmp
    })
    afterEach(async () => {
      if (savedTmp === undefined) delete process.env.TMPDIR
      else process.env.TMPDIR = savedTmp
      await db?.close()
      await target?.drop()
    })

    it('a killed import leaves no private copy on disk, one killed while copying is removed by the next; none while writing', async () => {
      const file = join(target.dir, 'legacy-aura.db')
      buildLegacyDatabase(file)
      // Killed (as by kill -9) while reading its tables: after the copy was made and opened (the
      // hash and copy phases report progress too, so the first event is too early). The copy
      // left the disk when it was opened; the kernel freed it with the process.
      const killed = runNode(
        `import { importEfDatabase, openDatabase } from ${JSON.stringify(LIBRARY)}
         const db = await openDatabase({ url: ${JSON.stringify(target.url)}, secretKey: ${JSON.stringify(SECRET)} })
         await importEfDatabase(db, ${JSON.stringify(file)}, { onProgress: (p) => { if (p.phase === 'read') process.kill(process.pid, 'SIGKILL') } })`,
        { TMPDIR: tmp },
      )
      expect(await killed.done).toBe('SIGKILL')
      expect(copiesOf(tmp, killed.child.pid!)).toEqual([])
      // Killed while copying (before the copy is opened): its directory stays, for the next import.
      mkdirSync(join(tmp, `aura-legacy-${killed.child.pid!}-Xy12Ab`))
      copyFileSync(file, join(tmp, `aura-legacy-${killed.child.pid!}-Xy12Ab`, 'legacy.db'))
      expect(copiesOf(tmp, killed.child.pid!)).toHaveLength(1)

      const copiesWhileWriting: string[][] = []
      const report = await importEfDatabase(db, file, {
        onProgress: (p) => {
          if (p.phase === 'write') copiesWhileWriting.push(copiesOf(tmp, process.pid))
        },
      })
      expect(report.ok).toBe(true)
      expect(copiesWhileWriting.length).toBeGreaterThan(0)
      expect(copiesWhileWriting.flat()).toEqual([])
      expect(readdirSync(tmp)).toEqual([])
    })

    it('an import killed while writing (rows of a table inserted) leaves nothing written; the next one imports', async () => {
      const file = join(target.dir, 'legacy-aura.db')
      buildLegacyDatabase(file)
      const killed = runNode(
        `import { importEfDatabase, openDatabase } from ${JSON.stringify(LIBRARY)}
         const db = await openDatabase({ url: ${JSON.stringify(target.url)}, secretKey: ${JSON.stringify(SECRET)} })
         await importEfDatabase(db, ${JSON.stringify(file)}, { onProgress: (p) => { if (p.phase === 'write' && p.done > 0) process.kill(process.pid, 'SIGKILL') } })`,
        { TMPDIR: tmp },
      )
      expect(await killed.done).toBe('SIGKILL')
      expect(await db.projectStates.count({}, { includeDeleted: true })).toBe(0)
      expect(await db.auditEntries.count({ action: 'import' })).toBe(0)
      const report = await importEfDatabase(db, file)
      expect(report.ok).toBe(true)
      expect(await db.projectStates.count({}, { includeDeleted: true })).toBe(3)
    })

    it('imports a consistent snapshot while the app writes to the file in WAL mode', async () => {
      const file = join(target.dir, 'legacy-aura.db')
      buildLegacyDatabase(file)
      // The app, busier than the real one: small commits in a loop; every 1,000 pages (SQLite's
      // default) a checkpoint, after which the next commit restarts the -wal.
      const app = runNode(
        `import Database from 'better-sqlite3'
         const db = new Database(${JSON.stringify(file)})
         db.pragma('journal_mode = WAL')
         const insert = db.prepare('insert into MediaItems (Id, Path) values (?, ?)')
         for (let i = 0; ; i++) insert.run('m' + i, 'x'.repeat(200))`,
        {},
      )
      try {
        // Until the file is large enough for a copy to take a while.
        while (statSync(file).size < 8 * 1024 * 1024) await new Promise((r) => setTimeout(r, 10))
        for (let i = 0; i < 15; i++) {
          const dry = await importEfDatabase(db, file, { dryRun: true })
          expect(dry.ok).toBe(true)
        }
        const report = await importEfDatabase(db, file)
        expect(report.ok).toBe(true)
        expect(report.notImported.find((t) => t.table === 'MediaItems')!.rows).toBeGreaterThan(2)
      } finally {
        app.child.kill('SIGKILL')
        await app.done
      }
      expect(await db.projectStates.count({}, { includeDeleted: true })).toBe(3)
    })

    it('imports a file over 2 GiB whose bulk is a table it does not import', async () => {
      const file = join(target.dir, 'legacy-aura.db')
      buildLegacyDatabase(file)
      const legacy = new Database(file)
      // A media library of 2.1 GiB: zeroblobs are written as pages of zeros, quickly.
      legacy.pragma('journal_mode = DELETE')
      legacy.pragma('synchronous = OFF')
      const insert = legacy.prepare('insert into MediaItems (Id, Path) values (?, zeroblob(?))')
      legacy.transaction(() => {
        for (let i = 0; i < 21; i++) insert.run(`big-${i}`, 100 * 1024 * 1024)
      })()
      legacy.close()
      expect(statSync(file).size).toBeGreaterThan(2 ** 31)
      try {
        const report = await importEfDatabase(db, file)
        expect(report.ok).toBe(true)
        expect(report.notImported).toContainEqual({ table: 'MediaItems', rows: 23 })
        expect(report.source.sha256).toMatch(/^[0-9a-f]{64}$/)
        expect(await db.projectStates.count({}, { includeDeleted: true })).toBe(3)
      } finally {
        rmSync(file, { force: true })
      }
      expect(existsSync(file)).toBe(false)
    })
  })
}
