import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '..')

/**
 * The packages whose types the declarations reachable from `entry` name: each imported module
 * outside the package, and `node` for Node's globals (Buffer, NodeJS.*) and `node:` modules.
 */
function typesNeeded(entry: string): Set<string> {
  const needed = new Set<string>()
  const seen = new Set<string>()
  const walk = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    const text = readFileSync(file, 'utf8')
    for (const [, target] of text.matchAll(/(?:from\s+|import\()['"]([^'"]+)['"]/g)) {
      if (target!.startsWith('.')) {
        const declaration = resolve(dirname(file), target!).replace(/\.c?js$/, '.d.ts')
        const cjs = declaration.replace(/\.d\.ts$/, '.d.cts')
        if (existsSync(declaration)) walk(declaration)
        else if (existsSync(cjs)) walk(cjs)
      } else needed.add(target!.startsWith('node:') ? 'node' : target!)
    }
    if (/\bBuffer\b|\bNodeJS\./.test(text)) needed.add('node')
  }
  walk(entry)
  return needed
}

// Issue 23, item 11: an application installing aura-data gets, as runtime dependencies, only the
// `@types/*` packages its compiler needs to read aura-data's declarations.
describe('the published declarations and the @types dependencies', () => {
  it('every @types/* dependency is one the declarations need, and every one they need is there', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>
    }
    const declared = Object.keys(manifest.dependencies)
      .filter((name) => name.startsWith('@types/'))
      .sort()
    const needed = new Set([
      ...typesNeeded(join(ROOT, 'dist', 'src', 'index.d.ts')),
      ...typesNeeded(join(ROOT, 'dist', 'cjs', 'index.d.ts')),
    ])
    // A module that ships its own types (kysely, zod) needs no @types package.
    const withoutOwnTypes = [...needed].filter((name) =>
      existsSync(join(ROOT, 'node_modules', '@types', name)),
    )
    expect(declared).toEqual(withoutOwnTypes.map((name) => `@types/${name}`).sort())
  })
})
