import {
  c,
  defineTable,
  NEW_UUID,
  type EntityOf,
  type InsertOf,
  type ResolvedTable,
  type UpdateOf,
} from './define.js'

export const ASSET_TYPES = ['Audio', 'Image', 'Video', 'Subtitle'] as const

/** `asset_states`: a file produced for a project (temporary until the project keeps it). */
export const assetStatesTable = defineTable({
  name: 'asset_states',
  primaryKey: 'id',
  keyGeneration: 'uuid',
  features: { audit: true, rowVersion: true, softDelete: false },
  columns: {
    id: c.uuid().withDefault(NEW_UUID),
    projectId: c.uuid().references('project_states', 'id', 'cascade'),
    assetType: c.text(100).oneOf(ASSET_TYPES),
    filePath: c.text(500),
    fileSizeBytes: c.bigint().range(0).withDefault(0),
    mimeType: c.text(200).nullable(),
    isTemporary: c.bool().withDefault(true),
  },
  indexes: [['projectId'], ['projectId', 'assetType'], ['isTemporary']],
})

/** The definition of `asset_states` the types use: the application's extension when it declares one (`AuraTableExtensions`). */
export type AssetStatesTable = ResolvedTable<'asset_states', typeof assetStatesTable>

/**
 * A row of `asset_states` as the repositories return it.
 * @interface
 */
export type AssetState = EntityOf<AssetStatesTable>
/**
 * What `add` takes for a row of `asset_states`: the required fields, and the optional ones.
 * @interface
 */
export type NewAssetState = InsertOf<AssetStatesTable>
/**
 * What `update` takes for a row of `asset_states`: the key and `rowVersion`, and the fields to change.
 * @interface
 */
export type AssetStateUpdate = UpdateOf<AssetStatesTable>
