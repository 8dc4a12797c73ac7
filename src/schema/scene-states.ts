import { c, defineTable, NEW_UUID, type EntityOf, type InsertOf, type UpdateOf } from './define.js'

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

export type SceneState = EntityOf<typeof sceneStatesTable>
export type NewSceneState = InsertOf<typeof sceneStatesTable>
export type SceneStateUpdate = UpdateOf<typeof sceneStatesTable>
