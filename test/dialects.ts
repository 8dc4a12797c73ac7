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
  /** The database: tests choose per-dialect expectations by it. */
  readonly name: 'sqlite' | 'postgres'
  /** How the tests reach it, for test titles: `sqlite`, `postgres`, `postgres via pgbouncer`. */
  readonly label: string
  /** False when the PostgreSQL server is down (the global setup said so loudly). */
  readonly available: boolean
  create(): Promise<TestDatabase>
}

function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), 'aura-test-'))
}

export const sqlite: TestDialect = {
  name: 'sqlite',
  label: 'sqlite',
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

/** A new database on the shared server, dropped by `drop()`. */
async function createPostgresDatabase(): Promise<{ name: string; url: URL; drop(): Promise<void> }> {
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
  return {
    name,
    url,
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_URL })
      await client.connect()
      try {
        await client.query(`drop database if exists ${name} with (force)`)
      } finally {
        await client.end()
      }
    },
  }
}

export const postgres: TestDialect = {
  name: 'postgres',
  label: 'postgres',
  get available() {
    return inject('postgresAvailable')
  },
  async create() {
    const database = await createPostgresDatabase()
    const dir = scratchDir()
    return {
      url: database.url.toString(),
      file: null,
      dir,
      async drop() {
        rmSync(dir, { recursive: true, force: true })
        await database.drop()
      },
    }
  },
}

/**
 * PostgreSQL through the run's PgBouncer in transaction pooling mode (test/pgbouncer-setup.ts):
 * the URL names the pooler, with `aura_pooler=transaction` and the server itself as
 * `aura_direct` (for the migration lock).
 */
export const pgbouncer: TestDialect = {
  name: 'postgres',
  label: 'postgres via pgbouncer',
  get available() {
    return inject('postgresAvailable') && inject('pgbouncerPort') > 0
  },
  async create() {
    const database = await createPostgresDatabase()
    const server = new URL(POSTGRES_URL)
    const url = new URL(database.url)
    url.hostname = '127.0.0.1'
    url.port = String(inject('pgbouncerPort'))
    url.searchParams.set('aura_pooler', 'transaction')
    url.searchParams.set('aura_direct', `${server.hostname}:${server.port || 5432}`)
    const dir = scratchDir()
    return {
      url: url.toString(),
      file: null,
      dir,
      async drop() {
        rmSync(dir, { recursive: true, force: true })
        await database.drop()
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

/**
 * The library's behaviour files loop over these: the two databases, and PostgreSQL behind a
 * transaction-pooling PgBouncer (what a team puts in front of its server). Files about the
 * server itself (backup, restore, migrations, the CLI, the studio) use {@link dialects}: those
 * take the direct connection anyway.
 */
export const libraryDialects: readonly TestDialect[] = [sqlite, postgres, pgbouncer]
