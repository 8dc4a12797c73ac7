import { Option, type Command } from 'commander'
import { createDatabaseIfMissing } from '../../dialect/index.js'
import { SEED_PROFILES, type SeedProfile } from '../../operations/seed.js'
import { printRun, refuseOnDrift, runDocument } from '../migration-report.js'
import { action } from '../program.js'
import { printSeed } from './seed.js'

/**
 * `aura-db init`: the one-command start for a new user.
 * 1. Creates the database when missing (the SQLite file, or the PostgreSQL database).
 * 2. Applies every pending migration (refusing on drift, exit 3).
 * 3. Seeds, idempotently (`db.seed()`; `--json`: `seed: { inserted, total }`, or `seed: null`
 *    with `--no-seed`): the development sample data and the configuration defaults, or with
 *    `--profile production` only the configuration defaults.
 */
export function registerInit(program: Command): void {
  program
    .command('init')
    .description(
      'create the database if missing, migrate it and seed it (sample projects, templates and the configuration defaults): the one-command start',
    )
    .option('--no-seed', 'insert no seed data at all')
    .addOption(
      new Option(
        '--profile <profile>',
        'development: the sample data and the configuration defaults; production: only the configuration defaults',
      )
        .choices(SEED_PROFILES)
        .default('development'),
    )
    .action(
      action(async (cli, options: { seed: boolean; profile: SeedProfile }) => {
        const created = await createDatabaseIfMissing(cli.options.db)
        await cli.withDatabase(async (db) => {
          refuseOnDrift(await db.migrator.status(), 'migrate')
          const run = await db.migrator.migrate()
          const doc = () => ({ database: db.dialect.location, created, ...runDocument(run, null) })
          if (run.error) {
            cli.out.report(doc(), () => printRun(cli.out, run))
            throw run.error
          }

          const seed = options.seed ? await db.seed({ profile: options.profile }) : null

          cli.out.report({ ...doc(), seed }, () => {
            cli.out.line(
              `${created ? 'Created' : 'Using'} ${db.dialect.name} database ${db.dialect.location}`,
            )
            printRun(cli.out, run)
            const current = run.results.at(-1)?.name
            cli.out.line(current ? `Migrated to ${current}.` : 'Already up to date.')
            if (seed) printSeed(cli.out, seed)
            else cli.out.line('No seed data inserted (--no-seed).')
          })
        })
      }),
    )
}
