import { copyFileSync, existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  BackupError,
  listBackups,
  openDatabase,
  restoreDatabase,
  UsageError,
  type BackupResult,
} from '../src/index.js'
import { copyMigrations } from './cli-helpers.js'
import { dialects, type TestDatabase } from './dialects.js'
import { dumpAll, plantBackup, PNG_BYTES, startChild, tree } from './backup-helpers.js'

const FUTURE_MIGRATION = '20991231000000_FutureFeature'

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: restore refuses a bad backup and touches nothing`, () => {
    let target: TestDatabase
    let dir: string
    let good: BackupResult
    let ext: string

    beforeAll(async () => {
      if (!d.available) return
      target = await d.create()
      dir = join(target.dir, 'backups')
      const db = await openDatabase({ url: target.url })
      await db.migrate()
      await db.dialect.kysely
        .insertInto('configurations')
        .values({ key: 'a', value: '1', category: 'c' })
        .execute()
      good = await db.backup({ dir })
      await db.dialect.kysely
        .insertInto('configurations')
        .values({ key: 'b', value: '2', category: 'c' })
        .execute()
      await db.close()
      ext = d.name === 'sqlite' ? '.db' : '.dump'
    })
    afterAll(async () => {
      await target?.drop()
    })

    /** Everything a refused restore must leave as it was: the live database (its bytes on SQLite) and the backup directory's other files. */
    async function fingerprint() {
      return {
        live: d.name === 'sqlite' ? tree(target.dir) : await dumpAll(target.url, d.name),
        safetyBackups: listBackups(dir).filter((b) => b.kind === 'safety'),
      }
    }

    async function expectRefused(file: string, message: RegExp): Promise<void> {
      const before = await fingerprint()
      const error = await restoreDatabase({ url: target.url, file, dir, yes: true }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(BackupError)
      expect((error as Error).message).toMatch(message)
      expect(await fingerprint()).toEqual(before)
    }

    it('a truncated backup', async () => {
      const bytes = readFileSync(good.file)
      const file = plantBackup(
        dir,
        `aura_backup_20000101_000000_001${ext}`,
        bytes.subarray(0, Math.floor(bytes.length / 2)),
        good.file,
      )
      await expectRefused(
        basename(file),
        // SQLite's header records the database size; a pg_dump archive ends before its data does.
        d.name === 'sqlite'
          ? /the file is truncated: it has \d+ bytes, its header says \d+/
          : /cannot be read completely/,
      )
    })

    it('a backup with one flipped byte', async () => {
      const bytes = Buffer.from(readFileSync(good.file))
      if (d.name === 'sqlite') {
        // The first byte of the schema table's b-tree page header; the manifest is made to match,
        // so it is SQLite's own check that must catch it.
        bytes[100] = bytes[100]! ^ 0xff
        const file = plantBackup(dir, `aura_backup_20000101_000000_002${ext}`, bytes, good.file)
        await expectRefused(basename(file), /the database is corrupt|fails integrity_check/)
      } else {
        // A pg_dump archive has no checksum of its own: the manifest's sha256 is what catches it.
        const file = join(dir, `aura_backup_20000101_000000_002${ext}`)
        bytes[Math.floor(bytes.length / 2)] = bytes[Math.floor(bytes.length / 2)]! ^ 0xff
        writeFileSync(file, bytes)
        writeFileSync(
          `${file}.json`,
          readFileSync(`${good.file}.json`, 'utf8').replace(basename(good.file), basename(file)),
        )
        await expectRefused(
          basename(file),
          /does not match its manifest: sha256 is [0-9a-f]{64}, the manifest says [0-9a-f]{64}/,
        )
      }
    })

    it('a PNG image renamed to a backup name', async () => {
      const file = plantBackup(dir, `aura_backup_20000101_000000_003${ext}`, PNG_BYTES, good.file)
      await expectRefused(
        basename(file),
        d.name === 'sqlite'
          ? /it is not a SQLite database \(the file does not start with the SQLite header\)/
          : /neither a pg_dump custom-format archive nor an Aura logical export/,
      )
    })

    it('an empty file', async () => {
      const file = plantBackup(dir, `aura_backup_20000101_000000_004${ext}`, Buffer.alloc(0), good.file)
      await expectRefused(basename(file), /the file is empty \(0 bytes\)/)
    })

    it('a backup that does not match its manifest, or has none', async () => {
      const file = join(dir, `aura_backup_20000101_000000_005${ext}`)
      copyFileSync(good.file, file)
      const manifest = JSON.parse(readFileSync(`${good.file}.json`, 'utf8'))
      writeFileSync(
        `${file}.json`,
        JSON.stringify({ ...manifest, file: basename(file), sha256: '0'.repeat(64) }),
      )
      await expectRefused(
        basename(file),
        /does not match its manifest: sha256 is [0-9a-f]{64}, the manifest says 0{64}/,
      )

      writeFileSync(
        `${file}.json`,
        JSON.stringify({ ...manifest, file: basename(file), sizeBytes: manifest.sizeBytes + 1 }),
      )
      await expectRefused(basename(file), /does not match its manifest: size is \d+, the manifest says \d+/)

      const bare = join(dir, `aura_backup_20000101_000000_006${ext}`)
      copyFileSync(good.file, bare)
      await expectRefused(basename(bare), /its manifest .* is missing/)
    })

    it('a backup from a newer schema, naming the migration this code does not know', async () => {
      const migrations = copyMigrations()
      writeFileSync(
        join(migrations, `${FUTURE_MIGRATION}.ts`),
        [
          "import type { Kysely } from 'kysely'",
          'export async function up(db: Kysely<any>): Promise<void> {',
          "  await db.schema.createTable('future_things').addColumn('id', 'integer', (c) => c.primaryKey()).execute()",
          '}',
          'export async function down(db: Kysely<any>): Promise<void> {',
          "  await db.schema.dropTable('future_things').execute()",
          '}',
        ].join('\n'),
      )
      const newer = await d.create()
      try {
        const db = await openDatabase({ url: newer.url, migrationsDir: migrations })
        await db.migrate()
        const backup = await db.backup({ dir })
        await db.close()
        expect(backup.migration).toBe(FUTURE_MIGRATION)
        await expectRefused(
          basename(backup.file),
          new RegExp(
            `taken from a newer schema: migration ${FUTURE_MIGRATION} is unknown to this version of the code`,
          ),
        )
      } finally {
        await newer.drop()
      }
    })

    it('names with "..", absolute paths outside the directory, quotes or NUL bytes, and symbolic links, before reading anything', async () => {
      // A genuine backup outside the backup directory, reachable by each of the hostile names.
      const outside = join(target.dir, basename(good.file))
      copyFileSync(good.file, outside)
      copyFileSync(`${good.file}.json`, `${outside}.json`)
      const link = join(dir, `aura_backup_20000101_000000_007${ext}`)
      symlinkSync(outside, link)
      symlinkSync(`${outside}.json`, `${link}.json`)
      const elsewhere = join(tmpdir(), `aura_backup_20000101_000000_008${ext}`)
      const hostile: [string, RegExp][] = [
        [`../${basename(good.file)}`, /contains a "\.\." path segment/],
        [`backups/../${basename(good.file)}`, /contains a "\.\." path segment/],
        ['../../../../etc/passwd', /contains a "\.\." path segment/],
        [outside, /outside the backup directory/],
        [elsewhere, /outside the backup directory/],
        ['/etc/passwd', /not a backup file name/],
        [`aura_backup_2000'0101_000000_000${ext}`, /contains a quote character/],
        [`aura_backup_"x"${ext}`, /contains a quote character/],
        [`${basename(good.file)}\0.png`, /contains a NUL byte/],
        [`aura_backup_20000101_000000_009${ext}\0`, /contains a NUL byte/],
        ['aura.db', /not a backup file name/],
        [basename(link), /it is a symbolic link, not a regular file/],
      ]
      for (const [name, message] of hostile) {
        const before = { ...(await fingerprint()), elsewhere: existsSync(elsewhere) }
        const error = await restoreDatabase({ url: target.url, file: name, dir, yes: true }).catch(
          (e: unknown) => e,
        )
        expect(error, JSON.stringify(name)).toBeInstanceOf(BackupError)
        expect((error as Error).message, JSON.stringify(name)).toMatch(message)
        expect({ ...(await fingerprint()), elsewhere: existsSync(elsewhere) }).toEqual(before)
      }
      // The printed name never carries the raw NUL byte.
      const nul = await restoreDatabase({ url: target.url, file: 'a\0b', dir, yes: true }).catch(
        (e: Error) => e,
      )
      expect((nul as Error).message).toContain('\\u0000')
      expect((nul as Error).message).not.toContain('\0')
    })

    it('without yes or a confirm callback (a usage error), and when the confirmation says no', async () => {
      await expect(restoreDatabase({ url: target.url, file: basename(good.file), dir })).rejects.toThrow(
        UsageError,
      )
      const before = await fingerprint()
      let asked: unknown = null
      await expect(
        restoreDatabase({
          url: target.url,
          file: basename(good.file),
          dir,
          confirm: (plan) => {
            asked = plan
            return false
          },
        }),
      ).rejects.toThrow(/Restore cancelled: nothing was changed/)
      expect(asked).toMatchObject({ file: good.file, migration: good.migration, safetyBackup: true })
      expect(await fingerprint()).toEqual(before)
    })

    it('while another process has the database open; once it is gone the restore goes through', async () => {
      const holder = startChild('holder', target.url)
      try {
        await holder.until((lines) => lines.includes('ready'))
        const before = d.name === 'sqlite' ? listBackups(dir) : null
        await expect(
          restoreDatabase({ url: target.url, file: basename(good.file), dir, yes: true }),
        ).rejects.toThrow(
          d.name === 'sqlite'
            ? /another process has the database open \(its lock is held/
            : /another process has the database open \(\d+ other session\(s\)/,
        )
        if (before) expect(listBackups(dir)).toEqual(before)
      } finally {
        await holder.kill()
      }
      // PostgreSQL notices a closed session a moment after its process died.
      for (let i = 0; ; i++) {
        try {
          const result = await restoreDatabase({ url: target.url, file: basename(good.file), dir, yes: true })
          expect(result.safetyBackup).not.toBeNull()
          break
        } catch (error) {
          if (i > 50 || !/another process/.test((error as Error).message)) throw error
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      }
      if (d.name === 'sqlite') {
        // No stale WAL or shared-memory file was left beside the restored database, nor a staging copy.
        expect(readdirSync(target.dir).filter((name) => /^aura\.db-|^\.tmp-aura-/.test(name))).toEqual([])
      }
      const db = await openDatabase({ url: target.url })
      try {
        const keys = await db.dialect.kysely
          .selectFrom('configurations')
          .select('key')
          .orderBy('key')
          .execute()
        expect(keys.map((k) => k.key)).toEqual(['a'])
      } finally {
        await db.close()
      }
    })
  })
}
