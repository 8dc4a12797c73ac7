import type { Command } from 'commander'
import { action } from '../program.js'

/**
 * `aura-db remove`: deletes the newest migration file when the database of `--db` has not
 * applied it; refuses (exit 1) otherwise.
 */
export function registerRemove(program: Command): void {
  program
    .command('remove')
    .description('delete the newest migration file if the database has not applied it')
    .action(
      action(async (cli) => {
        const removed = await cli.withDatabase((db) => db.migrator.removeNewest())
        cli.out.report({ removed: removed.name, file: removed.path }, () =>
          cli.out.line(`Removed ${removed.path}`),
        )
      }),
    )
}
