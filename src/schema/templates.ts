import { c, defineTable, type EntityOf, type InsertOf, type UpdateOf } from './define.js'

/** `templates`: system and community project templates. */
export const templatesTable = defineTable({
  name: 'templates',
  primaryKey: 'id',
  keyGeneration: 'uuid',
  features: { audit: true, rowVersion: true, softDelete: false },
  columns: {
    id: c.uuid().withDefault(),
    name: c.text(200).notBlank(),
    description: c.text(1000).withDefault(),
    category: c.text(50),
    subCategory: c.text(100).withDefault(),
    previewImage: c.text(500).withDefault(),
    previewVideo: c.text(500).withDefault(),
    tags: c.text(500).withDefault(),
    templateData: c.json(),
    author: c.text(200).withDefault(),
    isSystemTemplate: c.bool().withDefault(),
    isCommunityTemplate: c.bool().withDefault(),
    usageCount: c.int().range(0).withDefault(),
    rating: c.real().range(0, 5).withDefault(),
    ratingCount: c.int().range(0).withDefault(),
  },
})

export type Template = EntityOf<typeof templatesTable>
export type NewTemplate = InsertOf<typeof templatesTable>
export type TemplateUpdate = UpdateOf<typeof templatesTable>
