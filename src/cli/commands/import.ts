import type { Command } from 'commander'
import { importErrors, usage } from '../../errors.js'
import { importEfDatabase } from '../../operations/import-ef/import-ef.js'
import type { EfImportReport } from '../../operations/import-ef/import-report.js'
import type { Output } from '../output.js'
import { action } from '../program.js'
import { Progress } from '../progress.js'

/** Prints an import report: per table, what is not imported, what was normalised, the problems. */
export function printImport(out: Output, report: EfImportReport): void {
  out.table(
    ['legacy table', 'target', 'rows', report.dryRun ? 'to import' : 'imported', 'skipped'],
    report.tables.map((t) => [t.legacy, t.target, String(t.rows), String(t.imported), String(t.skipped)]),
  )
  out.line()
  out.fields([
    ['source', report.source.file],
    ['sha256', report.source.sha256],
    ['-wal sha256', report.source.walSha256 ?? '(none)'],
    ['unchanged', report.sourceUnchanged ? 'yes (the legacy file was not modified)' : 'NO'],
    ['target', report.target],
    [
      'not imported',
      report.notImported.length === 0
        ? 'nothing'
        : report.notImported.map((t) => `${t.table} (${t.rows} rows)`).join(', '),
    ],
    [
      'app version',
      `${report.appVersion.lastMigration ?? '(no EF migration history)'}${
        report.appVersion.missingMigrations.length > 0
          ? ` (older: without ${report.appVersion.missingMigrations.join(', ')})`
          : ''
      }`,
    ],
    [
      'absent (older app version)',
      report.absent.length === 0
        ? 'nothing'
        : report.absent.map((a) => (a.column ? `${a.table}.${a.column}` : `table ${a.table}`)).join(', '),
    ],
    ['GUIDs lower-cased', String(report.normalised.guidsLowerCased)],
    ['timestamps without zone (UTC)', String(report.normalised.timestampsWithoutZone)],
    ['0001-01-01 sentinels', String(report.normalised.sentinelTimestamps)],
    ['sub-millisecond digits dropped', String(report.normalised.subMillisecondTimestamps)],
    ['UTC offsets converted to UTC', String(report.normalised.timestampsWithOffset)],
    ['blobs from inline version content', String(report.blobsFromInlineContent)],
    ['sensitive values encrypted', String(report.encryptedValues)],
    [
      'reference counts corrected',
      report.referenceCounts.length === 0
        ? 'none'
        : report.referenceCounts.map((r) => `${r.hash.slice(0, 12)}… ${r.legacy} → ${r.actual}`).join(', '),
    ],
  ])
  for (const m of report.sceneIndexMoves)
    out.line(
      `moved in ${m.table}: ${m.key} of project ${m.projectId}, index ${m.oldIndex} → ${m.newIndex} (the index was taken)`,
    )
  for (const d of report.differences)
    out.line(
      `${d.updated ? (report.dryRun ? 'to update' : 'updated') : 'differs (kept as it is here)'} in ${d.table}: ${d.key} (${d.columns.join(', ')})`,
    )
  for (const t of report.tables.filter((t) => t.skipped > 0)) {
    out.line(
      `skipped in ${t.legacy} (already there): ${t.skippedKeys.join(', ')}${t.skipped > t.skippedKeys.length ? ', …' : ''}`,
    )
  }
  if (report.problems.length > 0) {
    out.line()
    out.line(out.paint('red', `${report.problems.length} value(s) cannot be imported:`))
    out.table(
      ['table', 'key', 'column', 'reason'],
      report.problems.map((p) => [p.table, p.key ?? '', p.column ?? '', p.reason]),
    )
  } else if (report.dryRun) out.line('Dry run: nothing was written; the import would succeed.')
  else out.line(`Imported in one transaction; audit entry ${String(report.auditEntryId)}.`)
}

/**
 * `aura-db import ef LEGACY_FILE [--dry-run] [--merge[=update]] [--strict]`: imports the .NET app's aura.db into
 * the database of `--db` (importing.md). `--json`: the report ({@link EfImportReport}).
 */
export function registerImport(program: Command): void {
  const command = program
    .command('import')
    .description("import data from another application's database (ef: the .NET Aura app's aura.db)")
  command
    .command('ef <legacyFile>')
    .description(
      "import the .NET Aura app's aura.db (EF Core, SQLite) into --db, in one transaction; the legacy file is only read",
    )
    .option('--dry-run', 'read and check everything, print the full report, write nothing')
    .option(
      '--merge [mode]',
      'import into a database that holds data: rows whose key is already there are not written, those that differ are reported; --merge=update updates them (audited)',
    )
    .option('--strict', 'refuse what would otherwise be repaired and reported (a scene index taken twice)')
    .action(
      action(
        async (
          cli,
          legacyFile: string,
          options: { dryRun?: boolean; merge?: boolean | string; strict?: boolean },
        ) => {
          if (typeof options.merge === 'string' && options.merge !== 'update')
            throw usage.badMergeMode(options.merge)
          const report = await cli.withDatabase(async (db) => {
            const progress = new Progress('Importing')
            try {
              return await importEfDatabase(db, legacyFile, {
                dryRun: options.dryRun === true,
                merge: options.merge === 'update' ? 'update' : options.merge === true,
                strict: options.strict === true,
                onProgress: (p) => progress.update(`${p.phase} ${p.table}`, p.done, p.total),
              })
            } finally {
              progress.finish()
            }
          })
          cli.out.report(report, () => printImport(cli.out, report))
          if (!report.ok) throw importErrors.values(report.problems)
        },
      ),
    )
}
