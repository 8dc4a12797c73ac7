import { existsSync } from 'node:fs'
import { parseDatabaseUrl } from '../dialect/index.js'
import { usage } from '../errors.js'
import type { CliContext } from './program.js'

/**
 * Refuses a command on a database that does not exist with the usage error every command gives
 * for it (exit 2), before the command does anything: `backup` would otherwise wrap the driver's
 * refusal as a failed backup (exit 1), and `backups` would list the backups of a mistyped `--db`.
 * A SQLite file is only looked for, never opened (it may be damaged: listing its backups is how
 * to restore it); a PostgreSQL database is opened, as only the server knows whether it exists.
 */
export async function requireDatabase(cli: CliContext): Promise<void> {
  const target = parseDatabaseUrl(cli.options.db)
  if (target.dialect === 'sqlite') {
    if (target.path !== ':memory:' && !existsSync(target.path)) throw usage.databaseMissing(target.path)
    return
  }
  await cli.withDatabase((db) => db.status())
}
