import { ValidationError } from '../errors.js'
import {
  customTemplatesTable,
  type CustomTemplate,
  type CustomTemplatesTable,
  type NewCustomTemplate,
  type CustomTemplateUpdate,
} from '../schema/custom-templates.js'
import type { TableDef } from '../schema/define.js'
import {
  templatesTable,
  type Template,
  type TemplatesTable,
  type NewTemplate,
  type TemplateUpdate,
} from '../schema/templates.js'
import { Repository } from './repository.js'
import { SoftDeleteRepository } from './soft-delete-repository.js'
import type { Row, Session, TxContext } from './session.js'
import { validateFieldValue, validateTextOperand } from './validation.js'

/** What `templates.search` and `customTemplates.search` look for; every given criterion must hold. */
export interface TemplateSearch {
  /**
   * Words to find in the name or description: each word must start a word there, case-insensitively
   * (`educ` finds "Educational Content"). Only letters and digits count: punctuation and query
   * syntax (`"`, `*`, `-`, `OR`, `NEAR`) are plain text, and text without any word matches all.
   * At most 200 characters.
   */
  readonly text?: string
  /** Exact category. */
  readonly category?: string
  /** Exact sub-category (system templates only: custom templates have none). */
  readonly subCategory?: string
  /**
   * Tags, as a list or one comma-separated string: a template matches when it has any of them
   * as a whole tag (trimmed; A–Z case-insensitive).
   */
  readonly tags?: readonly string[] | string
  /** At most this many results (1 to 1000); 50 when omitted. */
  readonly limit?: number
}

const MAX_TEXT_LENGTH = 200
const DEFAULT_LIMIT = 50
const MAX_LIMIT = 1000
/** A word: letters, digits and the combining marks inside words (Devanagari, Thai, …). */
const WORD = /[\p{L}\p{N}\p{M}]+/gu

/** Tags as stored: each trimmed, empty ones dropped, joined by plain commas. */
function canonicalTags(tags: string): string {
  return tags
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag.length > 0)
    .join(',')
}

function withCanonicalTags(values: Record<string, unknown>): Record<string, unknown> {
  return typeof values.tags === 'string' ? { ...values, tags: canonicalTags(values.tags) } : values
}

/** A–Z to a–z and nothing else: the case-insensitivity both databases share (see `tagListMatch`). */
function foldAscii(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase())
}

interface CheckedSearch {
  readonly words: string[]
  readonly category: string | undefined
  readonly subCategory: string | undefined
  readonly tags: string[]
  readonly limit: number
}

function checkSearch(table: TableDef, search: TemplateSearch, hasSubCategory: boolean): CheckedSearch {
  if (typeof search !== 'object' || search === null) {
    throw new ValidationError(`${table.name}.search expects an object of criteria`)
  }
  let words: string[] = []
  if (search.text !== undefined) {
    if (typeof search.text !== 'string')
      throw new ValidationError(`${table.name}.search text must be a string`, 'text')
    if (search.text.length > MAX_TEXT_LENGTH) {
      throw new ValidationError(
        `${table.name}.search text must be at most ${MAX_TEXT_LENGTH} characters`,
        'text',
      )
    }
    words = search.text.normalize('NFC').match(WORD) ?? []
  }
  if (search.category !== undefined) validateFieldValue(table, 'category', search.category)
  if (search.subCategory !== undefined) {
    if (!hasSubCategory) {
      throw new ValidationError(`${table.name} have no sub-category to search by`, 'subCategory')
    }
    validateFieldValue(table, 'subCategory', search.subCategory)
  }
  const given = search.tags === undefined ? [] : typeof search.tags === 'string' ? [search.tags] : search.tags
  if (!Array.isArray(given) || given.some((tag) => typeof tag !== 'string')) {
    throw new ValidationError(`${table.name}.search tags must be a string or a list of strings`, 'tags')
  }
  // As for filters: PostgreSQL text cannot hold NUL (a raw 22021), and a lone surrogate would be
  // sent as U+FFFD, so the search would look for another tag than the one given.
  for (const tag of given as readonly string[]) validateTextOperand(table, 'tags', tag)
  const tags = [
    ...new Set(
      given.flatMap((tag: string) =>
        tag
          .split(',')
          .map((t) => foldAscii(t.trim()))
          .filter((t) => t.length > 0),
      ),
    ),
  ]
  const limit = search.limit ?? DEFAULT_LIMIT
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new ValidationError(`${table.name}.search limit must be an integer from 1 to ${MAX_LIMIT}`, 'limit')
  }
  return { words, category: search.category, subCategory: search.subCategory, tags, limit }
}

