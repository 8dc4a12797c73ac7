/** A column as the live database reports it, normalised for comparison. */
export interface IntrospectedColumn {
  readonly name: string
  /** Physical type as the database spells it (`TEXT`, `character varying(500)`, …). */
  readonly type: string
  readonly nullable: boolean
  readonly defaultValue: string | null
  readonly primaryKey: boolean
}

export interface IntrospectedIndex {
  readonly name: string
  readonly columns: readonly string[]
  readonly unique: boolean
}

export interface IntrospectedForeignKey {
  readonly columns: readonly string[]
  readonly referencedTable: string
  readonly referencedColumns: readonly string[]
  readonly onDelete: string
}

export interface IntrospectedTable {
  readonly name: string
  readonly columns: readonly IntrospectedColumn[]
  readonly indexes: readonly IntrospectedIndex[]
  readonly foreignKeys: readonly IntrospectedForeignKey[]
  readonly checks: readonly string[]
  /**
   * Set for a table that is not a table of its own: a SQLite virtual table (FTS5) or one of the
   * shadow tables that hold its data (`<name>_data`, `_idx`, `_docsize`, `_config`).
   */
  readonly role?: 'virtual' | 'shadow'
}

/** The live schema: user tables sorted by name, each with columns in order and indexes sorted by name. */
export interface SchemaSnapshot {
  readonly tables: readonly IntrospectedTable[]
}

/** Reads the live schema. */
export interface Introspector {
  /** Whether a table of this name exists (in the current schema on PostgreSQL). */
  hasTable(name: string): Promise<boolean>
  /** The names of a table's columns, in order; empty when there is no such table. */
  columnNames(table: string): Promise<string[]>
  introspect(): Promise<SchemaSnapshot>
}
