/**
 * One table of every environment variable: `ENVIRONMENT` (src/cli/environment.ts) is what the
 * code reads, and docs/environment.md shows exactly it.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ENVIRONMENT } from '../src/cli/environment.js'
import { ERROR_CODES } from '../src/errors.js'
import { ROOT } from './cli-helpers.js'

/** The codes of `--json` errors that only the command line has (src/cli/exit-codes.ts); not variables. */
const CLI_CODES = ['AURA_CHECK_FAILED', 'AURA_CANCELLED', 'AURA_UNEXPECTED']

/** Every `AURA_…` name (and `NO_COLOR`) in the code of src/, test/, bench/ and scripts/. */
function namesInCode(): Set<string> {
  const names = new Set<string>()
  for (const dir of ['src', 'test', 'bench', 'scripts']) {
    for (const file of readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })) {
      if (!/\.(ts|mjs|js)$/.test(file) || file.startsWith('.tmp')) continue
      if (dir === 'src' && file === join('cli', 'environment.ts')) continue
      const text = readFileSync(join(ROOT, dir, file), 'utf8')
      for (const [name] of text.matchAll(/\b(?:AURA_[A-Z0-9_]*[A-Z0-9]|NO_COLOR)\b/g)) names.add(name)
    }
  }
  for (const code of [...ERROR_CODES, ...CLI_CODES]) names.delete(code)
  return names
}

/** The rows of the table in docs/environment.md, as trimmed cells. */
function documentedRows(): string[][] {
  return readFileSync(join(ROOT, 'docs', 'environment.md'), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim().replace(/\\\|/g, '|')),
    )
}

describe('environment variables', () => {
  it('every variable the code reads is in ENVIRONMENT, and every entry is read somewhere', () => {
    const listed = ENVIRONMENT.map((v) => v.name).sort()
    expect(listed).toEqual([...namesInCode()].sort())
    expect(new Set(listed).size).toBe(listed.length)
  })

  it('docs/environment.md is exactly ENVIRONMENT', () => {
    expect(documentedRows()).toEqual(ENVIRONMENT.map((v) => [`\`${v.name}\``, v.scope, v.meaning, v.default]))
  })
})
