import type { Command } from 'commander'
import { checkSchema } from '../../operations/schema-check.js'
import { CheckFailedError } from '../exit-codes.js'
import { action } from '../program.js'

/**
 * `aura-db check`: compares the table definitions with the schema the migrations produce (the
 * package's, then the application's), on a scratch database (no `--db` needed). Exits 3 naming
 * every difference.
 */
export function registerCheck(program: Command): void {
  program
    .command('check')
    .description(
      'compare the table definitions with the schema the migrations produce (exit 3 on a difference)',
    )
    .action(
      action(async (cli) => {
        const report = await checkSchema(cli.migrationFiles(), await cli.definitions())
        cli.out.report(report, () => {
          if (report.ok)
            cli.out.line(`The definitions match the schema of ${report.migrations} migration(s).`)
          for (const d of report.differences) cli.out.line(`${cli.out.paint('red', d.subject)}: ${d.problem}`)
        })
        if (!report.ok) {
          throw new CheckFailedError(
            `The definitions and the migrations differ in ${report.differences.length} place(s): ` +
              `${report.differences.map((d) => d.subject).join(', ')}.`,
            'Generate the migration for the change with `aura-db add NAME`, review it, then `aura-db migrate`.',
          )
        }
      }),
    )
}
