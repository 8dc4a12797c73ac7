import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts', 'test/pgbouncer-setup.ts', 'test/build-setup.ts'],
    // No time bound on a test or a hook: `npm test` must pass on a machine loaded by another job,
    // and a bound only measures the machine (test/no-time-bounds.test.ts keeps it so). A hung
    // test is the CI job's own time limit to catch.
    testTimeout: 0,
    hookTimeout: 0,
    pool: 'forks',
    // Vitest runs one file at a time on a 2-core machine (cores - 1), but most files spend their
    // time waiting on a child process (the CLI, npm) or on PostgreSQL: two at a time keeps both
    // cores busy. Every file isolates itself (its own databases and temp folders).
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
})
