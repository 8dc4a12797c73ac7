import { describe, expect, it } from 'vitest'
import { dialects } from './dialects.js'
import { expectedOutput, runExample, typecheckExamples, typescriptBlocks } from './doc-examples.js'

/** The guides in docs/ whose TypeScript blocks, read in order, are one program. */
const GUIDES = ['versions', 'undo-redo', 'templates', 'export-history'] as const

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: guides in docs/`, () => {
    for (const guide of GUIDES) {
      it(`docs/${guide}.md: its examples run as written and print what their comments say`, async () => {
        const code = typescriptBlocks(`docs/${guide}.md`).join('\n')
        const expected = expectedOutput(code)
        // A guide whose examples stopped saying what they print would pass on any behaviour.
        expect(expected.length).toBeGreaterThan(5)
        const target = await d.create()
        try {
          expect(runExample(code, `guide-${guide}-${d.name}`, target.url)).toEqual(expected)
        } finally {
          await target.drop()
        }
      })
    }
  })
}

describe('examples in the docs', () => {
  it('README and every guide type-check as a strict user project against the built package', () => {
    const examples: Record<string, string> = {
      readme: typescriptBlocks('README.md', '## Using the library')[0]!,
    }
    for (const guide of GUIDES) examples[guide] = typescriptBlocks(`docs/${guide}.md`).join('\n')
    expect(typecheckExamples(examples)).toBe('')
  })
})
