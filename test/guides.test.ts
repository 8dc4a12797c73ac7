import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BIN } from './cli-helpers.js'
import { dialects } from './dialects.js'
import {
  expectedOutput,
  runExample,
  shellBlocks,
  typecheckExamples,
  typescriptBlocks,
} from './doc-examples.js'

/** The guides in docs/ whose TypeScript blocks, read in order, are one program. */
const GUIDES = ['versions', 'undo-redo', 'templates', 'export-history', 'change-feed'] as const

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

/**
 * The shell sections of the guides that a user runs as they are, on a SQLite database in a fresh
 * folder (an application's, with aura-data installed: `npx aura-db` finds the package's bin).
 */
const SHELL_SECTIONS = [
  ['docs/backups.md', '## A restore drill'],
  ['docs/secrets.md', '## Where it lives'],
] as const

describe('shell commands in the guides', () => {
  for (const [file, heading] of SHELL_SECTIONS) {
    it(`${file}, "${heading}": every command runs as written`, () => {
      const app = mkdtempSync(join(tmpdir(), 'aura-guide-sh-'))
      try {
        mkdirSync(join(app, 'node_modules', '.bin'), { recursive: true })
        symlinkSync(BIN, join(app, 'node_modules', '.bin', 'aura-db'))
        // The application's own database, as after `npx aura-db init`.
        const init = spawnSync(process.execPath, [BIN, 'init'], { cwd: app, encoding: 'utf8' })
        expect(init.status, init.stderr).toBe(0)
        for (const block of shellBlocks(file, heading)) {
          const run = spawnSync('bash', ['-euo', 'pipefail', '-c', block], {
            cwd: app,
            encoding: 'utf8',
            env: { ...process.env, HOME: app, NO_COLOR: '1', npm_config_offline: 'true' },
          })
          expect(run.status, `${block}\n${run.stdout}${run.stderr}`).toBe(0)
        }
      } finally {
        rmSync(app, { recursive: true, force: true })
      }
    })
  }
})
