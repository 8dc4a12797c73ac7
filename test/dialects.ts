import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { inject } from 'vitest'

export const POSTGRES_URL = process.env.AURA_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test'

/** A fresh, empty database for one test (or one file), and how to remove it. */
export interface TestDatabase {
  readonly url: string
  /** The SQLite file path, or null on PostgreSQL. */
  readonly file: string | null
  /** A scratch directory that is removed with the database. */
  readonly dir: string
  drop(): Promise<void>
}

export interface TestDialect {
  readonly name: 'sqlite' | 'postgres'
  /** False when the PostgreSQL server is down (the global setup said so loudly). */
  readonly available: boolean
  create(): Promise<TestDatabase>
}

function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), 'aura-test-'))
}

export const sqlite: TestDialect = {
  name: 'sqlite',
  available: true,
  async create() {
    const dir = scratchDir()
    const file = join(dir, 'aura.db')
    return {
      url: `sqlite:${file}`,
      file,
      dir,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    }
  },
}

export const postgres: TestDialect = {
  name: 'postgres',
  get available() {
    return inject('postgresAvailable')
  },
  async create() {
    const name = `aura_test_${randomBytes(6).toString('hex')}`
    const admin = new pg.Client({ connectionString: POSTGRES_URL })
    await admin.connect()
    try {
      await admin.query(`create database ${name}`)
    } finally {
      await admin.end()
    }
    const url = new URL(POSTGRES_URL)
    url.pathname = `/${name}`
    const dir = scratchDir()
    return {
      url: url.toString(),
      file: null,
      dir,
      async drop() {
        rmSync(dir, { recursive: true, force: true })
        await dropPostgresDatabase(url.toString())
      },
    }
  },
}

/** Drops the PostgreSQL database a URL names, if it exists (a test made it through the library). */
export async function dropPostgresDatabase(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL })
  await client.connect()
  try {
    const name = new URL(databaseUrl).pathname.slice(1)
    await client.query(`drop database if exists ${client.escapeIdentifier(name)} with (force)`)
  } finally {
    await client.end()
  }
}

/** Every behaviour file loops over these: `for (const d of dialects) describe.skipIf(!d.available)(…)`. */
export const dialects: readonly TestDialect[] = [sqlite, postgres]
