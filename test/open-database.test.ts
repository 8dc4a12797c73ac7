import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterAll, describe, expect, it } from 'vitest'
import { IntegrityError, openDatabase, UsageError } from '../src/index.js'
import { dialects, dropPostgresDatabase, type TestDatabase } from './dialects.js'

const scratch = mkdtempSync(join(tmpdir(), 'aura-open-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex')

describe('sqlite: opening a database file', () => {
  it('creates the directory 0700 and the file 0600, with WAL, synchronous=FULL and foreign keys', async () => {
    const dir = join(scratch, 'fresh', 'nested')
    const file = join(dir, 'aura.db')
    const db = await openDatabase({ url: `sqlite:${file}` })
    try {
      expect(statSync(dir).mode & 0o777).toBe(0o700)
      expect(statSync(file).mode & 0o777).toBe(0o600)
      const pragma = async (name: string) =>
        Object.values((await sql.raw(`pragma ${name}`).execute(db.dialect.kysely)).rows[0] as object)[0]
      expect(await pragma('journal_mode')).toBe('wal')
      expect(await pragma('synchronous')).toBe(2)
      expect(await pragma('foreign_keys')).toBe(1)
      expect(Number(await pragma('busy_timeout'))).toBeGreaterThanOrEqual(5000)
    } finally {
      await db.close()
    }
  })

  it.each([
    ['a text file', Buffer.from('this is not a database\n'.repeat(100))],
    [
      'a PNG',
      Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(4096, 7)]),
    ],
    [
      'a SQLite header over garbage',
      Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(8192, 0xab)]),
    ],
  ])('refuses %s with IntegrityError and leaves it byte-identical', async (_name, bytes) => {
    const file = join(scratch, `not-a-db-${Math.random()}.db`)
    writeFileSync(file, bytes)
    const before = sha(file)
    const error = await openDatabase({ url: `sqlite:${file}` }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(IntegrityError)
    expect((error as Error).message).toContain('left untouched')
    expect(sha(file)).toBe(before)
    expect(() => statSync(`${file}-wal`)).toThrow()
  })

  it('rejects an unsupported URL with a UsageError that does not print the password', async () => {
    const error = await openDatabase({ url: 'mysql://root:hunter2@localhost/db' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UsageError)
    expect((error as Error).message).toContain('sqlite:')
    const pgError = await openDatabase({ url: 'postgresx://u:hunter2@h/db' }).catch((e: unknown) => e)
    expect((pgError as Error).message).not.toContain('hunter2')
  })
})

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: pending migrations`, () => {
    it('refuses the data API on an unmigrated database, naming the pending migrations', async () => {
      const target = await d.create()
      const db = await openDatabase({ url: target.url })
      try {
        const error = await db.projectStates.count().catch((e: unknown) => e)
        expect(error).toBeInstanceOf(UsageError)
        expect((error as Error).message).toContain('InitialCreate')
        await expect(db.beginUnitOfWork()).rejects.toBeInstanceOf(UsageError)
        await db.migrate()
        expect(await db.projectStates.count()).toBe(0)
      } finally {
        await db.close()
        await target.drop()
      }
    })

    it('migrates while opening when asked to, and refuses use after close', async () => {
      const target = await d.create()
      const db = await openDatabase({ url: target.url, migrate: true })
      try {
        expect((await db.status()).pending).toEqual([])
        expect(await db.projectStates.count()).toBe(0)
      } finally {
        await db.close()
        await target.drop()
      }
      await expect(db.projectStates.count()).rejects.toBeInstanceOf(UsageError)
    })
  })
}

/** A URL of a database that does not exist yet, on the server or in the folder of `target`. */
function missingBeside(target: TestDatabase): string {
  return target.file === null
    ? target.url.replace(/\/([^/]+)$/, '/$1_opened_later')
    : `sqlite:${join(target.dir, 'later', 'aura.db')}`
}

// The API doc says openDatabase creates a missing database: on PostgreSQL it did not, and the error
// spoke of the CLI's --db to a library user (issue 23, item 4).
for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.name}: opening a database that does not exist`, () => {
    it('creates it by default, ready to migrate and use', async () => {
      const target = await d.create()
      const url = missingBeside(target)
      try {
        const db = await openDatabase({ url, migrate: true })
        try {
          const project = await db.projectStates.add({ title: 'First' })
          expect((await db.projectStates.getById(project.id))?.title).toBe('First')
        } finally {
          await db.close()
        }
        // Opening it again finds it: nothing is created twice.
        const again = await openDatabase({ url })
        try {
          expect(await again.projectStates.count()).toBe(1)
        } finally {
          await again.close()
        }
      } finally {
        if (d.name === 'postgres') await dropPostgresDatabase(url)
        await target.drop()
      }
    })

    it('with create: false, refuses with a UsageError that speaks to a library user', async () => {
      const target = await d.create()
      try {
        const error = await openDatabase({ url: missingBeside(target), create: false })
          .then((db) => db.migrate().finally(() => db.close()))
          .catch((e: unknown) => e)
        expect(error).toBeInstanceOf(UsageError)
        expect((error as Error).message).toMatch(/does not exist/)
        expect((error as Error).message).toMatch(/create: true/)
        expect((error as Error).message).not.toMatch(/--db/)
      } finally {
        await target.drop()
      }
    })
  })
}
