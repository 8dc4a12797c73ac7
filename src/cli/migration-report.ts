import type { AuraDialect } from '../dialect/index.js'
import { backupBeforeMigration, type BackupResult } from '../operations/backup.js'
import type { DriftEntry, MigrationRun, MigrationStatus } from '../migration/migrator.js'
import { CheckFailedError } from './exit-codes.js'
import type { Output } from './output.js'
import type { CliContext } from './program.js'
import { Progress } from './progress.js'

/** One line per drifted migration, naming the file and both checksums. */
export function driftLines(drift: readonly DriftEntry[]): string[] {
  return drift.map((d) =>
    d.problem === 'missing'
      ? `${d.name}.ts is missing (applied with checksum ${d.expected})`
      : `${d.name}.ts changed since it was applied (recorded ${d.expected}, file now ${d.actual})`,
  )
}

/** The error `migrate`, `rollback` and `init` refuse with when applied migrations drifted (exit 3). */
export function refuseOnDrift(status: MigrationStatus, verb: string): void {
  if (status.drift.length === 0) return
  throw new CheckFailedError(
    `Refusing to ${verb}: ${driftLines(status.drift).join('; ')}.`,
    'Restore the original file(s): an applied migration is never edited; add a new migration instead.',
  )
}

/** The `--json` document of `migrate` / `rollback` : results, backup, and the SQL of a dry run. */
export function runDocument(run: MigrationRun, backup: string | null): Record<string, unknown> {
  return {
    results: run.results,
    backup,
    ...(run.sql ? { sql: run.sql } : {}),
    ...(run.error ? { error: run.error.message } : {}),
  }
}

/** Human output of a run: the SQL of a dry run, or a table of the steps and their outcome. */
export function printRun(out: Output, run: MigrationRun): void {
  if (run.sql) {
    for (const step of run.sql) {
      out.line(out.paint('dim', `-- ${step.direction}: ${step.name} (${step.set})`))
      for (const statement of step.statements) out.line(`${statement};`)
      out.line()
    }
    return
  }
  if (run.results.length === 0) return
  const painted = { success: 'green', error: 'red', 'not-executed': 'yellow' } as const
  out.table(
    ['migration', 'set', 'direction', 'status', 'ms'],
    run.results.map((r) => [
      r.name,
      r.set,
      r.direction,
      out.paint(painted[r.status], r.status),
      String(r.ms),
    ]),
  )
  for (const r of run.results) {
    for (const loss of r.dataLoss ?? []) out.line(out.paint('red', `DATA LOSS in ${r.name}: ${loss}`))
  }
}

/**
 * The verified backup `migrate` and `rollback` take first on a SQLite database holding data
 * (`backupBeforeMigration`), into the configured backup directory (`AURA_BACKUP_DIR`,
 * `backupDir`) when there is one, with its progress on a terminal.
 */
export async function backupFirst(cli: CliContext, dialect: AuraDialect): Promise<BackupResult | null> {
  const progress = new Progress('Backup before migrating')
  const dir = cli.configuredBackupDir()
  const keep = cli.backupKeep()
  try {
    return await backupBeforeMigration(dialect, {
      ...(dir === undefined ? {} : { dir }),
      ...(keep === undefined ? {} : { keep }),
      onProgress: (p) => progress.update(p.phase, p.done, p.total, p),
    })
  } finally {
    progress.finish()
  }
}
