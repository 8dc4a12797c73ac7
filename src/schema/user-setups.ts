import { c, defineTable, NEW_UUID, type EntityOf, type InsertOf, type UpdateOf } from './define.js'

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

export type UserSetup = EntityOf<typeof userSetupsTable>
export type NewUserSetup = InsertOf<typeof userSetupsTable>
export type UserSetupUpdate = UpdateOf<typeof userSetupsTable>
