import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import mermaid from 'mermaid'
import { describe, expect, it } from 'vitest'
import { allTables } from '../src/index.js'
import { ROOT } from './cli-helpers.js'
import { useChromium } from './studio-helpers.js'

/** The areas docs/er-diagram.md is split into (issue 13), in order, then the whole schema. */
const AREAS = {
  Projects: ['project_states', 'scene_states', 'asset_states', 'render_checkpoints'],
  'Versions and blobs': ['project_versions', 'content_blobs'],
  'Configuration and templates': [
    'configurations',
    'system_configuration',
    'user_setups',
    'templates',
    'custom_templates',
  ],
  Operations: ['export_history', 'action_logs', 'audit_entries'],
} as const
const WHOLE = 'The whole schema'

/** Wide enough for a documentation page at its natural size: GitHub's column is about 1000 px. */
const MAX_AREA_WIDTH = 1000

interface Diagram {
  readonly heading: string
  readonly source: string
}

/** Each `## heading` of docs/er-diagram.md with the Mermaid block under it. */
function diagrams(): Diagram[] {
  const doc = readFileSync(join(ROOT, 'docs', 'er-diagram.md'), 'utf8')
  return [...doc.matchAll(/^## (.+)\n[\s\S]*?^```mermaid\n([\s\S]*?)^```/gm)].map((m) => ({
    heading: m[1]!,
    source: m[2]!,
  }))
}

/** The tables a diagram draws with their columns (`name {`). */
function entities(source: string): string[] {
  return [...source.matchAll(/^ {4}(\w+) \{$/gm)].map((m) => m[1]!).sort()
}

/** Its relationship lines, trimmed. */
function relationships(source: string): string[] {
  return source
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => / : "/.test(line))
}

describe('docs/er-diagram.md: one diagram per area, then the whole schema', () => {
  const found = diagrams()

  it('has the four areas and the whole diagram, in that order', () => {
    expect(found.map((d) => d.heading)).toEqual([...Object.keys(AREAS), WHOLE])
  })

  it('every diagram parses with the real Mermaid parser as an ER diagram', async () => {
    for (const { heading, source } of found) {
      await expect(mermaid.parse(source), heading).resolves.toMatchObject({ diagramType: 'er' })
    }
    // The parser refuses what Mermaid could not draw (a relationship without its label).
    await expect(mermaid.parse('erDiagram\n    a ||--o{ b\n')).rejects.toThrow(/Parse error/)
  })

  it('each table of the schema is drawn in full in exactly its area and in the whole diagram', () => {
    const tables = allTables.map((t) => t.name).sort()
    expect(Object.values(AREAS).flat().sort()).toEqual(tables)
    for (const { heading, source } of found) {
      const expected = heading === WHOLE ? tables : [...AREAS[heading as keyof typeof AREAS]].sort()
      expect(entities(source), heading).toEqual(expected)
    }
  })

  it('every relationship of the whole diagram is in the area diagram of each table it joins', () => {
    const whole = found.find((d) => d.heading === WHOLE)!
    expect(relationships(whole.source).length).toBeGreaterThan(0)
    for (const line of relationships(whole.source)) {
      const [parent, , child] = line.split(' ')
      for (const { heading, source } of found) {
        const members: readonly string[] = AREAS[heading as keyof typeof AREAS] ?? []
        if (members.includes(parent!) || members.includes(child!)) {
          expect(relationships(source), heading).toContain(line)
        }
      }
    }
  })
})

const chromiumBrowser = useChromium('the ER diagrams drawn in Chromium (test/er-diagram.test.ts)')
const hasBrowser = chromiumBrowser.available

interface Rendered {
  readonly width: number
  readonly height: number
  readonly entities: number
  /** Relationship lines that pass through the box of a table they do not join. */
  readonly crossings: string[]
}

describe.skipIf(!hasBrowser)('docs/er-diagram.md drawn by Mermaid in Chromium', () => {
  it(`draws every area at most ${MAX_AREA_WIDTH} px wide; in no diagram a line behind a table it does not join`, async () => {
    const page = await chromiumBrowser.browser().newPage()
    try {
      await page.setContent('<!doctype html><html><body></body></html>')
      await page.addScriptTag({ path: join(ROOT, 'node_modules/mermaid/dist/mermaid.min.js') })
      await page.addScriptTag({ path: join(ROOT, 'test', 'er-diagram.browser.js') })
      const sources = diagrams().map((d) => d.source)
      const rendered = (await page.evaluate(`measureErDiagrams(${JSON.stringify(sources)})`)) as Rendered[]
      const areas = diagrams().map((d, i) => ({ heading: d.heading, ...rendered[i]! }))
      for (const area of areas.filter((a) => a.heading !== WHOLE)) {
        expect(area.entities, area.heading).toBeGreaterThan(0)
        expect(area.width, `${area.heading}: ${area.width}×${area.height}`).toBeLessThanOrEqual(
          MAX_AREA_WIDTH,
        )
        expect(area.crossings, area.heading).toEqual([])
      }
      const whole = areas.find((a) => a.heading === WHOLE)!
      expect(whole.entities).toBe(allTables.length)
      expect(whole.crossings).toEqual([])
    } finally {
      await page.close()
    }
  })
})
