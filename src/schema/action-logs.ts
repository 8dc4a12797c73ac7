import {
  c,
  defineTable,
  NEW_UUID,
  NOW,
  type EntityOf,
  type InsertOf,
  type ResolvedTable,
  type UpdateOf,
} from './define.js'

export const ACTION_STATUSES = ['Applied', 'Undone', 'Failed', 'Expired'] as const

/**
 * `action_logs`: the persisted undo/redo history. Append-mostly, so it carries timestamps but
 * no created_by/modified_by (`userId` says who acted). `projectId` has no foreign key: the
 * schema lets the history name a project without tying its lifetime to the project row.
 */
export const actionLogsTable = defineTable({
  name: 'action_logs',
  primaryKey: 'id',
  keyGeneration: 'uuid',
  features: { audit: 'timestamps', rowVersion: true, softDelete: false },
  columns: {
    id: c.uuid().withDefault(NEW_UUID),
    userId: c.text(200).withDefault(''),
    projectId: c.uuid().nullable(),
    sequence: c.bigint(),
    actionType: c.text(100),
    description: c.text(500).withDefault(''),
    timestamp: c.timestamp().withDefault(NOW),
    status: c.text(50).oneOf(ACTION_STATUSES).withDefault('Applied'),
    affectedResourceIds: c.text(1000).nullable(),
    payloadJson: c.json().nullable(),
    inversePayloadJson: c.json().nullable(),
    inverseActionType: c.text(100).nullable(),
    canBatch: c.bool().withDefault(false),
    isPersistent: c.bool().withDefault(true),
    undoneAt: c.timestamp().nullable(),
    undoneByUserId: c.text(200).nullable(),
    expiresAt: c.timestamp().nullable(),
    errorMessage: c.text().nullable(),
    correlationId: c.text(100).nullable(),
  },
  indexes: [
    ['userId'],
    ['actionType'],
    ['status'],
    ['timestamp'],
    ['userId', 'timestamp'],
    ['status', 'timestamp'],
    ['correlationId'],
    ['expiresAt'],
    ['projectId', 'sequence'],
  ],
})

/** The definition of `action_logs` the types use: the application's extension when it declares one (`AuraTableExtensions`). */
export type ActionLogsTable = ResolvedTable<'action_logs', typeof actionLogsTable>

/**
 * A row of `action_logs` as the repositories return it.
 * @interface
 */
export type ActionLog = EntityOf<ActionLogsTable>
/**
 * What `add` takes for a row of `action_logs`: the required fields, and the optional ones.
 * @interface
 */
export type NewActionLog = InsertOf<ActionLogsTable>
/**
 * What `update` takes for a row of `action_logs`: the key and `rowVersion`, and the fields to change.
 * @interface
 */
export type ActionLogUpdate = UpdateOf<ActionLogsTable>
