import type { Command } from 'commander'
import { assertOwnMigrationsDir } from '../../migration/migration-files.js'
import { action } from '../program.js'

/**
 * `aura-db remove`: deletes the newest migration file when the database of `--db` has not
 * applied it; refuses (exit 1) otherwise, and (exit 2) to touch a package's shipped migrations
 * inside node_modules.
 */
export function registerRemove(program: Command): void {
  program
    .command('remove')
    .description('delete the newest migration file if the database has not applied it')
    .action(
      action(async (cli) => {
        assertOwnMigrationsDir(cli.options.migrationsDir)
        const removed = await cli.withDatabase((db) => db.migrator.removeNewest())
        cli.out.report({ removed: removed.name, file: removed.path }, () =>
          cli.out.line(`Removed ${removed.path}`),
        )
      }),
    )
}
