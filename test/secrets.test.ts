import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterEach, describe, expect, it } from 'vitest'
import {
  IntegrityError,
  openDatabase,
  secretKeyId,
  UsageError,
  type AuraDatabase,
  type OpenDatabaseOptions,
} from '../src/index.js'
import { libraryDialects as dialects, type TestDatabase } from './dialects.js'

/** Distinctive plaintexts: a hit in raw bytes can only come from them. */
const SECRET = 'sk-live-PLAINTEXT-4f9c2b7e1a'
const SECRET_2 = 'sk-live-SECOND-PLAINTEXT-88d1'
/** A non-sensitive value written the same way: proves the raw-byte search can find values at all. */
const VISIBLE = 'visible-MARKER-value-31a7'

const newKey = () => randomBytes(32)

/** Every error message and `String(error)` must be free of these. */
function expectNoLeak(error: unknown, ...secrets: string[]) {
  const text = `${String(error)} ${(error as Error).message} ${JSON.stringify(error)}`
  for (const secret of secrets) expect(text).not.toContain(secret)
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected the promise to reject')
}

async function storedValue(db: AuraDatabase, key: string): Promise<string> {
  const rows = await sql<{ value: string }>`select value from configurations where key = ${key}`.execute(
    db.dialect.kysely,
  )
  return rows.rows[0]!.value
}

