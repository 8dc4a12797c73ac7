import type { Command } from 'commander'
import { removeOwnTemps } from '../../dialect/backup-fs.js'
import { parseDatabaseUrl } from '../../dialect/index.js'
import { backupErrors } from '../../errors.js'
import { DEFAULT_KEEP } from '../../operations/backup.js'
import { resolveBackupDir } from '../../operations/backup-files.js'
import { action } from '../program.js'
import { Progress } from '../progress.js'
import { onInterrupt } from '../interrupt.js'
import { requireDatabase } from '../require-database.js'

/**
 * `aura-db backup [--dir DIR] [--keep N]`: an online, consistent, verified backup with a sha256
 * manifest, while the application keeps writing; retention keeps the newest N regular backups.
 * Prints the backup's path.
 */
export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description('take an online, verified backup (sha256 manifest); keep the newest N backups')
    .option(
      '--dir <dir>',
      'backup directory (default: backups/ next to the SQLite file; ./backups for PostgreSQL)',
    )
    .option('--keep <n>', `regular backups to keep, newest first (default: ${DEFAULT_KEEP})`)
    .action(
      action(async (cli, options: { dir?: string; keep?: string }) => {
        const keep = cli.backupKeep(options.keep)
        const dir = cli.configuredBackupDir(options.dir)
        const target = parseDatabaseUrl(cli.options.db)
        // An in-memory database dies with this process: a backup of it could never be restored.
        if (target.dialect === 'sqlite' && target.path === ':memory:') throw backupErrors.inMemoryCommand()
        await requireDatabase(cli)
        const backupDir = cli.backupDir(options.dir)
        await cli.withDatabase(async (db) => {
          const progress = new Progress('Backing up')
          const stopListening = onInterrupt(() => {
            progress.finish()
            const removed = removeOwnTemps(resolveBackupDir(backupDir))
            return (
              `Backup stopped: no backup was written${removed > 0 ? ' and its temporary file was removed' : ''}; ` +
              'the database is unchanged, and the existing backups are untouched.'
            )
          })
          let result
          try {
            result = await db.backup({
              ...(dir !== undefined ? { dir } : {}),
              ...(keep !== undefined ? { keep } : {}),
              onProgress: (p) => progress.update(p.phase, p.done, p.total, p),
            })
          } finally {
            stopListening()
            progress.finish()
          }
          const { file, manifest, sizeBytes, sha256, pruned } = result
          const { migration } = result
          cli.out.report({ file, manifest, sizeBytes, sha256, migration, pruned }, () => {
            cli.out.line(file)
            cli.out.fields([
              ['manifest', manifest],
              ['size', `${sizeBytes} bytes`],
              ['sha256', sha256],
              ['migration', migration ?? '(none)'],
              ['pruned', pruned.length === 0 ? 'nothing' : pruned.join(', ')],
            ])
          })
        })
      }),
    )
}
