import type { Command } from 'commander'
import { checkSchema } from '../../operations/schema-check.js'
import { CheckFailedError } from '../exit-codes.js'
import { driftLines } from '../migration-report.js'
import { action } from '../program.js'

/**
 * `aura-db status`: dialect, database location (no password), current migration, pending
 * migrations and checksum drift. Exits 3 on drift, naming each file and both checksums.
 */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show the current migration, pending migrations and checksum drift (exit 3 on drift)')
    .action(
      action(async (cli) => {
        const status = await cli.withDatabase((db) => db.migrator.status(), { readOnly: true })
        // `aura-db check`'s verdict, so one status call tells whether a migration is missing.
        const definitions = await checkSchema(cli.migrationFiles())
        cli.out.report({ ...status, definitions }, () => {
          const none = cli.out.paint('dim', 'none')
          cli.out.fields([
            ['dialect', status.dialect],
            ['database', status.database],
            ['current', status.current ?? none],
            ...status.sets.map((set): [string, string] => [
              `set ${set.name}`,
              `${set.current ?? 'nothing applied'} (${set.applied} applied, ${set.pending.length} pending) in ${set.dir}`,
            ]),
            ['applied', String(status.applied.length)],
            ['pending', status.pending.length ? cli.out.paint('yellow', status.pending.join(', ')) : none],
            [
              'drift',
              status.drift.length ? cli.out.paint('red', `${status.drift.length} migration(s)`) : none,
            ],
            [
              'definitions',
              definitions.ok
                ? 'match the migrations'
                : cli.out.paint(
                    'yellow',
                    `${definitions.differences.length} difference(s): run aura-db check`,
                  ),
            ],
          ])
        })
        if (status.drift.length > 0) {
          throw new CheckFailedError(
            `Checksum drift: ${driftLines(status.drift).join('; ')}.`,
            'Restore the original file(s): an applied migration is never edited; add a new migration instead.',
          )
        }
      }),
    )
}
