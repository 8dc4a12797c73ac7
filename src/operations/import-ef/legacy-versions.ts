import type { ImportProblem } from '../../errors.js'
import { LEGACY_TABLE_NAMES, LEGACY_TABLES, type LegacyTableName } from './legacy-schema.js'

/** The EF Core migrations of the app's last version, in order (docs/importing.md). */
export const APP_MIGRATIONS = [
  '20251026005425_InitialCreate',
  '20251101230642_AddUserSetupTable',
  '20251102050640_AddProjectStatePersistence',
  '20251103202216_AddActionLogAndSoftDelete',
  '20251108184353_AddWizardProjectManagement',
  '20251109170431_AddSystemConfiguration',
  '20251121045900_AddCreatedByToConfigurations',
  '20251122175419_AddMissingDatabaseTables',
] as const

/**
 * The columns a later EF migration added to a table that existed before it (`ALTER TABLE … ADD
 * COLUMN`), with the value that migration gave the rows already there: NULL, or the column's
 * DEFAULT. A file of an older app version lacks them, and each of its rows would have had
 * exactly that value, so reading it so is lossless.
 */
const LATER_COLUMNS: Partial<Record<LegacyTableName, Record<string, null | number | string>>> = {
  ProjectStates: {
    DeletedAt: null,
    ModifiedBy: null,
    IsDeleted: 0,
    CurrentWizardStep: 0,
    Category: null,
    CreatedBy: null,
    DeletedBy: null,
    DurationSeconds: null,
    LastAutoSaveAt: null,
    OutputFilePath: null,
    Tags: null,
    TemplateId: null,
    ThumbnailPath: null,
  },
  ProjectVersions: {
    DeletedAt: null,
    CreatedBy: null,
    DeletedBy: null,
    ModifiedBy: null,
    UpdatedAt: '0001-01-01 00:00:00',
  },
  ContentBlobs: { CreatedBy: null, ModifiedBy: null, UpdatedAt: '0001-01-01 00:00:00' },
  Configurations: { CreatedBy: null },
}

/** What a legacy file lacks compared with the app's last version: each is read as the app would have. */
export interface AbsentInLegacy {
  readonly table: string
  /** Null: the whole table is absent (created by a later migration), imported as empty. */
  readonly column: string | null
}

/** The app version a file was written by, as its `__EFMigrationsHistory` tells. */
export interface LegacyAppVersion {
  /** The last EF migration applied, or null when the history is empty or absent. */
  readonly lastMigration: string | null
  /** EF Core's ProductVersion of that migration (e.g. `8.0.11`). */
  readonly productVersion: string | null
  /** The app's migrations the file has not had (an older app version). */
  readonly missingMigrations: readonly string[]
}

/** The tables and columns of a legacy file (see `LegacySqliteFile.tables`). */
type LegacyTables = ReadonlyMap<string, { readonly columns: readonly string[] }>

/**
 * Compares a legacy file's 13 tables with the app's last version. A table a later migration
 * created may be absent (no rows to import); a column a later migration added may be absent
 * (each row reads as that migration's NULL or DEFAULT). Anything else absent, and any column the
 * app never had, is a problem: its values would be lost or invented.
 */
export function compareWithApp(tables: LegacyTables): {
  absent: AbsentInLegacy[]
  problems: ImportProblem[]
} {
  const absent: AbsentInLegacy[] = []
  const problems: ImportProblem[] = []
  for (const name of LEGACY_TABLE_NAMES) {
    const table = tables.get(name)
    if (!table) {
      // Every version of the app has its projects: a file without them is another database.
      if (name === 'ProjectStates')
        problems.push({ table: name, key: null, column: null, reason: 'table missing' })
      else absent.push({ table: name, column: null })
      continue
    }
    const expected: readonly string[] = LEGACY_TABLES[name].columns
    for (const column of expected) {
      if (table.columns.includes(column)) continue
      if (LATER_COLUMNS[name] && column in LATER_COLUMNS[name]) absent.push({ table: name, column })
      else problems.push({ table: name, key: null, column, reason: 'column missing' })
    }
    for (const column of table.columns)
      if (!expected.includes(column))
        problems.push({ table: name, key: null, column, reason: 'unknown column: its values would be lost' })
  }
  return { absent, problems }
}

/** Gives a row of an older file the columns it lacks, with the values the later migration gave them. */
export function withLaterColumns(
  table: LegacyTableName,
  absent: readonly AbsentInLegacy[],
  row: Record<string, unknown>,
): Record<string, unknown> {
  for (const a of absent)
    if (a.table === table && a.column !== null) row[a.column] = LATER_COLUMNS[table]![a.column]
  return row
}

/** The app version of a file, from its migration history rows (MigrationId, ProductVersion). */
export function appVersionOf(history: readonly Record<string, unknown>[]): LegacyAppVersion {
  const applied = history.map((r) => String(r.MigrationId)).sort()
  const last = history.find((r) => String(r.MigrationId) === applied.at(-1))
  return {
    lastMigration: last ? String(last.MigrationId) : null,
    productVersion: last ? String(last.ProductVersion) : null,
    missingMigrations: APP_MIGRATIONS.filter((m) => !applied.includes(m)),
  }
}
