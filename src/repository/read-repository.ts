import { sql, type CompiledQuery, type Kysely } from 'kysely'
import type { EntityOf, TableDef } from '../schema/define.js'
import { projectOwnershipOf, type ProjectOwnership } from '../schema/project-ownership.js'
import { buildConditions, checkQuery, type CheckedQuery, type QueryOptions, type Where } from './filter.js'
import { rowMapper, type RowMapper } from './row-mapper.js'
import { rowsIn, type Row, type Session } from './session.js'
import { validateKey } from './validation.js'

/**
 * Per table, the first column of its index on live rows (QueryPlansAtScale migration:
 * `ix_project_states_live_status_updated_at_id`, partial on `is_deleted` false).
 */
const LIVE_INDEX_LEADING_COLUMNS: Readonly<Record<string, string>> = { project_states: 'status' }

/** Options of `getById`, `count` and `any`. */
export interface ReadOptions {
  readonly includeDeleted?: boolean
}

export type Key<T extends TableDef> = EntityOf<T>[T['primaryKey'] & keyof EntityOf<T>]

/**
 * The reads of the generic repository (`getById`, `find`, `count`, paging); the append-only
 * audit trail has only these.
 *
 * Reads apply the soft-delete filter unless `includeDeleted` is passed: a soft-deleted row, and
 * any row of a soft-deleted project, is invisible. Writes validate first (ValidationError, no SQL),
 * fill the audit fields from the unit's actor and clock, check `rowVersion`, and write an
 * `audit_entries` row in the same transaction.
 */
export class ReadRepository<T extends TableDef, E extends object = EntityOf<T>> {
  readonly #map: RowMapper
  protected readonly keyColumn: string
  /** How the table's rows belong to a project (see `projectOwnershipOf`), or null. */
  protected readonly projectOwner: ProjectOwnership | null

  constructor(
    readonly table: T,
    protected readonly session: Session,
  ) {
    // Every unit of work builds its repositories: what depends only on the table is made once.
    this.#map = rowMapper(session.dialect, table)
    this.keyColumn = table.columns[table.primaryKey]!.column
    this.projectOwner = projectOwnershipOf(table)
    this.columnNames = table.fields.map((field) => table.columns[field]!.column)
  }

  /**
   * The columns the entity maps, in order. Statements name them instead of `*`: on PostgreSQL a
   * prepared `select *` fails once another process added a column to the table (a migration
   * elsewhere: "cached plan must not change result type"); a named list keeps its result type.
   */
  protected readonly columnNames: readonly string[]

  /** {@link columnNames}, each qualified by `relation` (a table or a CTE name). */
  protected columnsOf(relation: string): string[] {
    return this.columnNames.map((column) => `${relation}.${column}`)
  }

  // ---- reads ---------------------------------------------------------------------------

  /** The row with this key, or null (also null when soft-deleted, unless `includeDeleted`). */
  async getById(id: Key<T>, options: ReadOptions = {}): Promise<E | null> {
    const key = validateKey(this.table, id)
    const rows = await this.session.rows((db) => this.selectQuery(db, this.byKey(key), options))
    return rows[0] ? this.fromRow(rows[0]) : null
  }

  /** Every visible row, in `orderBy` order (default: unspecified). */
  async getAll(options: QueryOptions<E> = {}): Promise<E[]> {
    return this.find({}, options)
  }

  /** The rows matching `where`. Field and operator names are checked before SQL is built. */
  async find(where: Where<E>, options: QueryOptions<E> = {}): Promise<E[]> {
    const rows = await this.session.rows((db) =>
      this.selectQuery(
        db,
        checkQuery(this.table, this.session.dialect, where as Record<string, unknown>, options),
        options,
      ),
    )
    const entities: E[] = new Array(rows.length)
    for (let i = 0; i < rows.length; i++) entities[i] = this.fromRow(rows[i]!)
    return entities
  }

  /** The first row matching `where` (in `orderBy` order), or null. */
  async firstOrDefault(where: Where<E>, options: QueryOptions<E> = {}): Promise<E | null> {
    const rows = await this.find(where, { ...options, limit: 1 })
    return rows[0] ?? null
  }

  /** How many visible rows match `where`. */
  async count(where: Where<E> = {}, options: ReadOptions = {}): Promise<number> {
    const rows = await this.session.rows((db) => {
      const checked = checkQuery(this.table, this.session.dialect, where as Record<string, unknown>, options)
      const values = [...checked.values, ...this.visibilityValues(options, checked)]
      return this.session.cache.compile(
        `${this.table.name}:count:${checked.shape}:${options.includeDeleted === true}`,
        values,
        (v) =>
          db
            .selectFrom(this.table.name)
            .select((eb) => eb.fn.countAll().as('n'))
            .where((eb) => eb.and(this.conditions(eb, checked, v, options))),
      )
    })
    return Number(rows[0]?.n ?? 0)
  }

  /** Whether any visible row matches `where`. */
  async any(where: Where<E> = {}, options: ReadOptions = {}): Promise<boolean> {
    const paged = { ...options, limit: 1 }
    const rows = await this.session.rows((db) =>
      this.selectQuery(
        db,
        checkQuery(this.table, this.session.dialect, where as Record<string, unknown>, paged),
        paged,
      ),
    )
    return rows.length > 0
  }

  // ---- building blocks for specialised repositories ----

  /** Maps a driver row to the entity. */
  fromRow(row: Row): E {
    return this.#map(row) as E
  }

