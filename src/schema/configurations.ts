import type { AuraDataError } from '../errors.js'
import { c, defineTable, type EntityOf, type InsertOf, type ResolvedTable, type UpdateOf } from './define.js'

export const CONFIG_VALUE_TYPES = ['string', 'number', 'boolean', 'json', 'null'] as const

/**
 * `configurations`: typed key/value settings; `rowVersion` doubles as the edit counter.
 * `value` is not marked sensitive here: sensitivity is per row (`isSensitive`).
 */
export const configurationsTable = defineTable({
  name: 'configurations',
  primaryKey: 'key',
  keyGeneration: 'none',
  features: { audit: true, rowVersion: true, softDelete: false },
  columns: {
    key: c.text(200),
    value: c.text(),
    category: c.text(100),
    valueType: c.text(20).oneOf(CONFIG_VALUE_TYPES).withDefault('string'),
    description: c.text(1000).nullable(),
    isSensitive: c.bool().withDefault(false),
    isActive: c.bool().withDefault(true),
  },
  indexes: [
    ['category'],
    ['isSensitive'],
    ['isActive'],
    ['updatedAt'],
    ['category', 'isActive'],
    ['category', 'updatedAt'],
  ],
})

/** The definition of `configurations` the types use: the application's extension when it declares one (`AuraTableExtensions`). */
export type ConfigurationsTable = ResolvedTable<'configurations', typeof configurationsTable>

/**
 * A setting. A sensitive one that a list read (`getAll`, `find`, `getByCategory`) cannot decrypt
 * (no key, another key, a tampered value) comes back with `value: null` and `valueError`, the
 * typed error `get(key)` throws for it, so one unreadable secret does not hide every setting.
 */
export type Configuration = Omit<EntityOf<ConfigurationsTable>, 'value'> & {
  readonly value: EntityOf<ConfigurationsTable>['value'] | null
  readonly valueError?: AuraDataError
}
/**
 * What `add` takes for a row of `configurations`: the required fields, and the optional ones.
 * @interface
 */
export type NewConfiguration = InsertOf<ConfigurationsTable>
/**
 * What `update` takes for a row of `configurations`: the key and `rowVersion`, and the fields to change.
 * @interface
 */
export type ConfigurationUpdate = UpdateOf<ConfigurationsTable>
