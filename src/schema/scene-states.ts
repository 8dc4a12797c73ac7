import {
  c,
  defineTable,
  NEW_UUID,
  type EntityOf,
  type InsertOf,
  type ResolvedTable,
  type UpdateOf,
} from './define.js'

/** `scene_states`: one scene of a project, ordered by `sceneIndex`. */
export const sceneStatesTable = defineTable({
  name: 'scene_states',
  primaryKey: 'id',
  keyGeneration: 'uuid',
  features: { audit: true, rowVersion: true, softDelete: false },
  columns: {
    id: c.uuid().withDefault(NEW_UUID),
    projectId: c.uuid().references('project_states', 'id', 'cascade'),
    sceneIndex: c.int().range(0),
    scriptText: c.text().withDefault(''),
    audioFilePath: c.text(500).nullable(),
    imageFilePath: c.text(500).nullable(),
    durationSeconds: c.real().range(0).withDefault(0),
    isCompleted: c.bool().withDefault(false),
  },
  indexes: [['projectId'], { columns: ['projectId', 'sceneIndex'], unique: true }],
})

/** The definition of `scene_states` the types use: the application's extension when it declares one (`AuraTableExtensions`). */
export type SceneStatesTable = ResolvedTable<'scene_states', typeof sceneStatesTable>

/**
 * A row of `scene_states` as the repositories return it.
 * @interface
 */
export type SceneState = EntityOf<SceneStatesTable>
/**
 * What `add` takes for a row of `scene_states`: the required fields, and the optional ones.
 * @interface
 */
export type NewSceneState = InsertOf<SceneStatesTable>
/**
 * What `update` takes for a row of `scene_states`: the key and `rowVersion`, and the fields to change.
 * @interface
 */
export type SceneStateUpdate = UpdateOf<SceneStatesTable>
