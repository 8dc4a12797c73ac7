import { isAbsolute, relative } from 'node:path'
import type { Command } from 'commander'
import { parseDatabaseUrl } from '../../dialect/index.js'
import { redactUrl, usage } from '../../errors.js'
import { checkSchemaDocs, generateSchemaDocs, writeSchemaDocs } from '../../operations/schema-docs.js'
import { CheckFailedError } from '../exit-codes.js'
import { action } from '../program.js'

/**
 * `aura-db docs [--out DIR] [--postgres URL] [--check]`: generates `schema.md` and
 * `er-diagram.md` from scratch databases migrated on both dialects (see
 * {@link generateSchemaDocs}). PostgreSQL is required: `--postgres`, else `--db` when that is a
 * PostgreSQL URL; without one it is a usage error (exit 2), never a half reference. `--check`
 * writes nothing and exits 3 when a file in DIR differs from what would be generated.
 */
export function registerDocs(program: Command): void {
  program
    .command('docs')
    .description('generate docs/schema.md and docs/er-diagram.md from the migrated schema (needs PostgreSQL)')
    .option('--out <dir>', 'directory to write the files to', 'docs')
    .option(
      '--postgres <url>',
      'PostgreSQL server for the PostgreSQL types (default: --db when it is postgres://…); only a scratch schema is created',
    )
    .option('--check', 'write nothing; exit 3 when the files in --out are not what would be generated')
    .action(
      action(async (cli, options: { out: string; postgres?: string; check?: boolean }) => {
        const postgresUrl =
          options.postgres ??
          (parseDatabaseUrl(cli.options.db).dialect === 'postgres' ? cli.options.db : undefined)
        if (postgresUrl === undefined) throw usage.docsNeedPostgres()
        const docs = await generateSchemaDocs({ postgresUrl, migrationsDir: cli.options.migrationsDir })
        const files = options.check ? checkSchemaDocs(options.out, docs) : writeSchemaDocs(options.out, docs)
        cli.out.report({ migration: docs.migration, postgres: redactUrl(postgresUrl), files }, () =>
          cli.out.table(
            ['file', 'status'],
            files.map((f) => [shown(f.file), f.status]),
          ),
        )
        const stale = files.filter((f) => f.status === 'stale' || f.status === 'missing')
        if (stale.length > 0) {
          throw new CheckFailedError(
            `Generated docs are out of date: ${stale.map((f) => `${shown(f.file)} (${f.status})`).join(', ')}.`,
            'Run `npm run docs -- --postgres postgres://…` and commit the result.',
          )
        }
      }),
    )
}

/** A path relative to the working directory when it is inside it, else absolute. */
function shown(file: string): string {
  const path = relative(process.cwd(), file)
  return path.startsWith('..') || isAbsolute(path) ? file : path
}
