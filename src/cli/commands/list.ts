import type { Command } from 'commander'
import { action } from '../program.js'

/** `aura-db list`: every migration known to code or database, in apply order, with its set, state and checksum verdict. */
export function registerList(program: Command): void {
  program
    .command('list')
    .description('list every migration known to the code or the database')
    .action(
      action(async (cli) => {
        const migrations = await cli.withDatabase((db) => db.migrator.list(), { readOnly: true })
        cli.out.report({ migrations }, () => {
          if (migrations.length === 0) {
            cli.out.line('No migrations.')
            return
          }
          const verdict = { ok: 'green', changed: 'red', missing: 'red' } as const
          cli.out.table(
            ['migration', 'set', 'state', 'applied at', 'checksum'],
            migrations.map((m) => [
              m.name,
              m.set,
              m.state === 'applied' ? m.state : cli.out.paint('yellow', m.state),
              m.appliedAt?.toISOString() ?? '',
              cli.out.paint(verdict[m.checksum], m.checksum),
            ]),
          )
        })
      }),
    )
}
