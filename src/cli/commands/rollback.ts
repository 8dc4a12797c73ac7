import type { Command } from 'commander'
import { resolveMigrationName } from '../../migration/migration-source.js'
import { CancelledError } from '../exit-codes.js'
import { backupFirst, printRun, refuseOnDrift, runDocument } from '../migration-report.js'
import { action } from '../program.js'

/**
 * `aura-db rollback [TARGET] [--dry-run]`: reverts applied migrations newest first, each in its
 * own transaction: everything after TARGET, all of them for `0`, the newest one by default.
 * Asks first (or `--yes`): a `down` drops what its `up` created, data included.
 */
export function registerRollback(program: Command): void {
  program
    .command('rollback')
    .description(
      'roll back to TARGET (a migration name; everything after it is reverted), 0 for all, default: the last one',
    )
    .argument('[target]', 'migration to roll back to, or 0 for all')
    .option('--dry-run', 'print the SQL that would run and change nothing')
    .option('--no-backup', 'skip the verified backup taken first on a SQLite database holding data')
    .action(
      action(async (cli, target: string | undefined, options: { dryRun?: boolean; backup?: boolean }) => {
        await cli.withDatabase(async (db) => {
          const status = await db.migrator.status()
          refuseOnDrift(status, 'roll back')
          const to: string | 0 | undefined =
            target === undefined
              ? undefined
              : target === '0'
                ? 0
                : resolveMigrationName(
                    status.applied.map((m) => m.name),
                    target,
                  )
          const range = to === undefined ? {} : { to }
          const plan = await db.migrator.rollback({ ...range, dryRun: true })
          if (options.dryRun || plan.results.length === 0) {
            cli.out.report(runDocument(plan, null), () => {
              printRun(cli.out, plan)
              cli.out.line(
                plan.results.length === 0
                  ? 'Nothing to roll back.'
                  : `Dry run: ${plan.results.length} migration(s) would be rolled back; nothing was changed.`,
              )
            })
            return
          }
          const names = plan.results.map((r) => r.name).join(', ')
          const question = `Roll back ${plan.results.length} migration(s) (${names}) on ${db.dialect.location}? Their down steps drop what they created, data included.`
          if (!(await cli.out.confirm(question, cli.options.yes))) {
            throw new CancelledError('Rollback cancelled: nothing was changed.')
          }
          const backup = options.backup === false ? null : await backupFirst(cli, db.dialect)
          const run = await db.migrator.rollback({ ...range })
          const current = (await db.migrator.status()).current ?? '(empty)'
          cli.out.report(runDocument(run, backup?.file ?? null), () => {
            if (backup) cli.out.line(`Backup taken first: ${backup.file}`)
            printRun(cli.out, run)
            if (!run.error)
              cli.out.line(`Rolled back ${run.results.length} migration(s); the database is at ${current}.`)
          })
          if (run.error) throw run.error
        })
      }),
    )
}
