import { c, defineTable, type EntityOf, type InsertOf, type ResolvedTable, type UpdateOf } from './define.js'

/** `system_configuration`: exactly one row (`id = 1`), created by the initial migration. */
export const systemConfigurationTable = defineTable({
  name: 'system_configuration',
  primaryKey: 'id',
  keyGeneration: 'none',
  features: { audit: true, rowVersion: true, softDelete: false },
  columns: {
    id: c.int().range(1, 1).withDefault(1),
    isSetupComplete: c.bool().withDefault(false),
    ffmpegPath: c.text(500).nullable(),
    outputDirectory: c.text(500),
  },
})

/** The definition of `system_configuration` the types use: the application's extension when it declares one (`AuraTableExtensions`). */
export type SystemConfigurationTable = ResolvedTable<'system_configuration', typeof systemConfigurationTable>

/**
 * A row of `system_configuration` as the repositories return it.
 * @interface
 */
export type SystemConfiguration = EntityOf<SystemConfigurationTable>
/**
 * What `add` takes for a row of `system_configuration`: the required fields, and the optional ones.
 * @interface
 */
export type NewSystemConfiguration = InsertOf<SystemConfigurationTable>
/**
 * What `update` takes for a row of `system_configuration`: the key and `rowVersion`, and the fields to change.
 * @interface
 */
export type SystemConfigurationUpdate = UpdateOf<SystemConfigurationTable>