  /** The driver value of an entity value of `field`. */
  protected encode(field: string, value: unknown): unknown {
    return this.session.dialect.encode(this.table.columns[field]!.kind, value)
  }

  /** Selects visible rows (by the soft-delete rules) matching a where. */
  protected async selectRows(
    db: Kysely<any>,
    where: Record<string, unknown>,
    options: QueryOptions<any>,
    lockForUpdate = false,
  ): Promise<Row[]> {
    return this.selectChecked(
      db,
      checkQuery(this.table, this.session.dialect, where, options),
      options,
      lockForUpdate,
    )
  }

  /**
   * The checked query of "the row with this key" (limit 1), built directly: the key was
   * validated already, so the filter language has nothing left to check. It has the shape
   * `checkQuery` gives `{ [primaryKey]: key }` with `limit: 1`, and so shares its cached SQL.
   */
  protected byKey(key: unknown): CheckedQuery {
    const value = this.encode(this.table.primaryKey, key)
    return {
      shape: `${this.table.primaryKey}:eq||true|false`,
      conditions: [{ column: this.keyColumn, op: 'eq', values: [value] }],
      order: [],
      limit: 1,
      offset: null,
      values: [value, 1],
    }
  }

  /** Selects visible rows (by the soft-delete rules) matching a checked query. */
  protected async selectChecked(
    db: Kysely<any>,
    checked: CheckedQuery,
    options: ReadOptions,
    lockForUpdate = false,
  ): Promise<Row[]> {
    return rowsIn(this.session.dialect, db, this.selectQuery(db, checked, options, lockForUpdate))
  }

  /** The compiled select of the visible rows (by the soft-delete rules) matching a checked query. */
  protected selectQuery(
    db: Kysely<any>,
    checked: CheckedQuery,
    options: ReadOptions,
    lockForUpdate = false,
  ): CompiledQuery {
    const values = [...checked.values, ...this.visibilityValues(options, checked)]
    // Where writers run concurrently (PostgreSQL), a read-modify-write locks the rows it read, so
    // it waits for a concurrent writer and then sees its committed version instead of a stale one.
    const lock = lockForUpdate && !this.session.dialect.capabilities.singleWriter
    return this.session.cache.compile(
      `${this.table.name}:select:${checked.shape}:${options.includeDeleted === true}:${lock}:${checked.limit}`,
      values,
      (v) => {
        let q = db
          .selectFrom(this.table.name)
          .select(this.columnsOf(this.table.name))
          .where((eb) => eb.and(this.conditions(eb, checked, v, options)))
        for (const o of checked.order) q = q.orderBy(`${this.table.name}.${o.column}`, o.direction)
        const paging =
          checked.values.length - (checked.limit !== null ? 1 : 0) - (checked.offset !== null ? 1 : 0)
        // The limit is a literal (checkQuery made it a non-negative integer): SQLite re-prepares
        // a statement whose LIMIT is a bound parameter on every run (the planner reads the
        // value), which doubles the cost of a point query. Offsets stay parameters.
        if (checked.limit !== null) q = q.limit(sql.lit(checked.limit))
        if (checked.offset !== null) {
          // SQLite accepts OFFSET only after a LIMIT.
          if (checked.limit === null) q = q.limit(sql.lit(Number.MAX_SAFE_INTEGER))
          q = q.offset(v(paging + (checked.limit !== null ? 1 : 0)) as number)
        }
        return lock ? q.forUpdate() : q
      },
    )
  }

  /** The values the soft-delete conditions take, after the filter's own values. */
  protected visibilityValues(options: ReadOptions, checked: CheckedQuery): unknown[] {
    if (options.includeDeleted) return []
    const values: unknown[] = []
    const no = this.session.dialect.encode('bool', false)
    if (this.table.features.softDelete && !this.#liveIndexServes(checked)) values.push(no)
    if (this.projectOwner) values.push(no)
    return values
  }

  /**
   * Whether an index of the table's live rows (partial on `is_deleted` false) can serve the
   * query: its first column has an equality condition. The soft-delete term is then spelled as
   * that index's predicate, `is_deleted = <false literal>`: SQLite and PostgreSQL use a partial
   * index only when the query's WHERE implies its predicate, which neither proves from a bound
   * parameter (nor from SQLite's `+is_deleted`, the spelling of every other query).
   */
  #liveIndexServes(checked: CheckedQuery): boolean {
    const leading = LIVE_INDEX_LEADING_COLUMNS[this.table.name]
    return leading !== undefined && checked.conditions.some((c) => c.op === 'eq' && c.column === leading)
  }

  protected conditions(eb: any, checked: CheckedQuery, v: (i: number) => unknown, options: ReadOptions) {
    const { expressions } = buildConditions(eb, this.session.dialect, checked, v, this.table.name)
    if (options.includeDeleted) return expressions
    let next = checked.values.length
    if (this.table.features.softDelete) {
      const column = `${this.table.name}.is_deleted`
      expressions.push(
        this.#liveIndexServes(checked)
          ? eb(column, '=', sql.lit(this.session.dialect.encode('bool', false)))
          : this.session.dialect.notDeletedCondition(column, v(next++)),
      )
    }
    if (this.projectOwner) {
      const flag = v(next++)
      expressions.push(
        eb.exists(
          eb
            .selectFrom('project_states as parent')
            .select(eb.lit(1).as('one'))
            .whereRef('parent.id', '=', `${this.table.name}.${this.projectOwner.column}`)
            .where('parent.is_deleted', '=', flag),
        ),
      )
    }
    return expressions
  }
}
