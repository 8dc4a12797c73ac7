import { NotFoundError, usage, ValidationError } from '../errors.js'
import { configurationsTable, type Configuration } from '../schema/configurations.js'
import type { AuditChanges } from './audit-writer.js'
import { Repository } from './repository.js'
import type { Row, Session, TxContext } from './session.js'
import { validateInsert, validateKey, validateUpdate } from './validation.js'

/** Encrypts and decrypts sensitive configuration values (see `src/domain/secrets.ts`). */
export interface ValueCipher {
  encrypt(plaintext: string): string
  /** Throws IntegrityError when the value was tampered with or the key is wrong. */
  decrypt(stored: string): string
}

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
      return { value: String(value), valueType: type }
    case 'boolean':
      if (typeof value !== 'boolean')
        throw new ValidationError('configurations.value must be a boolean', 'value')
      return { value: String(value), valueType: type }
    default:
      return { value: JSON.stringify(value), valueType: 'json' as const }
  }
}

function parseValue(entry: Configuration): ConfigValue {
  switch (entry.valueType) {
    case 'number':
      return Number(entry.value)
    case 'boolean':
      return entry.value === 'true'
    case 'json':
      return JSON.parse(entry.value) as ConfigValue
    default:
      return entry.value
  }
}

/**
 * Typed key/value settings. Sensitive values are encrypted at rest by the cipher, returned in
 * plaintext by reads, and written to the audit trail as "[redacted]". Deleting a setting
 * deactivates it; setting it again reactivates it.
 */
export class ConfigurationsRepository extends Repository<typeof configurationsTable> {
  constructor(
    session: Session,
    private readonly cipher: ValueCipher | null,
  ) {
    super(configurationsTable, session)
  }

  /** The active setting, or null. */
  async get(key: string): Promise<Configuration | null> {
    validateKey(this.table, key)
    return this.firstOrDefault({ key, isActive: true })
  }

  /** The active setting's value, typed by its `valueType`; undefined when there is none. */
  async getValue<V extends ConfigValue = ConfigValue>(key: string): Promise<V | undefined> {
    const entry = await this.get(key)
    return entry ? (parseValue(entry) as V) : undefined
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
  async setMany(entries: readonly ({ key: string; value: ConfigValue } & SetOptions)[]): Promise<Configuration[]> {
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
    if (!entry.isSensitive) return entry
    return { ...entry, value: this.requireCipher().decrypt(entry.value) }
  }

  override async insertIn(tx: TxContext, values: Record<string, unknown>): Promise<Configuration> {
    const stored =
      values.isSensitive === true
        ? { ...values, value: this.requireCipher().encrypt(values.value as string) }
        : values
    return super.insertIn(tx, stored)
  }

  /** Like the generic update, but the stored value is encrypted whenever the row is sensitive. */
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
    if (sensitive && set.value !== undefined) set.value = this.requireCipher().encrypt(set.value as string)
    set.updatedAt = tx.now
    set.modifiedBy = tx.actor
    const updated = await this.writeRow(tx, key, Number(row.row_version), set)
    await this.audit(tx, 'update', key, this.redact(before, changed))
    return updated
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

  private requireCipher(): ValueCipher {
    if (!this.cipher) throw usage.noSecretKey()
    return this.cipher
  }
}
