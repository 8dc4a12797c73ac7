import { usage } from '../../errors.js'

/** A PostgreSQL URL with Aura Data's own parameters taken out of it. */
export interface PostgresTarget {
  /** What pg connects to for everyday work (the pooler, in pooler mode). */
  readonly connectionString: string
  /** Transaction pooling in front of the server (`aura_pooler=transaction`). */
  readonly pooler: boolean
  /**
   * A connection straight to the server, for what needs a session of its own (the migration
   * lock, backups, restores, scratch schemas): the URL itself without a pooler; in pooler mode
   * the `aura_direct=host:port` parameter or `directUrl`; null when pooler mode has none.
   */
  readonly directConnectionString: string | null
}

/**
 * Reads Aura Data's parameters of a `postgres://` URL and removes them (pg would send unknown
 * parameters to the server, which a pooler refuses):
 * - `aura_pooler=transaction`: pooler mode (see docs/postgresql.md, "Behind a connection pooler");
 * - `aura_direct=host:port`: the server itself, same user, password and database.
 * `directUrl` (or `AURA_DIRECT_DATABASE_URL`) names the direct connection in full instead.
 */
export function parsePostgresTarget(
  url: string,
  options: { pooler?: 'transaction' | false; directUrl?: string } = {},
): PostgresTarget {
  const parsed = new URL(url)
  const poolerParam = parsed.searchParams.get('aura_pooler')
  const directParam = parsed.searchParams.get('aura_direct')
  parsed.searchParams.delete('aura_pooler')
  parsed.searchParams.delete('aura_direct')
  if (poolerParam !== null && poolerParam !== 'transaction') throw usage.badPoolerMode(poolerParam)
  const pooler =
    options.pooler === undefined ? poolerParam === 'transaction' : options.pooler === 'transaction'
  const connectionString = poolerParam === null && directParam === null ? url : parsed.toString()
  let direct: string | null = options.directUrl ?? process.env.AURA_DIRECT_DATABASE_URL ?? null
  if (direct === null && directParam !== null) {
    const server = new URL(connectionString)
    const [host, port] = directParam.split(':')
    if (!host) throw usage.badPoolerMode(`aura_direct=${directParam}`)
    server.hostname = host
    server.port = port ?? ''
    direct = server.toString()
  }
  return { connectionString, pooler, directConnectionString: direct ?? (pooler ? null : connectionString) }
}
