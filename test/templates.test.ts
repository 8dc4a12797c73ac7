import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { ValidationError, type NewTemplate, type Template } from '../src/index.js'
import { libraryDialects as dialects } from './dialects.js'
import { useMigratedDatabase } from './helpers.js'

const DATA = '{"duration":30}'

/** Text that is query syntax in FTS5 or tsquery, or SQL: every one must be plain text. */
const HOSTILE = [
  '"',
  '*',
  "'",
  'OR',
  'NEAR',
  '-',
  '"unbalanced',
  'a OR b',
  'NEAR(a b)',
  '-social',
  'social*',
  'social AND NOT media',
  "o'brien",
  '\\',
  '%',
  '_',
  '( ) : ^ { } [ ] + ! & | < >',
  "'; drop table templates; --",
  'col:value',
]

const names = (list: readonly { name: string }[]) => list.map((t) => t.name)

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: template search`, () => {
    const ctx = useMigratedDatabase(d)

    it('finds the seeded templates by tag, text, category and sub-category', async () => {
      const { db } = ctx
      await db.seed()
      expect(names(await db.templates.search({ tags: 'quick' }))).toEqual(['Social Media Quick Post'])
      expect(names(await db.templates.search({ tags: ['SHOWCASE'] }))).toEqual(['Product Showcase'])
      // Any of the tags; most used first.
      expect(names(await db.templates.search({ tags: ['education', 'marketing'] }))).toEqual([
        'Product Showcase',
        'Educational Content',
      ])
      expect(names(await db.templates.search({ tags: 'social, learning' }))).toEqual([
        'Social Media Quick Post',
        'Educational Content',
      ])
      expect(names(await db.customTemplates.search({ tags: ['quick'] }))).toEqual([
        'Quick Social Media Template',
      ])
      expect(names(await db.customTemplates.search({ tags: 'series' }))).toEqual([
        'My Custom Educational Template',
      ])
      expect(names(await db.templates.search({ text: 'EDUC' }))).toEqual(['Educational Content'])
      expect(names(await db.templates.search({ text: 'dynamic' }))).toEqual(['Product Showcase'])
      expect(names(await db.templates.search({ category: 'Education' }))).toEqual(['Educational Content'])
      expect(names(await db.templates.search({ subCategory: 'Short' }))).toEqual(['Social Media Quick Post'])
      expect(names(await db.templates.search({ category: 'Education', tags: 'quick' }))).toEqual([])
      expect(names(await db.templates.search())).toEqual([
        'Social Media Quick Post',
        'Product Showcase',
        'Educational Content',
      ])
      expect(names(await db.customTemplates.search({ text: 'quick soc', category: 'SocialMedia' }))).toEqual([
        'Quick Social Media Template',
      ])
    })

    describe('on its own templates', () => {
      const ids: Record<string, string> = {}
      const add = async (template: Partial<NewTemplate> & { name: string }) => {
        const stored = await ctx.db.templates.add({ category: 'Own', templateData: DATA, ...template })
        ids[template.name] = stored.id
        return stored
      }
      const own = async (search: Parameters<typeof ctx.db.templates.search>[0]) =>
        names(await ctx.db.templates.search({ category: 'Own', ...search }))

      it('matches whole words by prefix, case-insensitively, every word somewhere in name or description', async () => {
        await add({
          name: 'Café Über Tutorial',
          description: 'For youtube.com and e-mail campaigns',
          usageCount: 5,
        })
        await add({ name: 'Organic Growth', description: 'Grow a channel', usageCount: 4 })
        await add({
          name: 'Near "Far" O\'Brien -minus* (test)',
          description: 'Odd punctuation',
          usageCount: 3,
        })
        expect(await own({ text: 'tutorial' })).toEqual(['Café Über Tutorial'])
        expect(await own({ text: 'TUT caf' })).toEqual(['Café Über Tutorial'])
        expect(await own({ text: 'café über' })).toEqual(['Café Über Tutorial'])
        // Words split at punctuation the same way on both databases.
        expect(await own({ text: 'youtube' })).toEqual(['Café Über Tutorial'])
        expect(await own({ text: 'com mail' })).toEqual(['Café Über Tutorial'])
        // A prefix of a word, not any substring; every word must match.
        expect(await own({ text: 'utorial' })).toEqual([])
        expect(await own({ text: 'tutorial growth' })).toEqual([])
        expect(await own({ text: 'gro' })).toEqual(['Organic Growth'])
        // Query syntax is plain text: OR is the word "or…", NEAR the word "near…".
        expect(await own({ text: 'OR' })).toEqual(['Organic Growth'])
        expect(await own({ text: 'NEAR' })).toEqual(['Near "Far" O\'Brien -minus* (test)'])
        expect(await own({ text: '"far" -minus* (test)' })).toEqual(['Near "Far" O\'Brien -minus* (test)'])
        expect(await own({ text: "o'brien" })).toEqual(['Near "Far" O\'Brien -minus* (test)'])
        // Text without any word matches everything, like no text.
        expect(await own({ text: ' "*- ' })).toEqual(await own({}))
        for (const text of HOSTILE) {
          await expect(ctx.db.templates.search({ text }), text).resolves.toBeInstanceOf(Array)
          await expect(ctx.db.customTemplates.search({ text }), text).resolves.toBeInstanceOf(Array)
          await expect(ctx.db.templates.search({ tags: [text] }), text).resolves.toEqual([])
        }
      })

      it('matches tags exactly, per trimmed tag, A–Z case-insensitively', async () => {
        const stored = await add({ name: 'Tagged', tags: ' social media , short-form ,Quick,,' })
        expect(stored.tags).toBe('social media,short-form,Quick')
        expect(await own({ tags: 'Social Media' })).toEqual(['Tagged'])
        expect(await own({ tags: ['  quick  '] })).toEqual(['Tagged'])
        expect(await own({ tags: 'SHORT-FORM' })).toEqual(['Tagged'])
        for (const partial of ['media', 'social', 'short', 'form', 'quic', 'social media,', '%', '_']) {
          expect(await own({ tags: partial }), partial).toEqual(partial === 'social media,' ? ['Tagged'] : [])
        }
        const updated = await ctx.db.templates.update({
          id: stored.id,
          rowVersion: stored.rowVersion,
          tags: 'a ,b',
        })
        expect(updated.tags).toBe('a,b')
        expect(await own({ tags: 'b' })).toEqual(['Tagged'])
        expect(await own({ tags: 'quick' })).toEqual([])
      })

      it('orders by usage, then rating, then name', async () => {
        await add({ name: 'Rank C', description: 'ranked', usageCount: 10, rating: 3 })
        await add({ name: 'Rank A', description: 'ranked', usageCount: 10, rating: 4.5 })
        await add({ name: 'Rank B', description: 'ranked', usageCount: 10, rating: 4.5 })
        await add({ name: 'Rank D', description: 'ranked', usageCount: 50, rating: 1 })
        expect(await own({ text: 'ranked' })).toEqual(['Rank D', 'Rank A', 'Rank B', 'Rank C'])
        expect(await own({ text: 'ranked', limit: 2 })).toEqual(['Rank D', 'Rank A'])
      })

      it('follows renames and deletes; soft-deleted custom templates are not found until restored', async () => {
        const renamed = await add({ name: 'Before Rename', description: 'mutable' })
        await ctx.db.templates.update({
          id: renamed.id,
          rowVersion: renamed.rowVersion,
          name: 'After Rename',
        })
        expect(await own({ text: 'before' })).toEqual([])
        expect(await own({ text: 'after mutable' })).toEqual(['After Rename'])
        await ctx.db.templates.delete(renamed.id)
        expect(await own({ text: 'after' })).toEqual([])

        const custom = await ctx.db.customTemplates.add({
          name: 'Vanishing Template',
          category: 'Own',
          tags: 'ghost',
          scriptStructureJson: DATA,
          videoStructureJson: DATA,
          llmPipelineJson: DATA,
          visualPreferencesJson: DATA,
        })
        const find = async () => names(await ctx.db.customTemplates.search({ text: 'vanish', tags: 'ghost' }))
        expect(await find()).toEqual(['Vanishing Template'])
        await ctx.db.customTemplates.delete(custom.id)
        expect(await find()).toEqual([])
        await ctx.db.customTemplates.restore(custom.id)
        expect(await find()).toEqual(['Vanishing Template'])
        await ctx.db.customTemplates.purge(custom.id)
        expect(await find()).toEqual([])
      })

      it('refuses bad criteria before any SQL', async () => {
        const bad = [
          () => ctx.db.templates.search({ limit: 0 }),
          () => ctx.db.templates.search({ limit: 1001 }),
          () => ctx.db.templates.search({ limit: 2.5 }),
          () => ctx.db.templates.search({ text: 'x'.repeat(201) }),
          () => ctx.db.templates.search({ text: 42 as unknown as string }),
          () => ctx.db.templates.search({ tags: [7] as unknown as string[] }),
          () => ctx.db.templates.search({ category: 'c'.repeat(51) }),
          () => ctx.db.customTemplates.search({ subCategory: 'Short' }),
        ]
        for (const call of bad) await expect(call()).rejects.toBeInstanceOf(ValidationError)
      })
    })
  })

  describe.skipIf(!d.available)(`${d.label}: template search on 10,000 templates`, () => {
    const ctx = useMigratedDatabase(d)
    const ADJECTIVES = [
      'Bright',
      'Calm',
      'Daring',
      'Eager',
      'Fancy',
      'Gentle',
      'Happy',
      'Jolly',
      'Kind',
      'Lively',
      'Merry',
      'Nimble',
      'Proud',
    ]
    const NOUNS = [
      'Intro',
      'Story',
      'Review',
      'Promo',
      'Lesson',
      'Recap',
      'Teaser',
      'Vlog',
      'Guide',
      'Demo',
      'Trailer',
      'Short',
      'Update',
      'Digest',
      'Launch',
      'Memo',
      'Pitch',
    ]
    const TOPICS = ['cooking', 'travel', 'fitness', 'gaming', 'finance', 'music', 'science']
    const COUNT = 10_000

    function generated(i: number): NewTemplate {
      return {
        name: `${ADJECTIVES[i % ADJECTIVES.length]} ${NOUNS[i % NOUNS.length]} ${i}`,
        description: `Template number ${i} for ${TOPICS[i % TOPICS.length]} videos`,
        category: `Cat${i % 5}`,
        subCategory: `Sub${i % 3}`,
        tags: `t${i % 11},${TOPICS[i % TOPICS.length]}`,
        templateData: DATA,
        // Distinct usage counts: the expected order depends on nothing else.
        usageCount: i,
        rating: (i % 50) / 10,
      }
    }

    /** The reference semantics, in plain JavaScript: word prefixes, any tag, usage then rating. */
    function expected(
      all: readonly Template[],
      search: { text?: string; category?: string; subCategory?: string; tags?: string[]; limit: number },
    ): string[] {
      const queryWords = (search.text ?? '').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []
      return all
        .filter((t) => {
          const words = `${t.name} ${t.description}`.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []
          if (!queryWords.every((q) => words.some((w) => w.startsWith(q)))) return false
          if (search.category !== undefined && t.category !== search.category) return false
          if (search.subCategory !== undefined && t.subCategory !== search.subCategory) return false
          if (
            search.tags &&
            !search.tags.some((tag) => t.tags.toLowerCase().split(',').includes(tag.toLowerCase()))
          )
            return false
          return true
        })
        .sort((a, b) => b.usageCount - a.usageCount || b.rating - a.rating)
        .slice(0, search.limit)
        .map((t) => t.id)
    }

    it('returns exactly the matching templates, most used first (times printed, not asserted)', async () => {
      const { db } = ctx
      const started = performance.now()
      // Bulk-loaded with plain SQL, as an import tool would: the search index (SQLite triggers,
      // PostgreSQL expression index) follows every writer, not only the library. Then the
      // planner statistics are refreshed, as autovacuum or a scheduled ANALYZE would.
      for (let start = 0; start < COUNT; start += 500) {
        const rows = Array.from({ length: Math.min(500, COUNT - start) }, (_, k) => {
          const t = generated(start + k)
          return {
            name: t.name,
            description: t.description,
            category: t.category,
            sub_category: t.subCategory,
            tags: t.tags,
            template_data: t.templateData,
            usage_count: t.usageCount,
            rating: t.rating,
          }
        })
        await db.dialect.kysely.insertInto('templates').values(rows).execute()
      }
      await sql`analyze templates`.execute(db.dialect.kysely)
      const inserted = performance.now() - started
      const all = await db.templates.getAll()
      expect(all).toHaveLength(COUNT)

      const searches = [
        { text: 'bright intro', limit: 1000 },
        { text: 'jol', category: 'Cat2', limit: 50 },
        { text: 'cooking', tags: ['t3', 'T5'], limit: 1000 },
        { tags: ['gaming'], subCategory: 'Sub1', limit: 100 },
        { text: 'number 1234', limit: 10 },
        { text: 'template videos', limit: 20 },
        { text: 'nomatchatall', limit: 10 },
        { tags: ['t10'], category: 'Cat4', subCategory: 'Sub0', limit: 1000 },
      ]
      const timings: string[] = []
      for (const search of searches) {
        const t0 = performance.now()
        const found = await db.templates.search(search)
        timings.push(
          `${JSON.stringify(search)}: ${found.length} in ${(performance.now() - t0).toFixed(1)} ms`,
        )
        expect(
          found.map((t) => t.id),
          JSON.stringify(search),
        ).toEqual(expected(all, search))
      }
      expect((await db.templates.search({ text: 'bright intro', limit: 1000 })).length).toBeGreaterThan(0)
      console.log(
        `[${d.name}] ${COUNT} templates inserted in ${inserted.toFixed(0)} ms; searches:\n  ${timings.join('\n  ')}`,
      )
    })
  })
}
