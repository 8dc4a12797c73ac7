import type { Command } from 'commander'
import { createDatabaseIfMissing } from '../../dialect/index.js'
import { printRun, refuseOnDrift, runDocument } from '../migration-report.js'
import { action } from '../program.js'
import { printSeed } from './seed.js'

/**
 * `aura-db init`: the one-command start for a new user.
 * 1. Creates the database when missing (the SQLite file, or the PostgreSQL database).
 * 2. Applies every pending migration (refusing on drift, exit 3).
 * 3. Seeds the development data, idempotently (`db.seed()`; `--json`: `seed: { inserted, total }`).
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

          const seed = await db.seed()

          cli.out.report({ ...doc(), seed }, () => {
            cli.out.line(
              `${created ? 'Created' : 'Using'} ${db.dialect.name} database ${db.dialect.location}`,
            )
            printRun(cli.out, run)
            const current = run.results.at(-1)?.name
            cli.out.line(current ? `Migrated to ${current}.` : 'Already up to date.')
            printSeed(cli.out, seed)
          })
        })
      }),
    )
}
