import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, inject, it } from 'vitest'

const ROOT = join(import.meta.dirname, '..')

/** Every operation `npm run bench` measures; one missing from the results is a failure. */
const OPERATIONS = [
  'project by id',
  'projects by status (page of 50)',
  'scenes of a project',
  'count by status',
  'add project + 10 scenes',
  'update with version check',
  'create version',
  'restore version',
  'template search',
  'export history query',
  'soft delete with version check',
]

/** The operations without a plain-Kysely peer (content-addressed versions are the library's own). */
const WITHOUT_PEER = new Set(['create version', 'restore version'])

interface Timing {
  calls: number
  opsPerSec: number
  p50Us: number
  p99Us: number
}

interface Results {
  mode: string
  results: {
    dialect: string
    skipped?: string
    operations: {
      operation: string
      library: Timing
      raw: Timing
      kysely: Timing | null
      ratio: number
      kyselyRatio: number | null
    }[]
  }[]
}

/** Runs the benchmark's source (through tsx, so a stale build cannot hide a broken bench). */
function runBench(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', join(ROOT, 'bench', 'run.ts'), ...args],
      {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    )
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stderr }))
  })
}

// Only that the benchmark still runs end to end and reports every operation: timings are
// never asserted (quality.md: performance is measured by `npm run bench`, not by tests).
describe('npm run bench (tiny mode)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aura-bench-test-'))
  const out = join(dir, 'latest.json')
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('exits 0 and reports every operation for the library, the raw reference and the Kysely peer', async () => {
    const postgres = inject('postgresAvailable')
    const run = await runBench(['--scale', 'tiny', '--out', out, ...(postgres ? [] : ['--no-postgres'])])
    expect(run.code, run.stderr).toBe(0)
    const document = JSON.parse(readFileSync(out, 'utf8')) as Results
    expect(document.mode).toBe('tiny')
    const dialects = postgres ? ['sqlite', 'postgres'] : ['sqlite']
    expect(document.results.map((r) => r.dialect)).toEqual(dialects)
    for (const result of document.results) {
      expect(result.skipped, `${result.dialect} skipped`).toBeUndefined()
      expect(result.operations.map((o) => o.operation)).toEqual(OPERATIONS)
      for (const op of result.operations) {
        const peer = WITHOUT_PEER.has(op.operation) ? [] : [op.kysely!]
        expect(op.kysely === null, `${result.dialect}: ${op.operation} without a peer`).toBe(
          peer.length === 0,
        )
        for (const side of [op.library, op.raw, ...peer]) {
          expect(side.calls, `${result.dialect}: ${op.operation}`).toBeGreaterThan(0)
          expect(side.opsPerSec, `${result.dialect}: ${op.operation}`).toBeGreaterThan(0)
          expect(side.p50Us, `${result.dialect}: ${op.operation}`).toBeGreaterThan(0)
          expect(side.p99Us, `${result.dialect}: ${op.operation}`).toBeGreaterThan(0)
        }
        expect(op.ratio).toBeGreaterThan(0)
        if (peer.length > 0) expect(op.kyselyRatio).toBeGreaterThan(0)
      }
    }
  })
})
