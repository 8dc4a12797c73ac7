import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts', 'test/pgbouncer-setup.ts', 'test/build-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest runs one file at a time on a 2-core machine (cores - 1), but most files spend their
    // time waiting on a child process (the CLI, npm) or on PostgreSQL: two at a time keeps both
    // cores busy. Every file isolates itself (its own databases and temp folders).
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
})
