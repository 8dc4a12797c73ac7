import Database from 'better-sqlite3'
import { copyFileSync, existsSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DatabaseReplacedError, openDatabase, type AuraDatabase } from '../src/index.js'
import { sqlite, type TestDatabase } from './dialects.js'

/**
 * A SQLite file deleted or replaced under an open database (another tool, a careless script, a
 * sync client): writes are refused with a typed error instead of being acknowledged and lost,
 * or written into the new file and corrupting it.
 */
describe('sqlite: the database file deleted or replaced while open', () => {
  let target: TestDatabase
  let db: AuraDatabase

  beforeEach(async () => {
    target = await sqlite.create()
    db = await openDatabase({ url: target.url, migrate: true })
    await db.projectStates.add({ title: 'Before' })
  })
  afterEach(async () => {
    await db.close()
    await target.drop()
  })

  function removeFile(path: string): void {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true })
  }

  it('deleted: the next write is a DatabaseReplacedError, never an acknowledged write that is lost', async () => {
    removeFile(target.file!)
    await expect(db.projectStates.add({ title: 'Lost?' })).rejects.toBeInstanceOf(DatabaseReplacedError)
    await expect(
      db.transaction(async (uow) => {
        await uow.projectStates.add({ title: 'Lost too?' })
      }),
    ).rejects.toBeInstanceOf(DatabaseReplacedError)
    expect(existsSync(target.file!)).toBe(false)
  })

  it('replaced by another database: writes are refused and the new file stays intact, without them', async () => {
    const other = join(target.dir, 'other.db')
    // A consistent copy of the database as it is (one project), made aside and renamed over it.
    const copy = new Database(target.file!)
    await copy.backup(other)
    copy.close()
    removeFile(target.file!)
    renameSync(other, target.file!)
    await expect(db.projectStates.add({ title: 'Into the new file?' })).rejects.toBeInstanceOf(
      DatabaseReplacedError,
    )
    const reopened = await openDatabase({ url: target.url })
    try {
      expect((await reopened.projectStates.find({})).map((p) => p.title)).toEqual(['Before'])
      const integrity = new Database(target.file!, { readonly: true })
      expect(integrity.pragma('integrity_check', { simple: true })).toBe('ok')
      integrity.close()
      // The reopened handle writes to the new file as usual.
      await reopened.projectStates.add({ title: 'After reopening' })
      expect(await reopened.projectStates.count({})).toBe(2)
    } finally {
      await reopened.close()
    }
  })

  it('replaced while a unit of work is open: its commit is refused and nothing of it is anywhere', async () => {
    const uow = await db.beginUnitOfWork()
    await uow.projectStates.add({ title: 'In the unit' })
    const aside = join(target.dir, 'aside.db')
    copyFileSync(target.file!, aside)
    renameSync(aside, target.file!)
    await expect(uow.commit()).rejects.toBeInstanceOf(DatabaseReplacedError)
    await uow.rollback()
    const reopened = await openDatabase({ url: target.url })
    try {
      expect(await reopened.projectStates.count({ title: 'In the unit' })).toBe(0)
    } finally {
      await reopened.close()
    }
  })
})
