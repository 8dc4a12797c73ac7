import { sql } from 'kysely'
import { exactJson } from '../domain/exact-json.js'
import type { SecretKeyInput, ValueCipher } from '../domain/secrets.js'
import {
  AuraDataError,
  ConcurrencyError,
  NotFoundError,
  secretErrors,
  usage,
  ValidationError,
} from '../errors.js'
import {
  type Configuration,
  type ConfigurationsTable,
  type NewConfiguration,
  type ConfigurationUpdate,
} from '../schema/configurations.js'
import type { AuditChanges } from './audit-writer.js'
import { Repository } from './repository.js'
import { DatabaseSession, type Row, type Session, type TxContext } from './session.js'
import { validateInsert, validateKey, validateUpdate } from './validation.js'

/** A setting's value as `getValue` returns it. */
export type ConfigValue =
  string | number | boolean | null | readonly unknown[] | { readonly [key: string]: unknown }

/** Options of `configurations.set`; fields not given keep their stored values. */
export interface SetOptions {
  /** Required when the key is new. */
  readonly category?: string
  readonly description?: string | null
  readonly isSensitive?: boolean
  /** Inferred from the value when omitted: number, boolean, json (objects, arrays) or string. */
  readonly valueType?: Configuration['valueType']
}

/** What the audit trail records instead of a sensitive value. */
export const REDACTED = '[redacted]'

function serialise(value: ConfigValue, valueType: Configuration['valueType'] | undefined) {
  const type =
    valueType ??
    (typeof value === 'number'
      ? 'number'
      : typeof value === 'boolean'
        ? 'boolean'
        : typeof value === 'string'
          ? 'string'
          : 'json')
  switch (type) {
    case 'string':
      if (typeof value !== 'string')
        throw new ValidationError('configurations.value must be a string for valueType string', 'value')
      return { value, valueType: type }
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value))
        throw new ValidationError('configurations.value must be a finite number', 'value')
      // String(-0) is "0"; Number("-0") is -0 again.
      return { value: Object.is(value, -0) ? '-0' : String(value), valueType: type }
    case 'boolean':
      if (typeof value !== 'boolean')
        throw new ValidationError('configurations.value must be a boolean', 'value')
      return { value: String(value), valueType: type }
    // The .NET app's type of a setting without a value; the stored text is not read.
    case 'null':
      if (value !== null)
        throw new ValidationError('configurations.value must be null for valueType null', 'value')
      return { value: '', valueType: type }
    default:
      return { value: exactJson(value, 'configurations.value', 'value'), valueType: 'json' as const }
  }
}

function parseValue(valueType: Configuration['valueType'], value: string): ConfigValue {
  switch (valueType) {
    case 'number':
      return Number(value)
    case 'boolean':
      return value === 'true'
    case 'json':
      return JSON.parse(value) as ConfigValue
    case 'null':
      return null
    default:
      return value
  }
}

/**
 * Typed key/value settings. Sensitive values are encrypted at rest by the cipher, returned in
 * plaintext by reads, and written to the audit trail as "[redacted]". Deleting a setting
 * deactivates it; setting it again reactivates it.
 */
export class ConfigurationsRepository extends Repository<
  ConfigurationsTable,
  Configuration,
  NewConfiguration,
  ConfigurationUpdate
