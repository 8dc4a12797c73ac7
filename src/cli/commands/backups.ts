import type { Command } from 'commander'
import { listBackups, type BackupEntry } from '../../operations/backup-files.js'
import type { Output } from '../output.js'
import { action } from '../program.js'

/**
 * The `--json` document of `backups` (and of `restore` without FILE): each backup's file, time,
 * size, verification, kind and migration.
 */
export function backupsDocument(entries: readonly BackupEntry[]): Record<string, unknown> {
  return {
    backups: entries.map((b) => ({
      file: b.file,
      createdAt: b.createdAt.toISOString(),
      sizeBytes: b.sizeBytes,
      verified: b.verified,
      kind: b.kind,
      migration: b.manifest?.migration ?? null,
    })),
  }
}

/** Human output: newest first, one aligned row per backup. */
export function printBackups(out: Output, dir: string, entries: readonly BackupEntry[]): void {
  if (entries.length === 0) {
    out.line(`No backups in ${dir}.`)
    return
  }
  out.table(
    ['file', 'created (UTC)', 'size', 'verified', 'kind'],
    entries.map((b) => [
      b.file,
      b.createdAt.toISOString().replace('T', ' ').replace('Z', ''),
      `${b.sizeBytes}`,
      b.verified ? out.paint('green', 'yes') : out.paint('red', 'no'),
      // The same words as the `kind` of --json.
      b.kind,
    ]),
  )
}

/** `aura-db backups [--dir DIR]`: the backups, newest first: file, time, size, verified or not. */
export function registerBackups(program: Command): void {
  program
    .command('backups')
    .description('list backups, newest first: file, time, size, verified or not')
    .option(
      '--dir <dir>',
      'backup directory (default: backups/ next to the SQLite file; ./backups for PostgreSQL)',
    )
    .action(
      action(async (cli, options: { dir?: string }) => {
        const dir = cli.backupDir(options.dir)
        const entries = listBackups(dir)
        cli.out.report(backupsDocument(entries), () => printBackups(cli.out, dir, entries))
      }),
    )
}
