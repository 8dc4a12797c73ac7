import type { Command } from 'commander'
import { createDialectBackup } from '../../dialect/index.js'
import { listBackups, type BackupEntry } from '../../operations/backup-files.js'
import type { Output } from '../output.js'
import { action, type CliContext } from '../program.js'
import { requireDatabase } from '../require-database.js'

/** The backups `backups` and `restore` without FILE list, and whose database they are. */
export interface ListedBackups {
  readonly dir: string
  /** The database of `--db`, as backup manifests name it (`source`). */
  readonly database: string
  /** Those of `--db`'s database; with `all`, every backup in the directory. */
  readonly entries: readonly BackupEntry[]
  readonly all: boolean
}

/**
 * The backups of the database of `--db` in the backup directory (with `all`, also those of other
 * databases sharing it). A missing database is a usage error (exit 2), as for every command.
 */
export async function listedBackups(
  cli: CliContext,
  dirFlag: string | undefined,
  all: boolean,
): Promise<ListedBackups> {
  await requireDatabase(cli)
  const dir = cli.backupDir(dirFlag)
  const database = createDialectBackup(cli.options.db).sourceIdentity()
  return { dir, database, all, entries: listBackups(dir, all ? {} : { of: database }) }
}

/**
 * The `--json` document of `backups` (and of `restore` without FILE): the database they are
 * listed for, and each backup's file, time, size, verification, kind, migration and database.
 */
export function backupsDocument(listed: ListedBackups): Record<string, unknown> {
  return {
    database: listed.database,
    backups: listed.entries.map((b) => ({
      file: b.file,
      createdAt: b.createdAt.toISOString(),
      sizeBytes: b.sizeBytes,
      verified: b.verified,
      kind: b.kind,
      migration: b.manifest?.migration ?? null,
      source: b.source,
      thisDatabase: b.source === listed.database,
    })),
  }
}

/** Human output: newest first, one aligned row per backup; with `--all`, whose database each is. */
export function printBackups(out: Output, listed: ListedBackups): void {
  const { dir, database, entries, all } = listed
  if (entries.length === 0) {
    out.line(all ? `No backups in ${dir}.` : `No backups of ${database} in ${dir}.`)
    return
  }
  if (!all) out.line(`Backups of ${database} in ${dir} (--all: every database's):`)
  out.table(
    ['file', 'created (UTC)', 'size', 'verified', 'kind', ...(all ? ['database'] : [])],
    entries.map((b) => [
      b.file,
      b.createdAt.toISOString().replace('T', ' ').replace('Z', ''),
      `${b.sizeBytes}`,
      b.verified ? out.paint('green', 'yes') : out.paint('red', 'no'),
      // The same words as the `kind` of --json.
      b.kind,
      ...(all ? [b.source === database ? 'this one' : (b.source ?? '(not recorded)')] : []),
    ]),
  )
}

/** `aura-db backups [--dir DIR] [--all]`: this database's backups, newest first: file, time, size, verified or not. */
export function registerBackups(program: Command): void {
  program
    .command('backups')
    .description("list this database's backups, newest first: file, time, size, verified or not")
    .option(
      '--dir <dir>',
      'backup directory (default: backups/ next to the SQLite file; ./backups for PostgreSQL)',
    )
    .option('--all', "also other databases' backups in the directory, each labelled with its database")
    .action(
      action(async (cli, options: { dir?: string; all?: boolean }) => {
        const listed = await listedBackups(cli, options.dir, options.all ?? false)
        cli.out.report(backupsDocument(listed), () => printBackups(cli.out, listed))
      }),
    )
}
