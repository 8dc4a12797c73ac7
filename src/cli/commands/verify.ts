import type { Command } from 'commander'
import { verifyDatabase } from '../../operations/verify.js'
import { CheckFailedError } from '../exit-codes.js'
import { action } from '../program.js'

/** `aura-db verify`: runs every check of {@link verifyDatabase}, lists each, exits 3 if one failed. */
export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description(
      'check migration checksums, pending migrations and that the schema matches the migrations (exit 3 on failure)',
    )
    .action(
      action(async (cli) => {
        const report = await cli.withDatabase((db) => verifyDatabase(db), { readOnly: true })
        cli.out.report(report, () =>
          cli.out.table(
            ['check', 'result', 'detail'],
            report.checks.map((c) => [
              c.name,
              c.ok ? cli.out.paint('green', 'ok') : cli.out.paint('red', 'FAILED'),
              c.detail,
            ]),
          ),
        )
        const failed = report.checks.filter((c) => !c.ok)
        if (failed.length > 0) {
          throw new CheckFailedError(`Verification failed: ${failed.map((c) => c.name).join(', ')}.`)
        }
      }),
    )
}
