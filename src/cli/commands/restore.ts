import { dirname, resolve } from 'node:path'
import type { Command } from 'commander'
import { removeOwnTemps } from '../../dialect/backup-fs.js'
import { parseDatabaseUrl } from '../../dialect/index.js'
import { redactUrl, usage } from '../../errors.js'
import { resolveBackupDir } from '../../operations/backup-files.js'
import { restoreDatabase, type RestorePlan } from '../../operations/restore.js'
import { CancelledError } from '../exit-codes.js'
import { onInterrupt } from '../interrupt.js'
import { action } from '../program.js'
import { Progress } from '../progress.js'
import { backupsDocument, listedBackups, printBackups } from './backups.js'

const PHASES = {
  check: 'checking the backup',
  'safety-backup': 'safety backup',
  restore: 'restoring',
} as const

function question(plan: RestorePlan): string {
  return (
    `Replace ${plan.database} with ${plan.file} (taken ${plan.createdAt}, at ${plan.migration ?? 'no migration'})?` +
    (plan.safetyBackup ? ' A safety backup of the current database is taken first.' : '')
  )
}

/**
 * `aura-db restore [FILE] [--dir DIR] [--yes]`: without FILE, lists the backups. With FILE:
 * checks it (manifest hash, integrity, schema not newer than the code) before touching
 * anything, takes a safety backup, asks (or `--yes`; required when stdin is not a terminal),
 * swaps it in atomically and verifies the result.
 */
export function registerRestore(program: Command): void {
  program
    .command('restore')
    .description(
      'restore a backup (verified first; a safety backup of the current database is taken); without FILE, list backups',
    )
    .argument('[file]', 'backup file name (or path inside the backup directory)')
    .option(
      '--dir <dir>',
      'backup directory (default: backups/ next to the SQLite file; ./backups for PostgreSQL)',
    )
    .option('--force-other-database', "restore a backup whose manifest names another database's")
    .option('--all', "without FILE: also list other databases' backups, labelled")
    .action(
      action(
        async (
          cli,
          file: string | undefined,
          options: { dir?: string; forceOtherDatabase?: boolean; all?: boolean },
        ) => {
          if (file === undefined) {
            const listed = await listedBackups(cli, options.dir, options.all ?? false)
            cli.out.report(backupsDocument(listed), () => {
              printBackups(cli.out, listed)
              if (listed.entries.length > 0) cli.out.line('\nRestore one with: aura-db restore <file>')
            })
            return
          }
          const dir = cli.backupDir(options.dir)
          // Refuse before any work: the question could never be answered.
          if (!cli.options.yes && !process.stdin.isTTY) {
            throw usage.confirmationNeeded(`Restoring ${file} replaces ${redactUrl(cli.options.db)}.`)
          }
          const progress = new Progress('Restore')
          let phase: keyof typeof PHASES = 'check'
          const stopListening = onInterrupt(() => {
            progress.finish()
            const target = parseDatabaseUrl(cli.options.db)
            removeOwnTemps(resolveBackupDir(dir))
            if (target.dialect === 'sqlite') removeOwnTemps(dirname(resolve(target.path)))
            return phase === 'restore'
              ? 'Restore stopped during the swap, which is atomic: the database is either the one it was or ' +
                  'the backup, whole. `aura-db status` shows which; the safety backup is in the backup directory.'
              : `Restore stopped while ${PHASES[phase]}: nothing was restored, the database is unchanged, ` +
                  'and the temporary files were removed.'
          })
          let result
          try {
            result = await restoreDatabase({
              url: cli.options.db,
              file,
              dir,
              yes: cli.options.yes,
              forceOtherDatabase: options.forceOtherDatabase ?? false,
              confirm: async (plan) => {
                progress.finish()
                if (await cli.out.confirm(question(plan), false)) return true
                // The same answer, the same outcome as declining a rollback: exit 1, nothing changed.
                throw new CancelledError('Restore cancelled: nothing was changed.')
              },
              ...(cli.options.migrationsDir ? { migrationsDir: cli.options.migrationsDir } : {}),
              onProgress: (p) => {
                phase = p.phase
                progress.update(PHASES[p.phase], p.done, p.total)
              },
            })
          } finally {
            stopListening()
            progress.finish()
          }
          const { restored, safetyBackup } = result
          cli.out.report(
            { restored, safetyBackup, database: result.database, migration: result.migration },
            () => {
              cli.out.line(
                `Restored ${restored} into ${result.database} (at ${result.migration ?? 'no migration'}).`,
              )
              cli.out.line(
                safetyBackup
                  ? `The previous database is saved in ${safetyBackup}.`
                  : 'There was no database before, so no safety backup was needed.',
              )
            },
          )
        },
      ),
    )
}
