import type { Command } from 'commander'
import { DIALECT_TITLES } from '../../dialect/index.js'
import { checkSchema } from '../../operations/schema-check.js'
import { CheckFailedError } from '../exit-codes.js'
import { action } from '../program.js'

/**
 * `aura-db check`: compares the table definitions with the schema the migrations produce (the
 * package's, then the application's), on a scratch database (no `--db` needed): in-memory
 * SQLite, and with `--postgres URL` also scratch schemas on that server. Exits 3 naming every
 * difference and its dialect.
 */
export function registerCheck(program: Command): void {
  program
    .command('check')
    .description(
      'compare the table definitions with the schema the migrations produce (exit 3 on a difference)',
    )
    .option(
      '--postgres <url>',
      'also compare on this PostgreSQL server, in scratch schemas dropped afterwards (catches a migration that differs on PostgreSQL only)',
    )
    .action(
      action(async (cli, options: { postgres?: string }) => {
        const report = await checkSchema(
          cli.migrationFiles(),
          undefined,
          options.postgres === undefined ? {} : { postgres: options.postgres },
        )
        const on = report.dialects.map((d) => DIALECT_TITLES[d]).join(' and ')
        cli.out.report(report, () => {
          if (report.ok)
            cli.out.line(`The definitions match the schema of ${report.migrations} migration(s) on ${on}.`)
          for (const d of report.differences)
            cli.out.line(`${cli.out.paint('red', d.subject)} (${DIALECT_TITLES[d.dialect]}): ${d.problem}`)
        })
        if (!report.ok) {
          throw new CheckFailedError(
            `The definitions and the migrations differ in ${report.differences.length} place(s): ` +
              `${[...new Set(report.differences.map((d) => d.subject))].join(', ')}.`,
            'Generate the migration for the change with `aura-db add NAME`, review it, then `aura-db migrate`.',
          )
        }
      }),
    )
}