async function auditText(db: AuraDatabase): Promise<string> {
  const rows = await sql<{ changes_json: string | null }>`
    select changes_json from audit_entries where table_name = 'configurations'`.execute(db.dialect.kysely)
  return rows.rows.map((r) => r.changes_json ?? '').join('\n')
}

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: configuration secrets`, () => {
    let target: TestDatabase | undefined
    const open: AuraDatabase[] = []

    async function database(options: Omit<OpenDatabaseOptions, 'url'> = {}, migrate = false) {
      target ??= await d.create()
      const db = await openDatabase({ url: target.url, actor: 'tester', ...options })
      open.push(db)
      if (migrate) await db.migrate()
      return db
    }

    afterEach(async () => {
      for (const db of open.splice(0)) await db.close()
      await target?.drop()
      target = undefined
      delete process.env.AURA_SECRET_KEY
      delete process.env.AURA_SECRET_KEY_FILE
    })

    it('stores a sensitive value encrypted: not in the database file, the WAL or the audit trail', async () => {
      const key = newKey()
      const db = await database({ secretKey: key }, true)
      await db.configurations.set('Providers.OpenAiKey', SECRET, { category: 'Providers', isSensitive: true })
      await db.configurations.set('Providers.OpenAiKey', SECRET_2)
      // Inserts are audited without values; the update records the visible value.
      await db.configurations.set('General.Marker', 'initial', { category: 'General' })
      await db.configurations.set('General.Marker', VISIBLE)
      expect(await db.configurations.getValue('Providers.OpenAiKey')).toBe(SECRET_2)
      expect((await db.configurations.get('Providers.OpenAiKey'))?.isSensitive).toBe(true)

      const stored = await storedValue(db, 'Providers.OpenAiKey')
      expect(stored.startsWith(`aura:v1:${secretKeyId(key)}:`)).toBe(true)
      expect(stored).not.toContain(SECRET_2)
      const audit = await auditText(db)
      expect(audit).toContain('[redacted]')
      expect(audit).toContain(VISIBLE)
      expect(audit).not.toContain(SECRET)
      expect(audit).not.toContain(SECRET_2)

      if (target!.file) {
        // Before closing, the writes are in the WAL; closing checkpoints them into the main file.
        const wal = `${target!.file}-wal`
        expect(existsSync(wal)).toBe(true)
        const walBytes = readFileSync(wal)
        expect(walBytes.includes(VISIBLE)).toBe(true)
        expect(walBytes.includes(SECRET)).toBe(false)
        expect(walBytes.includes(SECRET_2)).toBe(false)
        await db.close()
        const fileBytes = readFileSync(target!.file)
        expect(fileBytes.includes(VISIBLE)).toBe(true)
        expect(fileBytes.includes(SECRET)).toBe(false)
        expect(fileBytes.includes(SECRET_2)).toBe(false)
      }
    })

    it('reading with the wrong key, or no key, fails without revealing the value or the key', async () => {
      const db = await database({ secretKey: newKey() }, true)
      await db.configurations.set('Providers.OpenAiKey', SECRET, { category: 'Providers', isSensitive: true })

      const wrongKey = newKey()
      const wrong = await database({ secretKey: wrongKey })
      const error = await rejection(wrong.configurations.getValue('Providers.OpenAiKey'))
      expect(error).toBeInstanceOf(IntegrityError)
      expect((error as Error).message).toContain('Providers.OpenAiKey')
      expectNoLeak(error, SECRET, wrongKey.toString('base64'))

      const keyless = await database()
      expect(await rejection(keyless.configurations.getValue('Providers.OpenAiKey'))).toBeInstanceOf(
        UsageError,
      )
      const refused = await rejection(
        keyless.configurations.set('Providers.Other', SECRET_2, { category: 'Providers', isSensitive: true }),
      )
      expect(refused).toBeInstanceOf(UsageError)
      expectNoLeak(refused, SECRET_2)
      expect(await keyless.configurations.get('Providers.Other')).toBeNull()
      // Values that are not sensitive need no key.
      await keyless.configurations.set('General.Theme', 'Dark', { category: 'General' })
      expect(await keyless.configurations.getValue('General.Theme')).toBe('Dark')
    })

    it('one unreadable secret does not hide the other settings from a list: it is marked with its error', async () => {
      const db = await database({ secretKey: newKey() }, true)
      await db.configurations.set('Providers.OpenAiKey', SECRET, { category: 'Providers', isSensitive: true })
      await db.configurations.set('Providers.Region', 'eu', { category: 'Providers' })
      await db.configurations.set('General.Theme', 'Dark', { category: 'General' })

      for (const [reader, errorClass] of [
        [await database({ secretKey: newKey() }), IntegrityError],
        [await database(), UsageError],
      ] as const) {
        const all = await reader.configurations.getAll()
        const byKey = new Map(all.map((c) => [c.key, c]))
        expect(byKey.get('General.Theme')).toMatchObject({ value: 'Dark' })
        expect(byKey.get('General.Theme')?.valueError).toBeUndefined()
        const secret = byKey.get('Providers.OpenAiKey')!
        expect(secret.value).toBeNull()
        expect(secret.valueError).toBeInstanceOf(errorClass)
        expectNoLeak(secret.valueError, SECRET)
        const providers = await reader.configurations.getByCategory('Providers')
        expect(providers.map((c) => [c.key, c.value])).toEqual([
          ['Providers.OpenAiKey', null],
          ['Providers.Region', 'eu'],
        ])
        // Asked for by its key, the unreadable value is still the error itself.
        expect(await rejection(reader.configurations.get('Providers.OpenAiKey'))).toBeInstanceOf(errorClass)
      }
    })

    it('a tampered value, or one copied onto another key, is an IntegrityError, never wrong plaintext', async () => {
      const db = await database({ secretKey: newKey() }, true)
      await db.configurations.setMany([
        { key: 'Providers.A', value: SECRET, category: 'Providers', isSensitive: true },
        { key: 'Providers.B', value: SECRET_2, category: 'Providers', isSensitive: true },
      ])
      const stored = await storedValue(db, 'Providers.A')
      const parts = stored.split(':')
      const ciphertext = parts[5]!
      // Flip one character of the ciphertext (staying valid base64).
      parts[5] = (ciphertext[0] === 'A' ? 'B' : 'A') + ciphertext.slice(1)
      await sql`update configurations set value = ${parts.join(':')} where key = 'Providers.A'`.execute(
        db.dialect.kysely,
      )
      const tampered = await rejection(db.configurations.getValue('Providers.A'))
      expect(tampered).toBeInstanceOf(IntegrityError)
      expectNoLeak(tampered, SECRET)

      const storedB = await storedValue(db, 'Providers.B')
      await sql`update configurations set value = ${storedB} where key = 'Providers.A'`.execute(
        db.dialect.kysely,
      )
      const swapped = await rejection(db.configurations.getValue('Providers.A'))
      expect(swapped).toBeInstanceOf(IntegrityError)
      expectNoLeak(swapped, SECRET, SECRET_2)

      await sql`update configurations set value = ${'plain text'} where key = 'Providers.A'`.execute(
        db.dialect.kysely,
      )
      expect(await rejection(db.configurations.getValue('Providers.A'))).toBeInstanceOf(IntegrityError)
      // The untouched value still reads.
      expect(await db.configurations.getValue('Providers.B')).toBe(SECRET_2)
    })

    it('rotateKey re-encrypts every sensitive value in one go; afterwards only the new key reads them', async () => {
      const oldKey = newKey()
      const db = await database({ secretKey: oldKey }, true)
      const values: Record<string, string> = {
        'Providers.OpenAiKey': SECRET,
        'Providers.ElevenLabsKey': SECRET_2,
        'Providers.Retired': 'retired-secret-value',
      }
      for (const [key, value] of Object.entries(values)) {
        await db.configurations.set(key, value, { category: 'Providers', isSensitive: true })
      }
      await db.configurations.deactivate('Providers.Retired')
      await db.configurations.set('General.Theme', 'Dark', { category: 'General' })

      const next = newKey()
      expect(await db.configurations.rotateKey(next.toString('base64'))).toBe(3)
      for (const [key, value] of Object.entries(values)) {
        if (key !== 'Providers.Retired') expect(await db.configurations.getValue(key)).toBe(value)
        expect((await storedValue(db, key)).startsWith(`aura:v1:${secretKeyId(next)}:`)).toBe(true)
      }
      expect(await db.configurations.getValue('General.Theme')).toBe('Dark')
      // New writes use the new key too.
      await db.configurations.set('Providers.New', 'after-rotation', {
        category: 'Providers',
        isSensitive: true,
      })
      expect((await storedValue(db, 'Providers.New')).startsWith(`aura:v1:${secretKeyId(next)}:`)).toBe(true)
      expect(await auditText(db)).not.toContain(SECRET)

      const withOld = await database({ secretKey: oldKey })
      expect(await rejection(withOld.configurations.getValue('Providers.OpenAiKey'))).toBeInstanceOf(
        IntegrityError,
      )
      const withNew = await database({ secretKey: next })
      for (const [key, value] of Object.entries(values)) {
        if (key !== 'Providers.Retired') expect(await withNew.configurations.getValue(key)).toBe(value)
      }
      await withNew.configurations.set('Providers.Retired', 'back again')
      expect(await withNew.configurations.getValue('Providers.Retired')).toBe('back again')
    })

    it('a rotation that cannot read a value changes nothing; rotation inside a unit of work is refused', async () => {
      const key = newKey()
      const db = await database({ secretKey: key }, true)
      await db.configurations.set('Providers.A', SECRET, { category: 'Providers', isSensitive: true })
      await db.configurations.set('Providers.B', SECRET_2, { category: 'Providers', isSensitive: true })
      const before = await storedValue(db, 'Providers.A')
      await sql`update configurations set value = ${'aura:v1:00000000:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA==:AAAA'} where key = 'Providers.B'`.execute(
        db.dialect.kysely,
      )
      expect(await rejection(db.configurations.rotateKey(newKey()))).toBeInstanceOf(IntegrityError)
      expect(await storedValue(db, 'Providers.A')).toBe(before)
      expect(await db.configurations.getValue('Providers.A')).toBe(SECRET)

      const inUnit = await rejection(db.transaction((uow) => uow.configurations.rotateKey(newKey())))
      expect(inUnit).toBeInstanceOf(UsageError)
      expect(await db.configurations.getValue('Providers.A')).toBe(SECRET)
    })

    it('marking an existing key sensitive encrypts it and redacts its earlier audit entries', async () => {
      const db = await database({ secretKey: newKey() }, true)
      await db.configurations.set('Providers.Token', 'first-visible-token', { category: 'Providers' })
      await db.configurations.set('Providers.Token', SECRET)
      expect(await auditText(db)).toContain(SECRET)
      await db.configurations.set('Providers.Token', SECRET, { isSensitive: true })
      expect(await db.configurations.getValue('Providers.Token')).toBe(SECRET)
      expect(await storedValue(db, 'Providers.Token')).not.toContain(SECRET)
      const audit = await auditText(db)
      expect(audit).not.toContain(SECRET)
      expect(audit).not.toContain('first-visible-token')
      const history = await db.auditEntries.history('configurations', 'Providers.Token')
      expect(history.map((e) => e.action)).toEqual(['insert', 'update', 'update'])
    })

    it('takes the key from AURA_SECRET_KEY or a key file, and refuses unusable keys without echoing them', async () => {
      const key = newKey()
      process.env.AURA_SECRET_KEY = key.toString('base64')
      const fromEnv = await database({}, true)
      await fromEnv.configurations.set('Providers.A', SECRET, { category: 'Providers', isSensitive: true })
      expect((await storedValue(fromEnv, 'Providers.A')).split(':')[2]).toBe(secretKeyId(key))
      delete process.env.AURA_SECRET_KEY

      const textFile = join(target!.dir, 'key.b64')
      writeFileSync(textFile, `${key.toString('base64')}\n`, { mode: 0o600 })
      expect(await (await database({ secretKeyFile: textFile })).configurations.getValue('Providers.A')).toBe(
        SECRET,
      )
      const rawFile = join(target!.dir, 'key.bin')
      writeFileSync(rawFile, key, { mode: 0o600 })
      expect(await (await database({ secretKeyFile: rawFile })).configurations.getValue('Providers.A')).toBe(
        SECRET,
      )
      process.env.AURA_SECRET_KEY_FILE = rawFile
      expect(await (await database()).configurations.getValue('Providers.A')).toBe(SECRET)
      delete process.env.AURA_SECRET_KEY_FILE

      const short = randomBytes(16).toString('base64')
      const bad: [Omit<OpenDatabaseOptions, 'url'>, string, string][] = [
        [{ secretKey: short }, '16 bytes', short],
        [{ secretKey: 'not*base64*at*all!' }, 'base64', 'not*base64*at*all!'],
        [{ secretKey: randomBytes(31) }, '31 bytes', ''],
        [{ secretKeyFile: join(target!.dir, 'missing.key') }, 'ENOENT', ''],
        [{ secretKey: key, secretKeyFile: rawFile }, 'not both', ''],
      ]
      for (const [options, reason, secret] of bad) {
        const error = await rejection(openDatabase({ url: target!.url, ...options }))
        expect(error).toBeInstanceOf(UsageError)
        expect((error as Error).message).toContain(reason)
        if (secret) expectNoLeak(error, secret)
      }
      process.env.AURA_SECRET_KEY = short
      const fromBadEnv = await rejection(openDatabase({ url: target!.url }))
      expect(fromBadEnv).toBeInstanceOf(UsageError)
      expect((fromBadEnv as Error).message).toContain('AURA_SECRET_KEY')
      expectNoLeak(fromBadEnv, short)
    })
  })
}