/** Runs a checked search on `templates` or `custom_templates` through the dialect's full-text index. */
async function runSearch(
  session: Session,
  table: typeof templatesTable | typeof customTemplatesTable,
  criteria: CheckedSearch,
  order: readonly [string, 'asc' | 'desc'][],
): Promise<Row[]> {
  const dialect = session.dialect
  const t = table.name as 'templates' | 'custom_templates'
  return session.read(async (db) => {
    let query = db.selectFrom(t).selectAll(t)
    if (table.features.softDelete) query = query.where(`${t}.is_deleted`, '=', dialect.encode('bool', false))
    if (criteria.category !== undefined) query = query.where(`${t}.category`, '=', criteria.category)
    if (criteria.subCategory !== undefined)
      query = query.where(`${t}.sub_category`, '=', criteria.subCategory)
    if (criteria.words.length > 0) query = query.where(dialect.fullTextMatch(table, criteria.words))
    if (criteria.tags.length > 0) {
      const tags = criteria.tags
      query = query.where((eb) => eb.or(tags.map((tag) => dialect.tagListMatch(`${t}.tags`, tag))))
    }
    for (const [column, direction] of order) query = query.orderBy(`${t}.${column}`, direction)
    return query.limit(criteria.limit).execute()
  })
}

/**
 * The repository of `templates` (system and community templates): the generic operations plus
 * `search`. Tags are stored canonical (each trimmed, joined by plain commas) whatever the input.
 */
export class TemplatesRepository extends Repository<TemplatesTable, Template, NewTemplate, TemplateUpdate> {
  constructor(table: TemplatesTable, session: Session) {
    super(table, session)
  }

  /**
   * Finds templates by text, category, sub-category and tags (see {@link TemplateSearch}), most
   * used first, then best rated, then by name.
   *
   * @example
   * const found = await db.templates.search({ text: 'social', tags: ['quick'], limit: 10 })
   */
  async search(search: TemplateSearch = {}): Promise<Template[]> {
    const criteria = checkSearch(this.table, search, true)
    const rows = await runSearch(this.session, this.table, criteria, [
      ['usage_count', 'desc'],
      ['rating', 'desc'],
      ['name', 'asc'],
      ['id', 'asc'],
    ])
    return rows.map((row) => this.fromRow(row))
  }

  /** @internal */
  override insertIn(tx: TxContext, values: Record<string, unknown>): Promise<Template> {
    return super.insertIn(tx, withCanonicalTags(values))
  }

  /** @internal */
  override insertManyIn(tx: TxContext, rows: readonly Record<string, unknown>[]): Promise<Template[]> {
    return super.insertManyIn(tx, rows.map(withCanonicalTags))
  }

  /** @internal */
  override updateIn(
    tx: TxContext,
    key: unknown,
    rowVersion: number | null,
    changes: Record<string, unknown>,
  ): Promise<Template> {
    return super.updateIn(tx, key, rowVersion, withCanonicalTags(changes))
  }
}

/**
 * The repository of `custom_templates` (a user's own templates; soft delete): the generic
 * operations plus `search`. Tags are stored canonical, as for system templates.
 */
export class CustomTemplatesRepository extends SoftDeleteRepository<
  CustomTemplatesTable,
  CustomTemplate,
  NewCustomTemplate,
  CustomTemplateUpdate
> {
  constructor(table: CustomTemplatesTable, session: Session) {
    super(table, session)
  }

  /**
   * Finds custom templates by text, category and tags (see {@link TemplateSearch}; there is no
   * sub-category). Custom templates have no usage count or rating, so the newest come first,
   * then by name. Soft-deleted templates are never found.
   *
   * @example
   * const mine = await db.customTemplates.search({ tags: 'education' })
   */
  async search(search: TemplateSearch = {}): Promise<CustomTemplate[]> {
    const criteria = checkSearch(this.table, search, false)
    const rows = await runSearch(this.session, this.table, criteria, [
      ['created_at', 'desc'],
      ['name', 'asc'],
      ['id', 'asc'],
    ])
    return rows.map((row) => this.fromRow(row))
  }

  /** @internal */
  override insertIn(tx: TxContext, values: Record<string, unknown>): Promise<CustomTemplate> {
    return super.insertIn(tx, withCanonicalTags(values))
  }

  /** @internal */
  override insertManyIn(tx: TxContext, rows: readonly Record<string, unknown>[]): Promise<CustomTemplate[]> {
    return super.insertManyIn(tx, rows.map(withCanonicalTags))
  }

  /** @internal */
  override updateIn(
    tx: TxContext,
    key: unknown,
    rowVersion: number | null,
    changes: Record<string, unknown>,
  ): Promise<CustomTemplate> {
    return super.updateIn(tx, key, rowVersion, withCanonicalTags(changes))
  }
}
