import type { Kysely } from 'kysely'

/**
 * The schema as a database holds it, normalised for comparison: what `aura-db check` compares and
 * `aura-db add` diffs. Both sides are built the same way, in a scratch database (SQLite in memory;
 * with `check --postgres`, also a scratch PostgreSQL schema): the migrations run there, and so does
 * the code the generator renders from the definitions. Each side is then read back by the same
 * catalog queries, so the database itself normalises both (default spelling, index column order,
 * CHECK text) and no hand-written SQL parser decides equality.
 */
export interface ModelColumn {
  readonly name: string
  /** Declared type, upper-case (`TEXT`, `INTEGER`, `REAL`). */
  readonly type: string
  readonly notNull: boolean
  /** The default as SQLite stores its text, or null. */
  readonly defaultValue: string | null
  readonly primaryKey: boolean
}

export interface ModelIndex {
  readonly name: string
  /** Column names, each followed by ` desc` when descending. */
  readonly columns: readonly string[]
  readonly unique: boolean
  /** The WHERE of a partial index, lower-case without quotes, or null. */
  readonly where: string | null
  /** The statement SQLite stored, replayed as it is by a rebuild's `down`. */
  readonly sql: string
}

export interface ModelForeignKey {
  readonly columns: readonly string[]
  readonly table: string
  readonly referencedColumns: readonly string[]
  readonly onDelete: string
}

export interface ModelTable {
  readonly name: string
  readonly columns: readonly ModelColumn[]
  /** Named CHECK constraints: name → expression (whitespace collapsed). */
  readonly checks: ReadonlyMap<string, string>
  readonly indexes: readonly ModelIndex[]
  readonly foreignKeys: readonly ModelForeignKey[]
  /** The triggers on the table (FTS5 sync), replayed after a rebuild. */
  readonly triggers: readonly string[]
  /** The CREATE TABLE statement SQLite stored. */
  readonly sql: string
}

export interface SchemaModel {
  readonly tables: ReadonlyMap<string, ModelTable>
}

/**
 * An empty scratch database to build a model in: SQLite in memory, or a PostgreSQL schema
 * (src/dialect/postgres/postgres-model.ts); `read` reads the model back, `close` discards it.
 */
export interface ScratchModel {
  readonly db: Kysely<any>
  read(): SchemaModel | Promise<SchemaModel>
  close(): Promise<void>
}
