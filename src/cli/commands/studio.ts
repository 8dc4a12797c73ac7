import type { Command } from 'commander'
import open from 'open'
import { usage } from '../../errors.js'
import { startStudio } from '../../studio/server.js'
import { action } from '../program.js'

/** The audit actor of the studio's write actions unless `--actor` names another. */
const DEFAULT_ACTOR = 'aura-studio'

function parsePort(text: string): number {
  const port = Number(text)
  if (!/^\d+$/.test(text) || port > 65535) throw usage.badPort(text)
  return port
}

/**
 * `aura-db studio [--port N] [--open] [--write] [--dir DIR] [--actor NAME]`: serves Aura Studio
 * for the database of `--db` on 127.0.0.1 until interrupted, and prints its URL (with the run's
 * access token) as the first line of stdout. Read-only unless `--write`.
 */
export function registerStudio(program: Command): void {
  program
    .command('studio')
    .description(
      'browse projects, every table, versions, audit trail, undo/redo history and health in a local web page',
    )
    .option('--port <n>', 'port on 127.0.0.1 (default: 0, a free port)', '0')
    .option('--open', 'open the page in the default browser')
    .option(
      '--write',
      'enable the write actions: restore a version, undo/redo, take a backup, restore a deleted row, edit a row',
    )
    .option(
      '--dir <dir>',
      'backup directory (default: backups/ next to the SQLite file; ./backups for PostgreSQL)',
    )
    .option('--actor <name>', `audit actor of the write actions (default: ${DEFAULT_ACTOR})`)
    .action(
      action(
        async (
          cli,
          options: { port: string; open?: boolean; write?: boolean; dir?: string; actor?: string },
        ) => {
          const port = parsePort(options.port)
          await cli.withDatabase(
            async (db) => {
              const studio = await startStudio({
                db,
                port,
                write: options.write === true,
                backupDir: cli.backupDir(options.dir),
                verifyArgs: [
                  '--db',
                  cli.options.db,
                  ...(cli.options.migrationsDir ? ['--migrations-dir', cli.options.migrationsDir] : []),
                  ...(cli.options.schema ? ['--schema', cli.options.schema] : []),
                ],
              })
              cli.out.report({ url: studio.url, write: options.write === true }, () => {
                cli.out.line(studio.url)
                cli.out.line(
                  options.write
                    ? 'Aura Studio is running with writes enabled (restore, undo/redo, backup, edit rows). Ctrl+C stops it.'
                    : 'Aura Studio is running read-only (--write enables restore, undo/redo, backup, edit rows). Ctrl+C stops it.',
                )
              })
              // Listening before the URL is out: whoever reads it may stop the studio at once.
              const stopped = new Promise<void>((resolve) => {
                process.once('SIGINT', resolve)
                process.once('SIGTERM', resolve)
              })
              // The URL must be out now, not when the studio stops.
              cli.out.flush()
              if (options.open) await open(studio.url)
              await stopped
              await studio.close()
            },
            // The health page shows the studio's own statement timings (on SQLite too).
            { actor: options.actor ?? DEFAULT_ACTOR, metrics: true },
          )
        },
      ),
    )
}
