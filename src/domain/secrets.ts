import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { secretErrors } from '../errors.js'

/** A secret key: its 32 bytes, or those bytes as standard base64 text. */
export type SecretKeyInput = Uint8Array | string

/** Where a database's secret key comes from (see `loadSecretCipher`). */
export interface SecretKeyOptions {
  /** The key itself: 32 bytes, or their standard base64. */
  readonly secretKey?: SecretKeyInput
  /** A file holding the key: its base64 text, or exactly the 32 raw bytes. */
  readonly secretKeyFile?: string
}

/**
 * Encrypts and decrypts sensitive configuration values (`SecretCipher` implements it).
 * `context` is the configuration key: a value only decrypts under the key it was stored at.
 */
export interface ValueCipher {
  /** The id of the key new values are encrypted with (stored in each value). */
  readonly keyId: string
  encrypt(plaintext: string, context: string): string
  /** Throws IntegrityError when the value was tampered with or the key is wrong. */
  decrypt(stored: string, context: string): string
  /** The key id a stored value names, or null when it is not an encrypted value. */
  keyIdOf(stored: string): string | null
  /** A cipher over another key (the target of a rotation); UsageError when the key is unusable. */
  forKey(key: SecretKeyInput): ValueCipher
  /** Encrypts with `next`'s key from now on; values under the current key stay readable until `forgetPrevious`. */
  adopt(next: ValueCipher): void
  forgetPrevious(): void
}

const KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16
const FORMAT = 'aura'
const VERSION = 'v1'
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** The id of a key, stored with every value it encrypts: the first 8 hex digits of its SHA-256. */
export function secretKeyId(key: Uint8Array): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8)
}

/** Checks and decodes a key; `source` names where it came from in the error (never the key). */
export function parseSecretKey(input: SecretKeyInput, source: string): Buffer {
  if (typeof input === 'string') {
    const text = input.trim()
    if (text === '') throw secretErrors.badKey(source, 'it is empty')
    if (!BASE64.test(text)) throw secretErrors.badKey(source, 'it is not standard base64')
    const bytes = Buffer.from(text, 'base64')
    if (bytes.length !== KEY_BYTES)
      throw secretErrors.badKey(source, `it decodes to ${bytes.length} bytes, not ${KEY_BYTES}`)
    return bytes
  }
  if (!(input instanceof Uint8Array)) throw secretErrors.badKey(source, 'it is neither bytes nor base64 text')
  if (input.length !== KEY_BYTES)
    throw secretErrors.badKey(source, `it has ${input.length} bytes, not ${KEY_BYTES}`)
  return Buffer.from(input)
}

/** Reads a key file: exactly 32 bytes are the raw key; anything else must be its base64 text. */
function readKeyFile(file: string): Buffer {
  let content: Buffer
  try {
    content = readFileSync(file)
  } catch (error) {
    throw secretErrors.keyFileUnreadable(file, (error as NodeJS.ErrnoException).code ?? 'unknown error')
  }
  if (content.length === KEY_BYTES) return content
  return parseSecretKey(content.toString('utf8'), `The secret key file ${file}`)
}

/**
 * The cipher of a database's sensitive configuration values, from (first match wins):
 * 1. `options.secretKey`, 2. `options.secretKeyFile`, 3. the environment variable
 * `AURA_SECRET_KEY` (base64), 4. `AURA_SECRET_KEY_FILE` (a key file). Null when none is set:
 * then setting or reading a sensitive value is a UsageError. A key that is given but unusable
 * is a UsageError saying what is wrong with it (never quoting it).
 */
export function loadSecretCipher(
  options: SecretKeyOptions,
  env: NodeJS.ProcessEnv = process.env,
): SecretCipher | null {
  if (options.secretKey !== undefined && options.secretKeyFile !== undefined) throw secretErrors.twoKeys()
  if (options.secretKey !== undefined)
    return new SecretCipher(parseSecretKey(options.secretKey, 'The secretKey option'))
  if (options.secretKeyFile !== undefined) return new SecretCipher(readKeyFile(options.secretKeyFile))
  if (env.AURA_SECRET_KEY) return new SecretCipher(parseSecretKey(env.AURA_SECRET_KEY, 'AURA_SECRET_KEY'))
  if (env.AURA_SECRET_KEY_FILE) return new SecretCipher(readKeyFile(env.AURA_SECRET_KEY_FILE))
  return null
}

