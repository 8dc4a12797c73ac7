import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { Option, type Command } from 'commander'
import { parseDatabaseUrl, type DialectName } from '../../dialect/index.js'
import { generateScript, planScript } from '../../migration/migration-script.js'
import { action } from '../program.js'

/**
 * `aura-db script [FILE] [--from NAME] [--to NAME] [--dialect sqlite|postgres]`: the SQL for a
 * range of migrations, without a database. `--from` is the state the target database is in
 * (default `0`, empty), `--to` the state to reach (default the newest migration, `0` for
 * before everything); the script goes down when `--from` is newer than `--to`. The dialect
 * defaults to that of `--db`.
 */
export function registerScript(program: Command): void {
  program
    .command('script')
    .description('write the SQL for a range of migrations to FILE or stdout, without a database')
    .argument('[file]', 'write the script here instead of stdout')
    .option('--from <name>', 'the migration the database is at (0: empty; default 0)')
    .option('--to <name>', 'the migration to end at (0: before everything; default the newest)')
    .addOption(
      new Option('--dialect <dialect>', 'SQL dialect (default: that of --db)').choices([
        'sqlite',
        'postgres',
      ]),
    )
    .action(
      action(
        async (
          cli,
          file: string | undefined,
          options: { from?: string; to?: string; dialect?: DialectName },
        ) => {
          const dialect = options.dialect ?? parseDatabaseUrl(cli.options.db).dialect
          const files = cli.migrationFiles()
          const plan = planScript(files, {
            ...(options.from === undefined ? {} : { from: options.from }),
            ...(options.to === undefined ? {} : { to: options.to }),
          })
          const sql = await generateScript(dialect, plan.files, plan.direction)
          const migrations = plan.files.map((f) => f.name)
          // Each migration with its set, in the script's order (`migrations` alone keeps its shape).
          const steps = plan.files.map((f) => ({ name: f.name, set: f.set }))
          if (file === undefined) {
            cli.out.report({ file: null, dialect, direction: plan.direction, migrations, steps, sql }, () =>
              process.stdout.write(sql),
            )
            return
          }
          const path = resolve(file)
          writeFileSync(path, sql)
          cli.out.report({ file: path, dialect, direction: plan.direction, migrations, steps }, () =>
            cli.out.line(
              `Wrote ${migrations.length} migration(s) (${plan.direction}, ${dialect}) to ${path}`,
            ),
          )
        },
      ),
    )
}