> {
  constructor(
    table: ConfigurationsTable,
    session: Session,
    private readonly cipher: ValueCipher | null,
  ) {
    super(table, session)
  }

  /** The active setting, or null. */
  async get(key: string): Promise<Configuration | null> {
    validateKey(this.table, key)
    const entry = await this.firstOrDefault({ key, isActive: true })
    if (entry?.valueError) throw entry.valueError
    return entry
  }

  /** The active setting's value, typed by its `valueType`; undefined when there is none. */
  async getValue<V extends ConfigValue = ConfigValue>(key: string): Promise<V | undefined> {
    const entry = await this.get(key)
    // get() threw for a value it could not read: a returned entry has its value.
    return entry ? (parseValue(entry.valueType, entry.value!) as V) : undefined
  }

  /** The active settings of a category, by key. */
  async getByCategory(category: string): Promise<Configuration[]> {
    return this.find({ category, isActive: true }, { orderBy: { key: 'asc' } })
  }

  /** Creates or updates a setting (reactivating it); fields not given are kept. */
  async set(key: string, value: ConfigValue, options: SetOptions = {}): Promise<Configuration> {
    const prepared = this.prepare({ key, value, ...options })
    return this.session.write((tx) => this.setIn(tx, prepared))
  }

  /** Sets several settings in one transaction: all or none. */
  async setMany(
    entries: readonly ({ key: string; value: ConfigValue } & SetOptions)[],
  ): Promise<Configuration[]> {
    const prepared = entries.map((e) => this.prepare(e))
    return this.session.write(async (tx) => {
      const out: Configuration[] = []
      for (const p of prepared) out.push(await this.setIn(tx, p))
      return out
    })
  }

  /** Deactivates a setting (the configuration's "delete"). */
  async deactivate(key: string): Promise<Configuration> {
    validateKey(this.table, key)
    return this.session.write(async (tx) => {
      const row = await this.currentRow(tx, key)
      if (!row) throw new NotFoundError(this.table.name, key)
      return this.updateIn(tx, key, Number(row.row_version), { isActive: false })
    })
  }

  override fromRow(row: Row): Configuration {
    const entry = super.fromRow(row)
    if (!entry.isSensitive || entry.value === null) return entry
    try {
      return { ...entry, value: this.requireCipher().decrypt(entry.value, entry.key) }
    } catch (error) {
      // One value this key cannot read must not hide the others from a list: it is marked, and
      // get(key) throws the same error.
      if (!(error instanceof AuraDataError)) throw error
      return { ...entry, value: null, valueError: error }
    }
  }

  /** @internal */
  override async insertIn(tx: TxContext, values: Record<string, unknown>): Promise<Configuration> {
    return super.insertIn(tx, this.#stored(values))
  }

  /** @internal */
  override async insertManyIn(
    tx: TxContext,
    rows: readonly Record<string, unknown>[],
  ): Promise<Configuration[]> {
    return super.insertManyIn(
      tx,
      rows.map((values) => this.#stored(values)),
    )
  }

  /** The values of a new row as stored: a sensitive value encrypted. */
  #stored(values: Record<string, unknown>): Record<string, unknown> {
    return values.isSensitive === true
      ? { ...values, value: this.requireCipher().encrypt(values.value as string, values.key as string) }
      : values
  }

  /**
   * Like the generic update, but the stored value is encrypted whenever the row is sensitive.
   * @internal
   */
  override async updateIn(
    tx: TxContext,
    key: unknown,
    rowVersion: number | null,
    changes: Record<string, unknown>,
  ): Promise<Configuration> {
    const row = await this.currentRow(tx, key)
    this.assertWritable(row, key, rowVersion)
    const before = this.fromRow(row) as unknown as Record<string, unknown>
    const sensitive = (changes.isSensitive ?? before.isSensitive) === true
    const changed: AuditChanges = {}
    const set: Record<string, unknown> = {}
    for (const [field, value] of Object.entries(changes)) {
      if (before[field] === value) continue
      changed[field] = [before[field], value]
      set[field] = value
    }
    // Turning sensitivity on or off re-stores the value encrypted or in plaintext.
    if (before.isSensitive !== sensitive && set.value === undefined) set.value = before.value
    if (Object.keys(set).length === 0) return before as unknown as Configuration
    if (sensitive && set.value !== undefined)
      set.value = this.requireCipher().encrypt(set.value as string, key as string)
    set.updatedAt = tx.now
    set.modifiedBy = tx.actor
    const updated = await this.writeRow(tx, key, Number(row.row_version), set)
    if (sensitive && before.isSensitive !== true) await this.#redactHistory(tx, key as string)
    await this.recordWrite(tx, 'update', key, this.redact(before, changed), updated)
    return updated
  }

  /**
   * Re-encrypts every sensitive value (active or not) with `newKey`, then uses it: afterwards
   * the database can only be read with the new key. Returns how many values were re-encrypted.
   * 1. One transaction decrypts each value with the current key and stores it encrypted with
   *    the new one; a value that does not decrypt (IntegrityError) aborts it, changing nothing.
   * 2. After the commit the database switches to the new key.
   * 3. A second transaction re-encrypts any value another writer stored with the old key
   *    between 1 and 2 (usually none).
   * Each re-encrypted row gets a new row version and an audit entry with the value redacted.
   * Only on the database, not on a unit of work: the key must change only once 1 has committed.
   *
   * @example
   * import { randomBytes } from 'node:crypto'
   * await db.configurations.rotateKey(randomBytes(32).toString('base64'))
   */
  async rotateKey(newKey: SecretKeyInput): Promise<number> {
    if (!(this.session instanceof DatabaseSession)) throw secretErrors.rotationInUnit()
    const cipher = this.requireCipher()
    const next = cipher.forKey(newKey)
    let count = await this.session.write((tx) => this.#reencrypt(tx, cipher, next))
    cipher.adopt(next)
    try {
      count += await this.session.write((tx) => this.#reencrypt(tx, cipher, cipher))
    } finally {
      cipher.forgetPrevious()
    }
    return count
  }

  /** Stores every sensitive value not yet under `to`'s key encrypted with it. */
  async #reencrypt(tx: TxContext, from: ValueCipher, to: ValueCipher): Promise<number> {
    const dialect = this.session.dialect
    const rows = await tx.db
      .selectFrom(this.table.name)
      .select(['key', 'value', 'row_version'])
      .where('is_sensitive', '=', dialect.encode('bool', true))
      .orderBy('key')
      .execute()
    let count = 0
    for (const row of rows) {
      const key = row.key as string
      if (to.keyIdOf(row.value as string) === to.keyId) continue
      const value = to.encrypt(from.decrypt(row.value as string, key), key)
      // Written directly, not through writeRow: reading the row back would decrypt it with a key
      // the database does not use yet.
      const result = await tx.db
        .updateTable(this.table.name)
        .set({
          value,
          updated_at: dialect.encode('timestamp', tx.now),
          modified_by: tx.actor,
          row_version: sql`row_version + 1`,
        })
        .where('key', '=', key)
        .where('row_version', '=', row.row_version)
        .executeTakeFirst()
      if (Number(result.numUpdatedRows) !== 1) {
        throw new ConcurrencyError(this.table.name, key, Number(row.row_version), null)
      }
      await this.recordWrite(tx, 'update', key, { value: [REDACTED, REDACTED] }, null, {
        rowVersion: Number(row.row_version) + 1,
      })
      count++
    }
    return count
  }

  /**
   * A value that becomes sensitive may have been recorded in plaintext by earlier audit entries
   * (while it was not sensitive): those values are replaced by "[redacted]" too.
   */
  async #redactHistory(tx: TxContext, key: string): Promise<void> {
    const entries = await tx.db
      .selectFrom('audit_entries')
      .select(['id', 'changes_json'])
      .where('table_name', '=', this.table.name)
      .where('row_id', '=', key)
      .where('changes_json', 'is not', null)
      .execute()
    for (const entry of entries) {
      const changes = JSON.parse(entry.changes_json as string) as AuditChanges
      if (!changes.value) continue
      changes.value = [REDACTED, REDACTED]
      await tx.db
        .updateTable('audit_entries')
        .set({ changes_json: JSON.stringify(changes) })
        .where('id', '=', entry.id)
        .execute()
    }
  }

  protected override feedRow(row: Configuration): Record<string, unknown> {
    return row.isSensitive ? { ...row, value: REDACTED } : row
  }

  protected override redact(before: Record<string, unknown>, changes: AuditChanges): AuditChanges {
    const sensitive = before.isSensitive === true || changes.isSensitive?.[1] === true
    if (!sensitive || !changes.value) return changes
    return { ...changes, value: [REDACTED, REDACTED] }
  }

  private prepare(entry: { key: string; value: ConfigValue } & SetOptions) {
    const { value, valueType } = serialise(entry.value, entry.valueType)
    const fields: Record<string, unknown> = { key: entry.key, value, valueType, isActive: true }
    if (entry.category !== undefined) fields.category = entry.category
    if (entry.description !== undefined) fields.description = entry.description
    if (entry.isSensitive !== undefined) fields.isSensitive = entry.isSensitive
    if (entry.isSensitive) this.requireCipher()
    // Validates every given field (lengths, enumerations) before any SQL runs.
    validateUpdate(this.table, { ...fields, rowVersion: 1 })
    return fields
  }

  private async setIn(tx: TxContext, fields: Record<string, unknown>): Promise<Configuration> {
    const row = await this.currentRow(tx, fields.key)
    if (!row) {
      if (fields.category === undefined) {
        throw new ValidationError(
          `configurations.category is required for the new key ${String(fields.key)}`,
          'category',
        )
      }
      return this.insertIn(tx, validateInsert(this.table, fields))
    }
    const { key: _key, ...changes } = fields
    return this.updateIn(tx, fields.key, Number(row.row_version), changes)
  }

  /** Whether a secret key is configured, so that sensitive values can be stored. */
  get canEncrypt(): boolean {
    return this.cipher !== null
  }

  /**
   * The stored (encrypted) form of the sensitive value `plaintext` of `key`, for writers that
   * insert rows themselves (the import of the .NET app's database). UsageError without a key.
   */
  encryptValue(key: string, plaintext: string): string {
    return this.requireCipher().encrypt(plaintext, key)
  }

  private requireCipher(): ValueCipher {
    if (!this.cipher) throw usage.noSecretKey()
    return this.cipher
  }
}