/**
 * AES-256-GCM encryption of sensitive configuration values.
 *
 * A stored value reads `aura:v1:<keyId>:<iv>:<tag>:<ciphertext>` (base64 parts): a random
 * 96-bit IV per value, the 128-bit authentication tag, and the id of the key. The additional
 * authenticated data binds the value to its format, key id and configuration key, so a value
 * altered in any byte, or copied onto another configuration key, fails to decrypt
 * (IntegrityError) instead of returning wrong plaintext.
 *
 * During a key rotation the cipher briefly knows two keys: it encrypts with the new one and
 * decrypts values of either (by their key id) until the rotation settles.
 *
 * @example
 * import { randomBytes } from 'node:crypto'
 * const cipher = new SecretCipher(randomBytes(32))
 * const stored = cipher.encrypt('sk-live-123', 'Providers.OpenAiKey')
 * cipher.decrypt(stored, 'Providers.OpenAiKey') // 'sk-live-123'
 */
export class SecretCipher implements ValueCipher {
  #key: Buffer
  #keyId: string
  #previous: { key: Buffer; keyId: string } | null = null

  constructor(key: Uint8Array) {
    this.#key = parseSecretKey(key, 'The secret key')
    this.#keyId = secretKeyId(this.#key)
  }

  /** The id of the key new values are encrypted with. */
  get keyId(): string {
    return this.#keyId
  }

  encrypt(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES })
    cipher.setAAD(aad(this.#keyId, context))
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    const tag = cipher.getAuthTag()
    return [
      FORMAT,
      VERSION,
      this.#keyId,
      iv.toString('base64'),
      tag.toString('base64'),
      ciphertext.toString('base64'),
    ].join(':')
  }

  decrypt(stored: string, context: string): string {
    const parts = parse(stored)
    if (!parts) throw secretErrors.notEncrypted(context)
    const key = this.#keyFor(parts.keyId)
    if (!key) {
      throw secretErrors.wrongKey(context, parts.keyId, [
        this.#keyId,
        ...(this.#previous ? [this.#previous.keyId] : []),
      ])
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, parts.iv, { authTagLength: TAG_BYTES })
      decipher.setAAD(aad(parts.keyId, context))
      decipher.setAuthTag(parts.tag)
      return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]).toString('utf8')
    } catch {
      throw secretErrors.tampered(context)
    }
  }

  keyIdOf(stored: string): string | null {
    return parse(stored)?.keyId ?? null
  }

  forKey(key: SecretKeyInput): SecretCipher {
    return new SecretCipher(parseSecretKey(key, 'The new secret key'))
  }

  adopt(next: ValueCipher): void {
    if (!(next instanceof SecretCipher)) throw new TypeError('SecretCipher.adopt expects a SecretCipher')
    this.#previous = { key: this.#key, keyId: this.#keyId }
    this.#key = next.#key
    this.#keyId = next.#keyId
  }

  forgetPrevious(): void {
    this.#previous = null
  }

  #keyFor(keyId: string): Buffer | null {
    if (keyId === this.#keyId) return this.#key
    if (this.#previous && keyId === this.#previous.keyId) return this.#previous.key
    return null
  }
}

function aad(keyId: string, context: string): Buffer {
  return Buffer.from(`${FORMAT}:${VERSION}:${keyId}:${context}`, 'utf8')
}

/** The parts of a stored value, or null when it is not in the `aura:v1:` format. */
function parse(stored: string): { keyId: string; iv: Buffer; tag: Buffer; ciphertext: Buffer } | null {
  if (typeof stored !== 'string') return null
  const parts = stored.split(':')
  if (parts.length !== 6 || parts[0] !== FORMAT || parts[1] !== VERSION) return null
  const [, , keyId, iv, tag, ciphertext] = parts as [string, string, string, string, string, string]
  if (!/^[0-9a-f]{8}$/.test(keyId) || ![iv, tag, ciphertext].every((part) => BASE64.test(part))) return null
  const ivBytes = Buffer.from(iv, 'base64')
  const tagBytes = Buffer.from(tag, 'base64')
  if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) return null
  return { keyId, iv: ivBytes, tag: tagBytes, ciphertext: Buffer.from(ciphertext, 'base64') }
}
