import { basename } from 'node:path'
import type { Command } from 'commander'
import { addMigration } from '../../migration/migration-files.js'
import { action } from '../program.js'

/** `aura-db add NAME`: creates `<migrations-dir>/<yyyyMMddHHmmss>_<Name>.ts` with `up` and `down` to fill. */
export function registerAdd(program: Command): void {
  program
    .command('add')
    .description('create a new migration file with up and down ready to fill')
    .argument('<name>', 'PascalCase or snake_case, letters and digits (e.g. AddProjectTags)')
    .action(
      action(async (cli, name: string) => {
        const file = addMigration(cli.options.migrationsDir, name)
        cli.out.report({ name: basename(file, '.ts'), file }, () => cli.out.line(`Created ${file}`))
      }),
    )
}
