import { basename } from 'node:path'
import {
  createDialect,
  parseDatabaseUrl,
  SQLITE_MODEL,
  type AuraDialect,
  type DialectName,
  type ModelTarget,
} from '../dialect/index.js'
import { usage } from '../errors.js'
import type { TableDef } from '../schema/define.js'
import { allTables } from '../schema/index.js'
import { generateMigration, type Renames } from '../migration/generate.js'
import { postgresColumnTypes } from '../migration/postgres-column-types.js'
import { addMigration, assertMigrationName, assertOwnMigrationsDir } from '../migration/migration-files.js'
import { discoverMigrations, type MigrationFile } from '../migration/migration-source.js'
import {
  compareModels,
  modelOfDefinitions,
  modelOfMigrations,
  type SchemaDifference,
} from '../migration/schema-model.js'
import type { SchemaModel } from '../dialect/schema-model.js'

/** What `aura-db check` found. */
export interface SchemaCheckReport {
  readonly ok: boolean
  readonly migrations: number
  /** The dialects compared: SQLite always, PostgreSQL when a server was named. */
  readonly dialects: readonly DialectName[]
  readonly differences: readonly (SchemaDifference & { readonly dialect: DialectName })[]
}

/** Options of {@link checkSchema}. */
export interface SchemaCheckOptions {
  /**
   * A PostgreSQL server to compare on as well (a `postgres://` URL, or the dialect of an open
   * database), in scratch schemas dropped afterwards: a migration may do something on one
   * dialect only (`ctx.dialect`), which SQLite cannot show.
   */
  readonly postgres?: string
  /**
   * Compare on this open database's dialect only (`verify`): scratch databases of its kind, on
   * its server; instead of in-memory SQLite and `postgres`.
   */
  readonly on?: AuraDialect
}

/**
 * Compares the table definitions with the schema the migration files produce, both built on a
 * scratch database (in-memory SQLite, and scratch PostgreSQL schemas when `postgres` is given),
 * so no data is involved. The report lists each difference with the dialect it was found on.
 */
export async function checkSchema(
  files: readonly MigrationFile[],
  tables: readonly TableDef[] = allTables,
  options: SchemaCheckOptions = {},
): Promise<SchemaCheckReport> {
  const { postgres, on } = options
  if (on) return compareOn([on.schemaModel], files, tables)
  if (postgres !== undefined && parseDatabaseUrl(postgres).dialect !== 'postgres')
    throw usage.checkNeedsPostgres(postgres)
  const server = postgres === undefined ? undefined : createDialect(postgres)
  try {
    return await compareOn(server ? [SQLITE_MODEL, server.schemaModel] : [SQLITE_MODEL], files, tables)
  } finally {
    await server?.close()
  }
}

async function compareOn(
  targets: readonly ModelTarget[],
  files: readonly MigrationFile[],
  tables: readonly TableDef[],
): Promise<SchemaCheckReport> {
  const differences: SchemaCheckReport['differences'][number][] = []
  // One dialect after the other: each builds two scratch databases.
  for (const target of targets) {
    const [defined, migrated] = await Promise.all([
      modelOfDefinitions(tables, target),
      modelOfMigrations(files, target),
    ])
    const { model, missing } = withoutSearchIndexes(tables, migrated, target)
    const found = [...missing, ...compareModels(defined, model)]
    differences.push(...found.map((d) => ({ ...d, dialect: target.dialect })))
  }
  return {
    ok: differences.length === 0,
    migrations: files.length,
    dialects: targets.map((t) => t.dialect),
    differences,
  }
}

/**
 * Where the target's full-text search is an index that a hand-written migration creates and the
 * definitions only name (`fullTextSearch`; PostgreSQL's GIN expression index): the migrated model
 * without those indexes, to compare with the definitions', and a difference for each one that is
 * missing. Elsewhere the model as it is.
 */
function withoutSearchIndexes(
  tables: readonly TableDef[],
  migrated: SchemaModel,
  target: ModelTarget,
): { model: SchemaModel; missing: SchemaDifference[] } {
  const missing: SchemaDifference[] = []
  const model = new Map(migrated.tables)
  for (const def of tables) {
    const table = migrated.tables.get(def.name)
    const name = table && def.fullTextSearch ? target.searchIndexName(def.name) : null
    if (!def.fullTextSearch || !table || name === null) continue
    const indexes = table.indexes.filter((ix) => ix.name !== name)
    if (indexes.length === table.indexes.length)
      missing.push({
        table: def.name,
        subject: `${def.name} index ${name}`,
        problem: `full-text search over ${def.fullTextSearch.join(', ')} is defined but no migration creates its index`,
      })
    model.set(def.name, { ...table, indexes })
  }
  return { model: { tables: model }, missing }
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
  const [after, before, oldPostgresTypes] = await Promise.all([
    modelOfDefinitions(tables),
    modelOfMigrations(files),
    postgresColumnTypes(files),
  ])
  // Generate before naming the file: a refusal writes nothing.
  const generated = generateMigration(name, tables, before, after, renames, oldPostgresTypes)
  const file = addMigration(dir, name, options.now, () => generated.source)
  return { name: basename(file, '.ts'), file, changes: generated.changes, dataLoss: generated.dataLoss }
}
