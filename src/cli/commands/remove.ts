import type { Command } from 'commander'
import { assertOwnMigrationsDir } from '../../migration/migration-files.js'
import { writableSet } from '../../migration/migration-sets.js'
import { action } from '../program.js'

/**
 * `aura-db remove`: deletes the newest migration file of the application's folder (or of the
 * whole history it holds) when the database of `--db` has not applied it; refuses (exit 1)
 * otherwise, and (exit 2) to touch a package's shipped migrations inside node_modules. A
 * package migration is never removed when an application set follows it.
 */
export function registerRemove(program: Command): void {
  program
    .command('remove')
    .description('delete the newest migration file if the database has not applied it')
    .action(
      action(async (cli) => {
        const { set } = writableSet(cli.options.migrationsDir)
        assertOwnMigrationsDir(set.dir)
        const removed = await cli.withDatabase((db) => db.migrator.removeNewest())
        cli.out.report({ removed: removed.name, set: removed.set, file: removed.path }, () =>
          cli.out.line(`Removed ${removed.path} (${removed.set})`),
        )
      }),
    )
}
