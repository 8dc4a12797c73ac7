import { c, defineTable, NEW_UUID, type EntityOf, type InsertOf, type UpdateOf } from './define.js'

/** `custom_templates`: templates a user built. */
export const customTemplatesTable = defineTable({
  name: 'custom_templates',
  primaryKey: 'id',
  keyGeneration: 'uuid',
  features: { audit: true, rowVersion: true, softDelete: true },
  columns: {
    id: c.uuid().withDefault(NEW_UUID),
    name: c.text(200).notBlank(),
    description: c.text(2000).withDefault(''),
    category: c.text(100),
    tags: c.text(500).withDefault(''),
    author: c.text(200).withDefault('User'),
    isDefault: c.bool().withDefault(false),
    scriptStructureJson: c.json(),
    videoStructureJson: c.json(),
    llmPipelineJson: c.json(),
    visualPreferencesJson: c.json(),
  },
  indexes: [
    ['category'],
    ['isDefault'],
    ['createdAt'],
    ['category', 'createdAt'],
    ['isDeleted'],
    ['isDeleted', 'deletedAt'],
  ],
  fullTextSearch: ['name', 'description'],
})

export type CustomTemplate = EntityOf<typeof customTemplatesTable>
export type NewCustomTemplate = InsertOf<typeof customTemplatesTable>
export type CustomTemplateUpdate = UpdateOf<typeof customTemplatesTable>
