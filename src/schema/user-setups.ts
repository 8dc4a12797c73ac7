import {
  c,
  defineTable,
  NEW_UUID,
  type EntityOf,
  type InsertOf,
  type ResolvedTable,
  type UpdateOf,
} from './define.js'

/** `user_setups`: first-run wizard state, one row per user. */
export const userSetupsTable = defineTable({
  name: 'user_setups',
  primaryKey: 'id',
  keyGeneration: 'uuid',
  features: { audit: true, rowVersion: true, softDelete: false },
  columns: {
    id: c.uuid().withDefault(NEW_UUID),
    userId: c.text(100).withDefault('default'),
    completed: c.bool().withDefault(false),
    completedAt: c.timestamp().nullable(),
    version: c.text(20).nullable(),
    lastStep: c.int().range(0).withDefault(0),
    selectedTier: c.text(50).nullable(),
    wizardState: c.json().nullable(),
  },
  indexes: [{ columns: ['userId'], unique: true }, ['completed'], ['updatedAt']],
})

/** The definition of `user_setups` the types use: the application's extension when it declares one (`AuraTableExtensions`). */
export type UserSetupsTable = ResolvedTable<'user_setups', typeof userSetupsTable>

/**
 * A row of `user_setups` as the repositories return it.
 * @interface
 */
export type UserSetup = EntityOf<UserSetupsTable>
/**
 * What `add` takes for a row of `user_setups`: the required fields, and the optional ones.
 * @interface
 */
export type NewUserSetup = InsertOf<UserSetupsTable>
/**
 * What `update` takes for a row of `user_setups`: the key and `rowVersion`, and the fields to change.
 * @interface
 */
export type UserSetupUpdate = UpdateOf<UserSetupsTable>
