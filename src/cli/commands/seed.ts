import type { Command } from 'commander'
import type { SeedResult } from '../../domain/seed.js'
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
    .description('insert the development seed data (idempotent: only what is missing)')
    .action(
      action(async (cli) => {
        const result = await cli.withDatabase((db) => db.seed())
        cli.out.report(result, () => printSeed(cli.out, result))
      }),
    )
}
