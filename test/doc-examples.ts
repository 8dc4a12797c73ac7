import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const ROOT = join(import.meta.dirname, '..')

/** The TypeScript code blocks (```ts) of a Markdown file of the repository, in order. */
export function typescriptBlocks(file: string, fromHeading?: string): string[] {
  let text = readFileSync(join(ROOT, file), 'utf8')
  if (fromHeading !== undefined) {
    const at = text.indexOf(fromHeading)
    if (at < 0) throw new Error(`${file} has no heading "${fromHeading}"`)
    text = text.slice(at)
  }
  const blocks = [...text.matchAll(/^```ts\n([\s\S]*?)^```/gm)].map((m) => m[1]!)
  if (blocks.length === 0) throw new Error(`${file} has no TypeScript example`)
  return blocks
}

/** The shell (```sh) blocks of a markdown file in the section under `heading`, in order. */
export function shellBlocks(file: string, heading: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8')
  const at = text.indexOf(`\n${heading}\n`)
  if (at < 0) throw new Error(`${file} has no heading "${heading}"`)
  const next = text.indexOf('\n## ', at + heading.length + 1)
  const section = text.slice(at, next < 0 ? undefined : next)
  const blocks = [...section.matchAll(/^```sh\n([\s\S]*?)^```/gm)].map((m) => m[1]!)
  if (blocks.length === 0) throw new Error(`${file}, "${heading}" has no shell block`)
  return blocks
}

/** What an example says it prints: the `// …` comment after each console.log line. */
export function expectedOutput(code: string): string[] {
  return code
    .split('\n')
    .filter((line) => line.trimStart().startsWith('console.log(') && line.includes(') // '))
    .map((line) => line.slice(line.lastIndexOf(') // ') + 5).trim())
}

/**
 * Runs `code` as an ES module with `AURA_DATABASE_URL` set to `url` and returns the lines it
 * printed. It runs from a file inside the package, so `import … from 'aura-data'` resolves to the
 * package itself (the built dist), as it would for a user; tsx strips the types.
 */
export function runExample(code: string, name: string, url: string): string[] {
  const dir = join(ROOT, 'test', '.tmp')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${name}-${process.pid}.mts`)
  writeFileSync(file, code)
  try {
    const stdout = execFileSync(process.execPath, ['--import', 'tsx', file], {
      cwd: ROOT,
      env: { ...process.env, AURA_DATABASE_URL: url },
      encoding: 'utf8',
    })
    return stdout.trim().split('\n')
  } finally {
    rmSync(file, { force: true })
  }
}

/**
 * Type-checks examples (name → code) as a user's strict TypeScript project would, against the
 * package's built declarations; returns tsc's report, empty when they type-check. tsx only strips
 * types, so without this an example could call a method with arguments it ignores.
 */
export function typecheckExamples(examples: Record<string, string>): string {
  const dir = join(ROOT, 'test', '.tmp', `typecheck-${process.pid}`)
  mkdirSync(dir, { recursive: true })
  try {
    for (const [name, code] of Object.entries(examples)) writeFileSync(join(dir, `${name}.mts`), code)
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023'],
          types: ['node'],
          strict: true,
          noUncheckedIndexedAccess: true,
          skipLibCheck: true,
          noEmit: true,
        },
        include: ['*.mts'],
      }),
    )
    try {
      execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], {
        cwd: ROOT,
        encoding: 'utf8',
      })
      return ''
    } catch (error) {
      return String((error as { stdout?: string }).stdout ?? error)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
