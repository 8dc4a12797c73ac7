import { describe, expect, it } from 'vitest'
import { dialects } from './dialects.js'
import { expectedOutput, runExample, typescriptBlocks } from './doc-examples.js'

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: README`, () => {
    it('runs the "Using the library" example as written and prints what its comments say', async () => {
      const code = typescriptBlocks('README.md', '## Using the library')[0]!
      const target = await d.create()
      try {
        expect(runExample(code, `readme-${d.name}`, target.url)).toEqual(expectedOutput(code))
      } finally {
        await target.drop()
      }
    })
  })
}
