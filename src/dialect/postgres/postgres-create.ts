import pg from 'pg'

/**
 * Creates the database a connection string names when it does not exist, connecting to the
 * `postgres` maintenance database on the same server to do so. Returns whether it created it.
 */
export async function createPostgresDatabaseIfMissing(connectionString: string): Promise<boolean> {
  const probe = new pg.Client({ connectionString })
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
  const admin = new pg.Client({ connectionString: url.toString() })
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
