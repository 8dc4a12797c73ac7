import { basename } from 'node:path'
import type { Command } from 'commander'
import { parseRenames } from '../../migration/generate.js'
import { addMigration } from '../../migration/migration-files.js'
import { discoverSets, writableSet } from '../../migration/migration-sets.js'
import { addGeneratedMigration } from '../../operations/schema-check.js'
import { action } from '../program.js'

/**
 * `aura-db add NAME`: generates `<migrations-dir>/<yyyyMMddHHmmss>_<Name>.ts` from the difference
 * between the table definitions and the schema the migrations produce (the package's and then the
 * application's); `--empty` writes the scaffold with `up` and `down` to fill by hand. It writes
 * only into the application's folder (see `writableSet`): never into an installed package.
 */
export function registerAdd(program: Command): void {
  program
    .command('add')
    .description('generate a migration from the table definitions (--empty: a scaffold to fill by hand)')
    .argument('<name>', 'PascalCase or snake_case, letters and digits (e.g. AddProjectTags)')
    .option('--empty', 'write an empty migration with up and down to fill by hand')
    .option(
      '--rename <old=new...>',
      'state a rename instead of a drop and an add: table.old_column=new_column or old_table=new_table',
    )
    .action(
      action(async (cli, name: string, options: { empty?: boolean; rename?: string[] }) => {
        const { set, before } = writableSet(cli.options.migrationsDir)
        if (options.empty) {
          const file = addMigration(set.dir, name)
          cli.out.report(
            { name: basename(file, '.ts'), set: set.name, file, changes: [], dataLoss: [] },
            () => cli.out.line(`Created ${file} (${set.name})`),
          )
          return
        }
        const added = await addGeneratedMigration(set.dir, name, parseRenames(options.rename ?? []), {
          before: discoverSets(before),
        })
        cli.out.report({ ...added, set: set.name }, () => {
          cli.out.line(`Created ${added.file} (${set.name})`)
          for (const change of added.changes) cli.out.line(`  ${change}`)
          for (const loss of added.dataLoss) cli.out.line(cli.out.paint('red', `  DATA LOSS: ${loss}`))
        })
      }),
    )
}
