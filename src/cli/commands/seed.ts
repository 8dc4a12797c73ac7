import { Option, type Command } from 'commander'
import { SEED_PROFILES, type SeedProfile, type SeedResult } from '../../operations/seed.js'
import type { Output } from '../output.js'
import { action } from '../program.js'

/** Prints what a seed inserted: a table of rows per table, or that everything was there. */
export function printSeed(out: Output, result: SeedResult): void {
  if (result.total === 0) {
    out.line('Seed data already present: nothing inserted.')
    return
  }
  out.table(
    ['table', 'inserted'],
    Object.entries(result.inserted).map(([table, count]) => [table, String(count)]),
  )
  out.line(`Inserted ${result.total} seed row(s).`)
}

/**
 * `aura-db seed`: inserts the development seed data (a user setup, projects, templates, exports) into a migrated
 * database, idempotently: a second run inserts nothing. `--json`: `{ inserted: {table: n}, total }`.
 */
export function registerSeed(program: Command): void {
  program
    .command('seed')
    .description(
      'insert the seed data: sample projects, templates and the configuration defaults (idempotent: only what is missing)',
    )
    .addOption(
      new Option(
        '--profile <profile>',
        'development: the sample data and the configuration defaults; production: only the configuration defaults',
      )
        .choices(SEED_PROFILES)
        .default('development'),
    )
    .action(
      action(async (cli, options: { profile: SeedProfile }) => {
        const result = await cli.withDatabase((db) => db.seed({ profile: options.profile }))
        cli.out.report(result, () => printSeed(cli.out, result))
      }),
    )
}
