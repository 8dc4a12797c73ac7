import type { Command } from 'commander'
import { resolveMigrationName } from '../../migration/migration-source.js'
import { backupFirst, printRun, refuseOnDrift, runDocument } from '../migration-report.js'
import { action } from '../program.js'

/**
 * `aura-db migrate [--to NAME] [--no-backup] [--dry-run]`: applies pending migrations, oldest
 * first, each in its own transaction; refuses (exit 3) when an applied migration drifted.
 */
export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply pending migrations (up to --to)')
    .option('--to <name>', 'stop after this migration (full name, or the part after the timestamp)')
    .option('--no-backup', 'skip the verified backup taken first on a SQLite database holding data')
    .option('--dry-run', 'print the SQL that would run and change nothing')
    .action(
      action(async (cli, options: { to?: string; dryRun?: boolean; backup?: boolean }) => {
        const to =
          options.to === undefined
            ? undefined
            : resolveMigrationName(
                cli.migrationFiles().map((f) => f.name),
                options.to,
              )
        // A first migrate may create the SQLite file, as `sqlite3 file` would; the others only look.
        await cli.withDatabase(
          async (db) => {
            const status = await db.migrator.status()
            refuseOnDrift(status, 'migrate')
            const backup =
              options.dryRun || options.backup === false || status.pending.length === 0
                ? null
                : await backupFirst(cli, db.dialect)
            const run = await db.migrator.migrate({ ...(to ? { to } : {}), dryRun: options.dryRun ?? false })
            cli.out.report(runDocument(run, backup?.file ?? null), () => {
              if (backup) cli.out.line(`Backup taken first: ${backup.file}`)
              printRun(cli.out, run)
              if (run.error) return
              const applied = run.results.length
              if (options.dryRun)
                cli.out.line(`Dry run: ${applied} migration(s) would be applied; nothing was changed.`)
              else if (applied === 0)
                cli.out.line(`Nothing to migrate: the database is at ${status.current ?? '(empty)'}.`)
              else
                cli.out.line(
                  `Applied ${applied} migration(s); the database is at ${run.results.at(-1)!.name}.`,
                )
            })
            if (run.error) throw run.error
          },
          { create: true },
        )
      }),
    )
}
