import type { Driver, Kysely } from 'kysely'
import type { ColumnKind } from '../schema/define.js'

/** The dialect names, one token per database everywhere. */
export type DialectName = 'sqlite' | 'postgres'

/** What a database can do; the core asks for capabilities, never for a dialect name. */
export interface DialectCapabilities {
  /** Session-scoped advisory locks released by the server when the connection dies (PostgreSQL). */
  readonly advisoryLock: boolean
  /** The database is one file on this machine (SQLite): file modes, WAL, file backups apply. */
  readonly fileBased: boolean
  /** Writers serialise on one database-wide lock; concurrent transactions never deadlock. */
  readonly singleWriter: boolean
}

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
}

/** The live schema: user tables sorted by name, each with columns in order and indexes sorted by name. */
export interface SchemaSnapshot {
  readonly tables: readonly IntrospectedTable[]
}

/** Holds the migration lock until released; see operations.md "Lock". */
export interface MigrationLock {
  release(): Promise<void>
}

/**
 * The seam between Aura Data and one database. Everything that differs between SQLite and
 * PostgreSQL lives behind this interface, in `src/dialect/<name>/`; the rest of the code base
 * is dialect-free.
 */
export interface AuraDialect {
  readonly name: DialectName
  readonly capabilities: DialectCapabilities
  /** Where the database is, safe to print (no password). */
  readonly location: string
  /** The SQLite file path (absolute), or null for PostgreSQL and in-memory databases. */
  readonly filePath: string | null
  /** The Kysely instance over this database (statement cache, BEGIN IMMEDIATE on SQLite, …). */
  readonly kysely: Kysely<any>
  /** The physical column type of a logical type (schema.md, "Logical types"). */
  columnType(kind: ColumnKind, maxLength?: number): string
  /** Converts an entity value of a logical type to the value the driver stores. */
  encode(kind: ColumnKind, value: unknown): unknown
  /** Converts a value the driver returned to the entity value of a logical type. */
  decode(kind: ColumnKind, value: unknown): unknown
  /** Maps a native driver error to an AuraDataError (by code, never by message); others pass through. */
  mapError(error: unknown): unknown
  /** A transient failure that a whole transaction may simply be retried on (PostgreSQL 40001, 40P01). */
  isRetryable(error: unknown): boolean
  /** Whether a table of this name exists (in the current schema on PostgreSQL). */
  hasTable(name: string): Promise<boolean>
  /** Reads the live schema. */
  introspect(): Promise<SchemaSnapshot>
  /**
   * Takes the migration lock: waits while another live process holds it; takes over one left by a
   * crashed process. Throws MigrationError after `timeoutMs`.
   */
  acquireMigrationLock(holder: string, timeoutMs: number): Promise<MigrationLock>
  close(): Promise<void>
}

/** One migration's compiled statements, for a SQL script. */
export interface ScriptMigration {
  readonly name: string
  readonly checksum: string
  readonly direction: 'up' | 'down'
  /** Statements with every parameter inlined as a literal. */
  readonly statements: readonly string[]
}

/**
 * What a dialect needs to turn migrations into a SQL script without a database: its compiler
 * (through a Kysely built over a recording driver), literal quoting and the script's framing.
 */
export interface ScriptDialect {
  readonly name: DialectName
  /** A Kysely with this dialect's adapter and compiler over `driver` (which never touches a database). */
  createKysely(driver: Driver): Kysely<any>
  /** The statement with its placeholders replaced by literals of `parameters`. */
  inline(sql: string, parameters: readonly unknown[]): string
  /** The whole script: history table, each migration guarded or framed, history rows. */
  render(migrations: readonly ScriptMigration[]): string
}
