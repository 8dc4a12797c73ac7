import { ESLint, type Linter } from 'eslint'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'

/*
 * The layer rules of ARCHITECTURE.md live in eslint.config.js. These tests lint snippets placed
 * at paths inside src/ (nothing is written to disk) to show each rule fires, so a resolver that
 * stops resolving `./x.js` to `./x.ts` cannot silently turn the rules off, and lint the real src/.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const ARCHITECTURE_RULES = new Set([
  'import-x/no-restricted-paths',
  'import-x/no-cycle',
  '@typescript-eslint/no-restricted-imports',
])

let eslint: ESLint

beforeAll(() => {
  eslint = new ESLint({ cwd: ROOT })
})

/** The architecture problems ESLint reports for `code` as the file `filePath` (relative to the root). */
async function architectureProblems(filePath: string, code: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath: `${ROOT}${filePath}` })
  return (result?.messages ?? []).filter((m) => m.ruleId !== null && ARCHITECTURE_RULES.has(m.ruleId))
}

describe('layer rules', () => {
  it('a lower layer importing a higher one fails: dialect/ may not import migration/', async () => {
    const problems = await architectureProblems(
      'src/dialect/sqlite/example.ts',
      "import { Migrator } from '../../migration/migrator.js'\nexport const m = Migrator\n",
    )
    expect(problems.map((p) => p.ruleId)).toEqual(['import-x/no-restricted-paths'])
    expect(problems[0]?.message).toContain('The dialect layer may not import the migration layer')
  })

  it('a type-only import upward fails too: repository/ may not name the database facade', async () => {
    const problems = await architectureProblems(
      'src/repository/example.ts',
      "import type { AuraDatabase } from '../database.js'\nexport type D = AuraDatabase\n",
    )
    expect(problems.map((p) => p.ruleId)).toEqual(['import-x/no-restricted-paths'])
    expect(problems[0]?.message).toContain('The repository layer may not import the database layer')
  })

  it('the base layer may not import an entry point: config.ts and the CLI', async () => {
    const problems = await architectureProblems(
      'src/config.ts',
      "import { ENVIRONMENT } from './cli/environment.js'\nexport const e = ENVIRONMENT\n",
    )
    expect(problems.map((p) => p.ruleId)).toEqual(['import-x/no-restricted-paths'])
  })

  it('the library entry may not import the CLI or the studio', async () => {
    const problems = await architectureProblems(
      'src/index.ts',
      "export { startStudio } from './studio/server.js'\n",
    )
    expect(problems.map((p) => p.ruleId)).toEqual(['import-x/no-restricted-paths'])
  })

  it('outside src/dialect/ no file imports one database’s files; the EF importer may read the legacy file', async () => {
    const problems = await architectureProblems(
      'src/repository/example.ts',
      "import { postgresWritableCte } from '../dialect/postgres/postgres-writable-cte.js'\nexport const c = postgresWritableCte\n",
    )
    expect(problems.map((p) => p.ruleId)).toEqual(['import-x/no-restricted-paths'])
    expect(problems[0]?.message).toContain('Only src/dialect/ may import the files of one database')
    const legacy = await architectureProblems(
      'src/operations/import-ef/example.ts',
      "import { openLegacySqliteFile } from '../../dialect/sqlite/sqlite-legacy-file.js'\nexport const o = openLegacySqliteFile\n",
    )
    expect(legacy).toEqual([])
  })

  it('a higher layer importing a lower one passes: repository/ may import domain/ and dialect/', async () => {
    const problems = await architectureProblems(
      'src/repository/example.ts',
      "import { exactJson } from '../domain/exact-json.js'\nimport { connectionOf } from '../dialect/driver.js'\nexport const x = [exactJson, connectionOf]\n",
    )
    expect(problems).toEqual([])
  })

  it('operations/ may import the type of the database facade, not its value', async () => {
    const typeOnly = await architectureProblems(
      'src/operations/example.ts',
      "import type { AuraDatabase } from '../database.js'\nexport type D = AuraDatabase\n",
    )
    expect(typeOnly).toEqual([])
    const value = await architectureProblems(
      'src/operations/example.ts',
      "import { openDatabase } from '../database.js'\nexport const o = openDatabase\n",
    )
    expect(value.map((p) => p.ruleId)).toEqual(['@typescript-eslint/no-restricted-imports'])
  })
})

describe('cycle rule', () => {
  it('a two-file cycle fails: migration-source.ts importing migration-sets.ts, which imports it', async () => {
    const problems = await architectureProblems(
      'src/migration/migration-source.ts',
      "import { migrationSets } from './migration-sets.js'\nexport const s = migrationSets\n",
    )
    expect(problems.map((p) => p.ruleId)).toEqual(['import-x/no-cycle'])
  })

  it('a longer cycle across layers fails as well: database.ts and a seed that imports it back', async () => {
    const problems = await architectureProblems(
      'src/operations/seed.ts',
      "import { openDatabase } from '../database.js'\nexport const o = openDatabase\n",
    )
    expect(problems.map((p) => p.ruleId).sort()).toEqual([
      '@typescript-eslint/no-restricted-imports',
      'import-x/no-cycle',
    ])
  })
})

describe('the real src/', () => {
  it('places every file and folder of src/ in a layer', async () => {
    const config = (await eslint.calculateConfigForFile(`${ROOT}src/index.ts`)) as {
      rules: Record<string, [unknown, { zones: { target: string | string[]; from: string | string[] }[] }]>
    }
    const zones = config.rules['import-x/no-restricted-paths']![1].zones
    const placed = new Set(zones.flatMap((zone) => [zone.target, zone.from].flat()))
    const unplaced = readdirSync(`${ROOT}src`)
      .map((entry) => `src/${entry}`)
      .filter((entry) => !placed.has(entry))
    expect(unplaced, 'add them to LAYERS in eslint.config.js and to ARCHITECTURE.md').toEqual([])
  })

  it('has no layer or cycle problem', async () => {
    const results = await eslint.lintFiles(['src'])
    const problems = results.flatMap((r) =>
      r.messages
        .filter((m) => m.ruleId !== null && ARCHITECTURE_RULES.has(m.ruleId))
        .map((m) => `${r.filePath.slice(ROOT.length)}:${m.line} ${m.ruleId}: ${m.message}`),
    )
    expect(results.length).toBeGreaterThan(100)
    expect(problems).toEqual([])
  })
})
