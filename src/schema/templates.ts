import {
  c,
  defineTable,
  NEW_UUID,
  type EntityOf,
  type InsertOf,
  type ResolvedTable,
  type UpdateOf,
} from './define.js'

/** `templates`: system and community project templates. */
export const templatesTable = defineTable({
  name: 'templates',
  primaryKey: 'id',
  keyGeneration: 'uuid',
  features: { audit: true, rowVersion: true, softDelete: false },
  columns: {
    id: c.uuid().withDefault(NEW_UUID),
    name: c.text(200).notBlank(),
    description: c.text(1000).withDefault(''),
    category: c.text(50),
    subCategory: c.text(100).withDefault(''),
    previewImage: c.text(500).withDefault(''),
    previewVideo: c.text(500).withDefault(''),
    tags: c.text(500).withDefault(''),
    templateData: c.json(),
    author: c.text(200).withDefault('System'),
    isSystemTemplate: c.bool().withDefault(true),
    isCommunityTemplate: c.bool().withDefault(false),
    usageCount: c.int().range(0).withDefault(0),
    rating: c.real().range(0, 5).withDefault(0),
    ratingCount: c.int().range(0).withDefault(0),
  },
  indexes: [['category'], ['isSystemTemplate'], ['isCommunityTemplate'], ['category', 'subCategory']],
  fullTextSearch: ['name', 'description'],
})

/** The definition of `templates` the types use: the application's extension when it declares one (`AuraTableExtensions`). */
export type TemplatesTable = ResolvedTable<'templates', typeof templatesTable>

/**
 * A row of `templates` as the repositories return it.
 * @interface
 */
export type Template = EntityOf<TemplatesTable>
/**
 * What `add` takes for a row of `templates`: the required fields, and the optional ones.
 * @interface
 */
export type NewTemplate = InsertOf<TemplatesTable>
/**
 * What `update` takes for a row of `templates`: the key and `rowVersion`, and the fields to change.
 * @interface
 */
export type TemplateUpdate = UpdateOf<TemplatesTable>
