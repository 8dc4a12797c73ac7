import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import config from '../vitest.config.js'

const TEST_DIR = import.meta.dirname

/** `it(…, async () => { … }, 60_000)`: a test's own time bound, its third argument. */
const PER_TEST_BOUND = /^\s*\}\s*,\s*[\d_]+\s*\)\s*$/m

// `npm test` on a machine busy with another job took 19 min and failed only because a test ran
// past its time bound: a bound measures the machine, not the behaviour (issue 23, item 1).
describe('npm test does not depend on the machine speed', () => {
  it('sets no time bound on a test or a hook', () => {
    expect(config.test?.testTimeout).toBe(0)
    expect(config.test?.hookTimeout).toBe(0)
  })

  it('has no test file giving a test or a hook a time bound of its own', () => {
    const bounded = readdirSync(TEST_DIR)
      .filter((file) => file.endsWith('.test.ts'))
      .filter((file) => PER_TEST_BOUND.test(readFileSync(join(TEST_DIR, file), 'utf8')))
    expect(bounded).toEqual([])
  })
})
