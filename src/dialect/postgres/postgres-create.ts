import pg from 'pg'

/**
 * Creates the database a connection string names when it does not exist, connecting to the
 * `postgres` maintenance database on the same server to do so. Returns whether it created it.
 */
export async function createPostgresDatabaseIfMissing(
  connectionString: string,
  connectionTimeoutMs?: number,
): Promise<boolean> {
  const timeout = connectionTimeoutMs === undefined ? {} : { connectionTimeoutMillis: connectionTimeoutMs }
  const probe = new pg.Client({ connectionString, ...timeout })
  try {
    await probe.connect()
    return false
  } catch (error) {
    // 3D000 invalid_catalog_name: the server is there, the database is not.
    if ((error as { code?: unknown }).code !== '3D000') throw error
  } finally {
    await probe.end().catch(() => {})
  }
  const url = new URL(connectionString)
  url.pathname = '/postgres'
  const admin = new pg.Client({ connectionString: url.toString(), ...timeout })
  await admin.connect()
  try {
    await admin.query(`create database ${admin.escapeIdentifier(probe.database ?? '')}`)
    return true
  } catch (error) {
    // 42P04 duplicate_database: another process created it first.
    if ((error as { code?: unknown }).code === '42P04') return false
    throw error
  } finally {
    await admin.end()
  }
}

/**
 * What `openDatabase` does first on PostgreSQL (unless `create: false`): creates the database
 * when it is missing, as it creates a missing SQLite file.
 *
 * A failure here is not reported: a server out of reach or a role without CREATEDB fails the
 * pool's first connection too, and that one goes through the library's error mapping (a
 * missing database is then the UsageError saying so).
 */
export async function createPostgresDatabaseOnOpen(
  connectionString: string,
  connectionTimeoutMs?: number,
): Promise<void> {
  await createPostgresDatabaseIfMissing(connectionString, connectionTimeoutMs).catch(() => false)
}
