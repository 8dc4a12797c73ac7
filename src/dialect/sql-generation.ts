import type { RawBuilder } from 'kysely'
import type { ColumnKind, TableDef } from '../schema/define.js'
import type { WritableCte } from './writable-cte.js'

/**
 * The SQL a database speaks, as far as the core needs it: how entity values are stored and read
 * back, and the fragments of statements that are spelled differently per database. The core
 * builds every statement with Kysely and these; it never writes one database's SQL itself.
 */
export interface DialectSql {
  /** The physical column type of a logical type (see `ColumnKind`). */
  columnType(kind: ColumnKind, maxLength?: number): string
  /** Converts an entity value of a logical type to the value the driver stores. */
  encode(kind: ColumnKind, value: unknown): unknown
  /** Converts a value the driver returned to the entity value of a logical type. */
  decode(kind: ColumnKind, value: unknown): unknown
  /**
   * The conversion `decode` applies to driver values of `kind`, or null where the driver's value
   * already is the entity value (null and undefined both read as null). Row mappers call it per
   * column instead of `decode`, which decides by kind on every value.
   */
  decoderOf(kind: ColumnKind): ((value: unknown) => unknown) | null
  /**
   * The default soft-delete condition of reads, `<column> = <flag>` (the flag is a parameter);
   * a dialect may spell it so that its planner does not pick the flag's index for it.
   */
  notDeletedCondition(column: string, flag: unknown): RawBuilder<boolean>
  /**
   * The one driver value that carries a whole `in` list of encoded values (see {@link inList}).
   */
  encodeList(kind: ColumnKind, values: readonly unknown[]): unknown
  /**
   * `column` equals one element of `list` (from {@link encodeList}), a single parameter: a list
   * of any length has one SQL text, costs linear time, and never meets the databases' limits on
   * bound parameters (SQLite 32,766; PostgreSQL 65,535 in the wire protocol).
   */
  inList(column: string, kind: ColumnKind, list: unknown): RawBuilder<boolean>
  /**
   * A case-sensitive, literal (no wildcards) text match: `column` contains / starts with the
   * parameter. Both dialects' LIKE treat `%`/`_` as wildcards and differ in case sensitivity.
   */
  literalMatch(op: 'contains' | 'startsWith', column: string, value: unknown): RawBuilder<boolean>
  /**
   * The condition of full-text search on a table with `fullTextSearch` columns: every one of
   * `words` (letters and digits only, at least one) starts a word of those columns,
   * case-insensitively. Uses the search index a migration made for it (SQLite: the FTS5 table
   * `<table>_fts`; PostgreSQL: the GIN index over the columns' tsvector, as TemplateSearch makes it).
   */
  fullTextMatch(table: TableDef, words: readonly string[]): RawBuilder<boolean>
  /**
   * Whether the comma-separated list in `column` has `tag` as one whole element, ignoring the
   * case of A–Z (only those, so that both databases agree). `tag` comes trimmed, without commas,
   * with A–Z already lower-cased; the list is stored canonical (elements trimmed).
   */
  tagListMatch(column: string, tag: string): RawBuilder<boolean>
  /** The SQL of statements that write in their WITH clause, where the database has them (PostgreSQL). */
  readonly writableCte: WritableCte | null
}
