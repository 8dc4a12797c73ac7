/**
 * Every `@example` in the doc comments of src/ type-checks as a user's strict TypeScript code
 * against the package's published declarations: an example that names something the package
 * does not export, or calls a method with arguments it does not take, fails here.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { ROOT, typecheckExamples } from './doc-examples.js'

/** The examples of one file: `@example` to the end of its doc comment, the ` * ` prefixes removed. */
function examplesOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8')
  return [...text.matchAll(/\/\*\*[\s\S]*?\*\//g)].flatMap((comment) =>
    comment[0]
      .split(/^\s*\*\s*@example[ \t]*$/m)
      .slice(1)
      .map((part) =>
        part
          .replace(/\*\/$/, '')
          .split(/^\s*\*\s*@\w+/m)[0]!
          .split('\n')
          .map((line) => line.replace(/^\s*\* ?/, ''))
          .join('\n')
          .replace(/^```\w*\n|```\s*$/gm, '')
          .trim(),
      ),
  )
}

/** Every name the package's entry point exports, values and types. */
function packageExports(): string[] {
  const entry = join(ROOT, 'src', 'index.ts')
  const program = ts.createProgram([entry], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  })
  const checker = program.getTypeChecker()
  const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!
  return checker.getExportsOfModule(module).map((symbol) => symbol.name)
}

/**
 * What an example may assume exists, as a user's code around it would have it: an open database,
 * a unit of work, and the values the examples refer to by name. An example that declares one of
 * them itself (`const db = await openDatabase()`) uses its own.
 */
const CONTEXT: Record<string, string> = {
  db: 'AuraDatabase',
  uow: 'UnitOfWork',
  projectId: 'string',
  p: 'ProjectState',
  project: 'ProjectState',
  v3: 'ProjectVersion',
  files: 'string[]',
}

function contextFor(code: string): string {
  return Object.entries(CONTEXT)
    .filter(([name]) => !new RegExp(`\\b(const|let|var)\\s+${name}\\b`).test(code))
    .map(([name, type]) => `declare const ${name}: ${type}\n`)
    .join('')
}

describe('the @example blocks of the doc comments', () => {
  const sources = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join('src', file))
  const examples = sources.flatMap((file) => examplesOf(file).map((code, i) => ({ file, i, code })))

  it('are there: each file that has one is read', () => {
    expect(examples.length).toBeGreaterThan(20)
  })

  it('type-check against the published declarations, with only the package exports and a database in scope', () => {
    const imports = `import { ${packageExports().join(', ')} } from 'aura-data'\n`
    const modules = Object.fromEntries(
      examples.map(({ file, i, code }) => [
        `${file.replace(/\W/g, '_')}_${i}`,
        // At the top level of a module, as a user writes it: imports and top-level await.
        `${imports}${contextFor(code)}\n${code}\nexport {}\n`,
      ]),
    )
    expect(typecheckExamples(modules)).toBe('')
  })
})
