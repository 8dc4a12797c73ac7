import pg from 'pg'
import type { TestProject } from 'vitest/node'

export const POSTGRES_URL = process.env.AURA_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test'

/**
 * Checks once per run whether the PostgreSQL server is reachable. Without it the PostgreSQL half
 * of every behaviour file is skipped, loudly; with AURA_REQUIRE_POSTGRES=1 (CI) it is a failure.
 */
export default async function setup(project: TestProject): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 })
  let available = false
  try {
    await client.connect()
    await client.query('select 1')
    available = true
  } catch (error) {
    const message = `PostgreSQL is not reachable at ${POSTGRES_URL}: ${(error as Error).message}`
    if (process.env.AURA_REQUIRE_POSTGRES === '1') throw new Error(`${message} (AURA_REQUIRE_POSTGRES=1)`)
    const bar = '!'.repeat(78)
    console.warn(`\n${bar}\n!! ${message}\n!! THE POSTGRESQL HALF OF THE SUITE IS SKIPPED.\n${bar}\n`)
  } finally {
    await client.end().catch(() => {})
  }
  project.provide('postgresAvailable', available)
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgresAvailable: boolean
  }
}
