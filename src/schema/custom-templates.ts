import {
  c,
  defineTable,
  NEW_UUID,
  type EntityOf,
  type InsertOf,
  type ResolvedTable,
  type UpdateOf,
} from './define.js'

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

/** The definition of `custom_templates` the types use: the application's extension when it declares one (`AuraTableExtensions`). */
export type CustomTemplatesTable = ResolvedTable<'custom_templates', typeof customTemplatesTable>

/**
 * A row of `custom_templates` as the repositories return it.
 * @interface
 */
export type CustomTemplate = EntityOf<CustomTemplatesTable>
/**
 * What `add` takes for a row of `custom_templates`: the required fields, and the optional ones.
 * @interface
 */
export type NewCustomTemplate = InsertOf<CustomTemplatesTable>
/**
 * What `update` takes for a row of `custom_templates`: the key and `rowVersion`, and the fields to change.
 * @interface
 */
export type CustomTemplateUpdate = UpdateOf<CustomTemplatesTable>
