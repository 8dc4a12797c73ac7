import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { dialects } from './dialects.js'

const ROOT = join(import.meta.dirname, '..')

/** The first TypeScript block of the README's "Using the library" section. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Using the library'))
  const match = /```ts\n([\s\S]*?)```/.exec(section)
  if (!match?.[1]) throw new Error('README has no TypeScript example under "Using the library"')
  return match[1]
}

/** What the example says it prints: the `// …` comment after each console.log line. */
function expectedOutput(code: string): string[] {
  return code
    .split('\n')
    .filter((line) => line.trimStart().startsWith('console.log(') && line.includes(') // '))
    .map((line) => line.slice(line.lastIndexOf(') // ') + 5).trim())
}

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.name}: README`, () => {
    it('runs the "Using the library" example as written and prints what its comments say', async () => {
      const code = readmeExample()
      const target = await d.create()
      // Inside the package, `import … from 'aura-data'` resolves to the package itself (built dist).
      const dir = join(ROOT, 'test', '.tmp')
      mkdirSync(dir, { recursive: true })
      const file = join(dir, `readme-${d.name}-${process.pid}.mts`)
      writeFileSync(file, code)
      try {
        const stdout = execFileSync(process.execPath, ['--import', 'tsx', file], {
          cwd: ROOT,
          env: { ...process.env, AURA_DATABASE_URL: target.url },
          encoding: 'utf8',
        })
        const printed = stdout.trim().split('\n')
        expect(printed).toEqual(expectedOutput(code))
      } finally {
        rmSync(file, { force: true })
        await target.drop()
      }
    })
  })
}
