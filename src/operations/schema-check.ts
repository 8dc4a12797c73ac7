import { basename } from 'node:path'
import type { TableDef } from '../schema/define.js'
import { allTables } from '../schema/index.js'
import { generateMigration, type Renames } from '../migration/generate.js'
import { addMigration, assertMigrationName, assertOwnMigrationsDir } from '../migration/migration-files.js'
import { discoverMigrations, type MigrationFile } from '../migration/migration-source.js'
import {
  compareModels,
  modelOfDefinitions,
  modelOfMigrations,
  type SchemaDifference,
} from '../migration/schema-model.js'

/** What `aura-db check` found. */
export interface SchemaCheckReport {
  readonly ok: boolean
  readonly migrations: number
  readonly differences: readonly SchemaDifference[]
}

/**
 * Compares the table definitions with the schema the migration files produce (both built on a
 * scratch in-memory SQLite database, so no server and no data are involved).
 */
export async function checkSchema(
  files: readonly MigrationFile[],
  tables: readonly TableDef[] = allTables,
): Promise<SchemaCheckReport> {
  const [defined, migrated] = await Promise.all([modelOfDefinitions(tables), modelOfMigrations(files)])
  const differences = compareModels(defined, migrated)
  return { ok: differences.length === 0, migrations: files.length, differences }
}

/** What `aura-db add` wrote. */
export interface AddedMigration {
  readonly name: string
  readonly file: string
  readonly changes: readonly string[]
  readonly dataLoss: readonly string[]
}

/**
 * Generates the migration from the difference between the definitions and what the migrations
 * of `dir` (after `before`, the sets applied ahead of it) produce, and writes it into `dir`.
 */
export async function addGeneratedMigration(
  dir: string,
  name: string,
  renames: Renames,
  options: { before?: readonly MigrationFile[]; tables?: readonly TableDef[]; now?: Date } = {},
): Promise<AddedMigration> {
  assertMigrationName(name)
  assertOwnMigrationsDir(dir)
  const tables = options.tables ?? allTables
  const files = [...(options.before ?? []), ...discoverMigrations(dir)]
  const [after, before] = await Promise.all([modelOfDefinitions(tables), modelOfMigrations(files)])
  // Generate before naming the file: a refusal writes nothing.
  const generated = generateMigration(name, tables, before, after, renames)
  const file = addMigration(dir, name, options.now, () => generated.source)
  return { name: basename(file, '.ts'), file, changes: generated.changes, dataLoss: generated.dataLoss }
}
