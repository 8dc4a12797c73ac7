import type { Command } from 'commander'
import { createDatabaseIfMissing } from '../../dialect/index.js'
import { printRun, refuseOnDrift, runDocument } from '../migration-report.js'
import { action } from '../program.js'

/**
 * `aura-db init`: the one-command start for a new user.
 * 1. Creates the database when missing (the SQLite file, or the PostgreSQL database).
 * 2. Applies every pending migration (refusing on drift, exit 3).
 * 3. Seeds the development data (arrives with issue 4, `db.seed()`).
 */
export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create the database if missing and migrate it: the one-command start')
    .action(
      action(async (cli) => {
        const created = await createDatabaseIfMissing(cli.options.db)
        await cli.withDatabase(async (db) => {
          refuseOnDrift(await db.migrator.status(), 'migrate')
          const run = await db.migrator.migrate()
          const doc = () => ({ database: db.dialect.location, created, ...runDocument(run, null) })
          if (run.error) {
            cli.out.report(doc(), () => printRun(cli.out, run))
            throw run.error
          }

          // Step 3, seeding (db.seed()), joins here with issue 4.

          cli.out.report(doc(), () => {
            cli.out.line(
              `${created ? 'Created' : 'Using'} ${db.dialect.name} database ${db.dialect.location}`,
            )
            printRun(cli.out, run)
            const current = run.results.at(-1)?.name
            cli.out.line(current ? `Migrated to ${current}.` : 'Already up to date.')
          })
        })
      }),
    )
}
