import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { basename, join } from 'node:path'
import { sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  BackupError,
  listBackups,
  openDatabase,
  restoreDatabase,
  ValidationError,
  verifyDatabase,
  type BackupResult,
} from '../src/index.js'
import { dialects, type TestDatabase } from './dialects.js'
import { dumpAll, numbered, oneTo, sha256, startChild, tree, type Child } from './backup-helpers.js'

const BACKUP_NAME = /^aura_(backup|pre_restore)_\d{8}_\d{6}_\d{3}\.(db|dump)(\.json)?$/

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: backup`, () => {
    let target: TestDatabase
    let dir: string
    const children: Child[] = []
    const extras: TestDatabase[] = []

    beforeEach(async () => {
      target = await d.create()
      dir = join(target.dir, 'backups')
      const db = await openDatabase({ url: target.url })
      await db.migrate()
      await db.close()
    })
    afterEach(async () => {
      for (const child of children.splice(0)) await child.kill()
      for (const extra of extras.splice(0)) await extra.drop()
      await target.drop()
    })

    it('a backup taken while another process commits numbered transactions holds a gap-free prefix, verifies and matches its manifest; restoring it, then its safety backup, gives back each state exactly', async () => {
      const writer = startChild('writer', target.url)
      children.push(writer)
      await writer.until((lines) => lines.length >= 30)
      const startedAt = writer.lastNumber()

      const db = await openDatabase({ url: target.url })
      let backup: BackupResult
      try {
        backup = await db.backup({ dir })
      } finally {
        await db.close()
      }
      const endedAt = writer.lastNumber()
      // Writers kept committing during and after the backup.
      await writer.until((lines) => lines.length >= endedAt + 30)
      await writer.kill()

      // The file matches its manifest, which describes it.
      const bytes = readFileSync(backup.file)
      const manifest = JSON.parse(readFileSync(`${backup.file}.json`, 'utf8'))
      expect(basename(backup.file)).toMatch(
        d.name === 'sqlite' ? /^aura_backup_\d{8}_\d{6}_\d{3}\.db$/ : /\.dump$/,
      )
      expect(manifest).toMatchObject({
        file: basename(backup.file),
        sha256: sha256(bytes),
        sizeBytes: bytes.length,
        createdAt: backup.createdAt,
        migration: backup.migration,
      })
      expect(backup.migration).toMatch(/^\d{14}_/)
      expect(statSync(backup.file).mode & 0o777).toBe(0o600)
      expect(statSync(dir).mode & 0o777).toBe(0o700)
      expect(listBackups(dir)).toEqual([
        expect.objectContaining({ file: backup.file, verified: true, kind: 'regular' }),
      ])
      expect(readdirSync(dir).every((name) => BACKUP_NAME.test(name))).toBe(true)

      // What it holds: restored into a fresh database, exactly transactions 1..k, both rows of each.
      const fresh = await d.create()
      extras.push(fresh)
      // Another database's backup: the fresh one must be told so.
      await restoreDatabase({ url: fresh.url, file: backup.file, dir, yes: true, forceOtherDatabase: true })
      const copy = await openDatabase({ url: fresh.url })
      try {
        const { audit, configurations } = await numbered(copy)
        const k = audit.length
        expect(k).toBeGreaterThanOrEqual(startedAt)
        // Transactions committed after the backup (at least 30 of them) are not in it.
        expect(k).toBeLessThan(writer.lastNumber() - 29)
        expect(audit).toEqual(oneTo(k))
        expect(configurations).toEqual(oneTo(k))
        expect(manifest.rowCounts.audit_entries).toBe(k)
        expect(manifest.rowCounts.configurations).toBe(k)
        const report = await verifyDatabase(copy)
        expect(report.checks.filter((c) => !c.ok)).toEqual([])
        if (d.name === 'sqlite') expect(report.checks.map((c) => c.name)).toContain('integrity_check')
      } finally {
        await copy.close()
      }

      // Restore the backup over the live database, then the safety backup: each state comes back exactly.
      const liveState = await dumpAll(target.url, d.name)
      const backupState = await dumpAll(fresh.url, d.name)
      expect(liveState.audit_entries!.length).toBeGreaterThan(backupState.audit_entries!.length)

      const first = await restoreDatabase({ url: target.url, file: backup.file, dir, yes: true })
      expect(first.restored).toBe(backup.file)
      expect(first.safetyBackup).toMatch(/aura_pre_restore_\d{8}_\d{6}_\d{3}\.(db|dump)$/)
      expect(await dumpAll(target.url, d.name)).toEqual(backupState)

      const second = await restoreDatabase({ url: target.url, file: first.safetyBackup!, dir, yes: true })
      expect(await dumpAll(target.url, d.name)).toEqual(liveState)
      expect(second.safetyBackup).not.toBe(first.safetyBackup)

      // The restored database is fully usable: a new transaction gets the next key.
      const db2 = await openDatabase({ url: target.url })
      try {
        const row = await db2.dialect.kysely
          .insertInto('audit_entries')
          .values({
            occurred_at: db2.dialect.encode('timestamp', new Date()),
            table_name: 'after',
            row_id: 'x',
            action: 'insert',
          })
          .returning('id')
          .executeTakeFirstOrThrow()
        const ids = liveState.audit_entries!.map((json) => Number(JSON.parse(json).id))
        expect(Number(row.id)).toBeGreaterThan(Math.max(...ids))
      } finally {
        await db2.close()
      }
    })

    it('eight backups with keep 5 leave exactly the five newest; retention never touches safety backups', async () => {
      const db = await openDatabase({ url: target.url })
      const results: BackupResult[] = []
      try {
        for (let i = 0; i < 8; i++) results.push(await db.backup({ dir, keep: 5 }))
      } finally {
        await db.close()
      }
      const regular = listBackups(dir).filter((b) => b.kind === 'regular')
      expect(regular.map((b) => b.file)).toEqual(
        results
          .slice(3)
          .map((r) => r.file)
          .reverse(),
      )
      expect(results.flatMap((r) => r.pruned)).toEqual(results.slice(0, 3).map((r) => r.file))
      for (const old of results.slice(0, 3)) {
        expect(existsSync(old.file)).toBe(false)
        expect(existsSync(`${old.file}.json`)).toBe(false)
      }
      expect(regular.every((b) => b.verified)).toBe(true)

      // A restore's safety backup is not a regular backup: keep 1 leaves it alone.
      await restoreDatabase({ url: target.url, file: results[7]!.file, dir, yes: true })
      const db2 = await openDatabase({ url: target.url })
      try {
        await db2.backup({ dir, keep: 1 })
      } finally {
        await db2.close()
      }
      const after = listBackups(dir)
      expect(after.filter((b) => b.kind === 'regular')).toHaveLength(1)
      expect(after.filter((b) => b.kind === 'safety')).toHaveLength(1)
    })

    it('listBackups reports verified: false for a backup whose manifest is missing or does not match it', async () => {
      const db = await openDatabase({ url: target.url })
      let intact: string
      try {
        intact = (await db.backup({ dir })).file
      } finally {
        await db.close()
      }
      const manifest = JSON.parse(readFileSync(`${intact}.json`, 'utf8'))
      // Copies of the backup under other backup names (other milliseconds than its own, which may
      // be any of 000–999), each with its own (correct) manifest.
      const own = Number(/_(\d{3})\./.exec(basename(intact))![1])
      const millis = [1, 2, 3, 4, 5, 6].filter((ms) => ms !== own).slice(0, 5)
      const [missing, size, other, broken, incomplete] = millis.map((ms) => {
        const file = join(dir, basename(intact).replace(/_\d{3}\./, `_${String(ms).padStart(3, '0')}.`))
        expect(file).not.toBe(intact)
        copyFileSync(intact, file)
        writeFileSync(`${file}.json`, JSON.stringify({ ...manifest, file: basename(file) }))
        return file
      }) as [string, string, string, string, string]
      expect(listBackups(dir).map((b) => b.verified)).toEqual([true, true, true, true, true, true])

      rmSync(`${missing}.json`)
      writeFileSync(
        `${size}.json`,
        JSON.stringify({ ...manifest, file: basename(size), sizeBytes: manifest.sizeBytes + 1 }),
      )
      writeFileSync(`${other}.json`, JSON.stringify(manifest))
      writeFileSync(`${broken}.json`, '{"file": ')
      const { sha256: _dropped, ...withoutHash } = manifest
      writeFileSync(`${incomplete}.json`, JSON.stringify({ ...withoutHash, file: basename(incomplete) }))

      const listed = new Map(listBackups(dir).map((b) => [b.file, b]))
      expect(listed.get(intact)).toMatchObject({ verified: true, manifest })
      for (const file of [missing, size, other, broken, incomplete]) {
        expect(listed.get(file)?.verified, basename(file)).toBe(false)
      }
      expect(listed.get(missing)?.manifest).toBeNull()
      expect(listed.get(broken)?.manifest).toBeNull()
    })

    it('a failed backup deletes nothing and leaves no file behind', async () => {
      const db = await openDatabase({ url: target.url })
      try {
        for (let i = 0; i < 3; i++) await db.backup({ dir, keep: 3 })
        await expect(db.backup({ dir, keep: 0 })).rejects.toThrow(ValidationError)
      } finally {
        await db.close()
      }
      const before = tree(dir)
      expect(Object.keys(before)).toHaveLength(6)

      const restorePath = process.env.PATH
      if (d.name === 'sqlite') {
        // Damage a table's root page in the live file: the backup copies it and its verification fails.
        const probe = await openDatabase({ url: target.url })
        const { rootpage } = (
          await sql<{
            rootpage: number
          }>`select rootpage from sqlite_schema where name = 'audit_entries'`.execute(probe.dialect.kysely)
        ).rows[0]!
        const pageSize = (await sql<{ page_size: number }>`pragma page_size`.execute(probe.dialect.kysely))
          .rows[0]!.page_size
        await probe.close()
        const file = readFileSync(target.file!)
        file[(rootpage - 1) * pageSize] = 0x00
        writeFileSync(target.file!, file)
      } else {
        // PostgreSQL: pg_dump dies half-way (a stand-in executable on PATH writes a partial archive
        // and exits 1, as a pg_dump losing its connection would); the database itself is real.
        const bin = join(target.dir, 'bin')
        mkdirSync(bin)
        writeFileSync(
          join(bin, 'pg_dump'),
          [
            '#!/bin/sh',
            'if [ "$1" = "--version" ]; then echo "pg_dump (PostgreSQL) 99.0"; exit 0; fi',
            'for a in "$@"; do case "$a" in --file=*) printf PGDMP > "${a#--file=}";; esac; done',
            'echo "pg_dump: error: connection to server lost" >&2',
            'exit 1',
          ].join('\n'),
        )
        chmodSync(join(bin, 'pg_dump'), 0o755)
        process.env.PATH = `${bin}:${restorePath}`
      }
      const db2 = await openDatabase({ url: target.url })
      try {
        const failure = await db2.backup({ dir, keep: 1 }).catch((error: unknown) => error)
        expect(failure).toBeInstanceOf(BackupError)
        expect((failure as Error).message).toMatch(
          d.name === 'sqlite' ? /Backup failed: the new backup did not verify/ : /pg_dump failed \(exit 1\)/,
        )
      } finally {
        process.env.PATH = restorePath
        await db2.close()
      }
      expect(tree(dir)).toEqual(before)
    })

    it('kill -9 of a backup in progress leaves no file under a backup name; the next backup clears its leftovers', async () => {
      const stalled = startChild('stalled-backup', target.url, dir)
      children.push(stalled)
      await stalled.until((lines) => lines.includes('copying'))
      expect(readdirSync(dir).some((name) => name.startsWith('.tmp-aura-'))).toBe(true)
      await stalled.kill()

      expect(readdirSync(dir).filter((name) => BACKUP_NAME.test(name))).toEqual([])
      expect(listBackups(dir)).toEqual([])

      const db = await openDatabase({ url: target.url })
      try {
        const backup = await db.backup({ dir })
        expect(readdirSync(dir).sort()).toEqual(
          [basename(backup.file), `${basename(backup.file)}.json`].sort(),
        )
      } finally {
        await db.close()
      }
    })

    it('refuses backup directories with a NUL byte before writing anything', async () => {
      const db = await openDatabase({ url: target.url })
      try {
        await expect(db.backup({ dir: join(target.dir, 'a\0b') })).rejects.toThrow(/NUL byte/)
      } finally {
        await db.close()
      }
      expect(existsSync(dir)).toBe(false)
    })
  })
}

describe.skipIf(!dialects[1]!.available)('postgres: the logical export (no pg_dump on PATH)', () => {
  let target: TestDatabase
  beforeEach(async () => {
    target = await dialects[1]!.create()
  })
  afterEach(async () => {
    await target.drop()
  })

  it('backs up and restores exactly, in one transaction, without the PostgreSQL client tools', async () => {
    const dir = join(target.dir, 'backups')
    const db = await openDatabase({ url: target.url })
    await db.migrate()
    const now = new Date()
    await db.dialect.kysely
      .insertInto('audit_entries')
      .values(
        oneTo(1500).map((n) => ({
          occurred_at: now,
          table_name: 'numbered',
          row_id: String(n),
          action: 'insert',
          changes_json: `{"n":${n},"s":"é\\n\\"q\\""}`,
        })),
      )
      .execute()
    await db.dialect.kysely
      .insertInto('configurations')
      .values({ key: 'k', value: 'line1\nline2\t"x"', category: 'c' })
      .execute()
    // Microseconds survive the export (JavaScript dates would round them to milliseconds).
    await sql`update audit_entries set occurred_at = '2025-01-02T03:04:05.123456Z' where row_id = '1'`.execute(
      db.dialect.kysely,
    )
    const restorePath = process.env.PATH
    process.env.PATH = join(target.dir, 'empty-bin')
    try {
      const backup = await db.backup({ dir })
      await db.close()
      const manifest = JSON.parse(readFileSync(`${backup.file}.json`, 'utf8'))
      expect(manifest.format).toBe('aura-logical-v1')
      expect(manifest.rowCounts.audit_entries).toBe(1500)
      const state = await dumpAll(target.url, 'postgres')

      const db2 = await openDatabase({ url: target.url })
      await db2.dialect.kysely.deleteFrom('audit_entries').where('row_id', '>', '5').execute()
      await db2.close()

      const restored = await restoreDatabase({ url: target.url, file: backup.file, dir, yes: true })
      expect(await dumpAll(target.url, 'postgres')).toEqual(state)
      const safety = JSON.parse(readFileSync(`${restored.safetyBackup}.json`, 'utf8'))
      expect(safety.format).toBe('aura-logical-v1')

      // The identity sequence came back too: the next entry gets the next id.
      const db3 = await openDatabase({ url: target.url })
      const row = await db3.dialect.kysely
        .insertInto('audit_entries')
        .values({ occurred_at: now, table_name: 'after', row_id: 'x', action: 'insert' })
        .returning('id')
        .executeTakeFirstOrThrow()
      await db3.close()
      expect(Number(row.id)).toBe(1501)

      // A truncated export is refused before anything is touched.
      const bytes = readFileSync(backup.file)
      const cut = join(dir, 'aura_backup_20000101_000000_000.dump')
      writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)))
      writeFileSync(
        `${cut}.json`,
        JSON.stringify({
          ...manifest,
          file: basename(cut),
          sha256: sha256(bytes.subarray(0, Math.floor(bytes.length / 2))),
          sizeBytes: Math.floor(bytes.length / 2),
        }),
      )
      const before = await dumpAll(target.url, 'postgres')
      await expect(restoreDatabase({ url: target.url, file: basename(cut), dir, yes: true })).rejects.toThrow(
        /cannot be read completely/,
      )
      expect(await dumpAll(target.url, 'postgres')).toEqual(before)
      rmSync(cut)
    } finally {
      process.env.PATH = restorePath
    }
  })
})
