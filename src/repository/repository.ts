import { randomUUID } from 'node:crypto'
import { sql, type Compilable, type CompiledQuery, type Kysely } from 'kysely'
import type { AuraDialect } from '../dialect/index.js'
import type { WritableCte } from '../dialect/writable-cte.js'
import { ConcurrencyError, NotFoundError, ValidationError } from '../errors.js'
import type { ColumnKind, EntityOf, InsertOf, TableDef, UpdateOf } from '../schema/define.js'
import { projectOwnershipOf, type ProjectOwnership } from '../schema/project-ownership.js'
import { writeAudit, type AuditChanges } from './audit-writer.js'
import type { RowAction } from './change-feed.js'
import { nameForeignKeyFailure } from './foreign-key-error.js'
import { buildConditions, checkQuery, type CheckedQuery, type QueryOptions, type Where } from './filter.js'
import { rowsIn, txRows, type Row, type Session, type TxContext } from './session.js'
import { validateInsert, validateKey, validateRowVersion, validateUpdate } from './validation.js'

/**
 * Per table, the first column of its index on live rows (QueryPlansAtScale migration:
 * `ix_project_states_live_status_updated_at_id`, partial on `is_deleted` false).
 */
const LIVE_INDEX_LEADING_COLUMNS: Readonly<Record<string, string>> = { project_states: 'status' }

/** Maps a driver row to an entity of one table. */
type RowMapper = (row: Row) => Record<string, unknown>

const mappers = new WeakMap<AuraDialect, WeakMap<TableDef, RowMapper>>()

/**
 * The row mapper of a table on a dialect, generated once: one object literal with every field
 * in `table.fields` order, each read from its column and passed through the dialect's decoder
 * where its kind has one. A literal gets its final shape at once; storing the fields one by one
 * under computed names made the mapping cost more than the point read it followed (MikroORM
 * generates its hydrators the same way). The names come from the table definitions in
 * src/schema, quoted by JSON.stringify, never from input.
 */
function rowMapper(dialect: AuraDialect, table: TableDef): RowMapper {
  let byTable = mappers.get(dialect)
  if (!byTable) mappers.set(dialect, (byTable = new WeakMap()))
  let mapper = byTable.get(table)
  if (!mapper) {
    const decoders: ((value: unknown) => unknown)[] = []
    const fields = table.fields.map((prop) => {
      const spec = table.columns[prop]!
      const value = `row[${JSON.stringify(spec.column)}]`
      const decoder = dialect.decoderOf(spec.kind)
      if (!decoder) return `${JSON.stringify(prop)}: ${value} ?? null`
      decoders.push(decoder)
      return `${JSON.stringify(prop)}: decoders[${decoders.length - 1}](${value})`
    })
    const generate = new Function('decoders', `return (row) => ({ ${fields.join(', ')} })`) as (
      d: typeof decoders,
    ) => RowMapper
    mapper = generate(decoders)
    byTable.set(table, mapper)
  }
  return mapper
}

const INCLUDE_DELETED = { includeDeleted: true } as const
const NO_OPTIONS = {} as const

/** Where the value of an inserted column comes from. */
const enum Source {
  Value,
  Key,
  Now,
  Actor,
  One,
  False,
}

/** The columns of an insert of one set of given fields, worked out once per table and set. */
interface InsertPlan {
  /** The given fields in their order, then the key (when generated) and the managed fields. */
  readonly fields: readonly string[]
  readonly sources: readonly Source[]
  readonly kinds: readonly ColumnKind[]
  readonly generateKey: boolean
  readonly lowerKey: boolean
  /** Whether a column takes the unit's clock reading. */
  readonly stamped: boolean
  /** The key of the insert's shape in the query cache. */
  readonly cacheKey: string
}

const insertPlans = new WeakMap<TableDef, Map<string, InsertPlan>>()

/**
 * The insert plan of `table` for the given fields. Building a record per insert (a copy of the
 * values plus the managed fields added one by one) cost more than the statement's parameters:
 * the column list and each value's source depend only on the table and the given field names.
 * The column order is that of the record it replaces (given fields, then key, then managed
 * fields, a given managed name keeping its place), so the SQL text is unchanged.
 */
function insertPlan(table: TableDef, given: readonly string[]): InsertPlan {
  let byFields = insertPlans.get(table)
  if (!byFields) insertPlans.set(table, (byFields = new Map()))
  const shape = given.join(',')
  let plan = byFields.get(shape)
  if (!plan) {
    const pk = table.primaryKey
    const generateKey = table.keyGeneration === 'uuid'
    const managed = new Map<string, Source>()
    if (generateKey) managed.set(pk, Source.Key)
    const f = table.features
    if (f.audit) {
      managed.set('createdAt', Source.Now)
      managed.set('updatedAt', Source.Now)
      if (f.audit === true) {
        managed.set('createdBy', Source.Actor)
        managed.set('modifiedBy', Source.Actor)
      }
    }
    if (f.rowVersion) managed.set('rowVersion', Source.One)
    if (f.softDelete) managed.set('isDeleted', Source.False)
    const fields = [...given, ...[...managed.keys()].filter((field) => !given.includes(field))]
    const sources = fields.map((field) => (field === pk ? Source.Key : (managed.get(field) ?? Source.Value)))
    plan = {
      fields,
      sources,
      kinds: fields.map((field) => table.columns[field]!.kind),
      generateKey,
      lowerKey: table.columns[pk]!.kind === 'uuid',
      stamped: sources.includes(Source.Now),
      cacheKey: `${table.name}:insert:${fields.join(',')}`,
    }
    if (byFields.size < 100) byFields.set(shape, plan)
  }
  return plan
}

/**
 * Parameters per multi-row insert: PostgreSQL takes at most 65,535 per statement; well below,
 * a statement stays small enough to plan and send quickly.
 */
const MAX_PARAMETERS = 2000

/** Whether two rows of validated values give the same fields in the same order (one insert plan). */
function sameFields(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  return ka.length === kb.length && ka.every((k, i) => k === kb[i])
}

/** Options of `getById`, `count` and `any`. */
export interface ReadOptions {
  readonly includeDeleted?: boolean
}

type Key<T extends TableDef> = EntityOf<T>[T['primaryKey'] & keyof EntityOf<T>]

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

/**
 * The generic repository every mutable table has: the reads plus validated, audited,
 * version-checked writes.
 */
/*
 * `N` and `U` (and `E`) default to the types derived from `T`; the built-in repositories pass
 * their named types (`NewProjectState`, …), so that signatures, in editors and in the API
 * reference, name them instead of spelling out the table definition.
 */
export class Repository<
  T extends TableDef,
  E extends object = EntityOf<T>,
  N extends object = InsertOf<T>,
  U extends object = UpdateOf<T>,
> extends ReadRepository<T, E> {
  // ---- writes --------------------------------------------------------------------------

  /** Validates and inserts a row; returns it as stored (id, defaults, audit fields, `rowVersion` 1). */
  async add(entity: N): Promise<E> {
    const values = validateInsert(this.table, entity)
    return this.write((tx) => this.insertIn(tx, values))
  }

  /**
   * Inserts several rows in one transaction, all or none; returns them as stored, in the order
   * given. Every row is validated before any SQL runs. On PostgreSQL the rows and their audit
   * entries go in one multi-row statement (per run of rows giving the same fields, and per 2,000
   * or so parameters): one round trip instead of one per row. On SQLite each row is its own
   * statement, which is a function call there.
   *
   * @example
   * await db.transaction(async (uow) => {
   *   const project = await uow.projectStates.add({ title: 'Launch video' })
   *   await uow.sceneStates.addRange(
   *     ['Hook', 'Problem', 'Solution'].map((scriptText, sceneIndex) => ({ projectId: project.id, sceneIndex, scriptText })),
   *   )
   * })
   */
  async addRange(entities: readonly N[]): Promise<E[]> {
    if (!Array.isArray(entities))
      throw new ValidationError(`${this.table.name}: addRange expects an array of rows`)
    const values = entities.map((e) => validateInsert(this.table, e))
    return this.write((tx) => this.insertManyIn(tx, values))
  }

  /**
   * Writes the given fields if the row still has `entity.rowVersion`; increments the version.
   * A changed row is a ConcurrencyError (nothing written), a missing one a NotFoundError.
   */
  async update(entity: U): Promise<E> {
    const { key, rowVersion, changes } = validateUpdate(this.table, entity)
    return this.write((tx) => this.updateIn(tx, key, rowVersion, changes))
  }

  /**
   * Deletes a row: a soft delete on soft-delete tables, a real one elsewhere. Given an entity
   * with `rowVersion`, a row changed since it was read is a ConcurrencyError.
   */
  async delete(entityOrId: Key<T> | (Partial<E> & { rowVersion?: number })): Promise<void> {
    const { key, rowVersion } = this.deleteTarget(entityOrId)
    return this.write((tx) => this.deleteIn(tx, key, rowVersion), 'delete')
  }

  /** Deletes several rows in one transaction: all or none. */
  async deleteRange(list: readonly (Key<T> | (Partial<E> & { rowVersion?: number }))[]): Promise<void> {
    const targets = list.map((item) => this.deleteTarget(item))
    return this.write(async (tx) => {
      for (const t of targets) await this.deleteIn(tx, t.key, t.rowVersion)
    }, 'delete')
  }

  /**
   * Runs `fn` as one write of the session (a transaction of its own, or a step of the unit), a
   * foreign-key failure reworded to name this table.
   */
  protected async write<R>(
    fn: (tx: TxContext) => Promise<R>,
    operation: 'write' | 'delete' = 'write',
  ): Promise<R> {
    try {
      return await this.session.write(fn)
    } catch (error) {
      throw nameForeignKeyFailure(this.table, operation, error)
    }
  }

  // ---- building blocks for specialised repositories (run inside a transaction) ----

  /**
   * Inserts validated values with the managed fields filled; writes the audit entry (on
   * PostgreSQL in the same statement). A subclass that overrides it to add behaviour overrides
   * {@link insertManyIn} too: `addRange` inserts through that one.
   * @internal
   */
  async insertIn(tx: TxContext, values: Record<string, unknown>): Promise<E> {
    return this.#insertOne(tx, values)
  }

  /** `insertIn` as this class does it, whatever a subclass adds to it. */
  async #insertOne(tx: TxContext, values: Record<string, unknown>): Promise<E> {
    const plan = insertPlan(this.table, Object.keys(values))
    const dialect = this.session.dialect
    const params = this.#insertParams(
      tx,
      plan,
      values,
      plan.stamped ? dialect.encode('timestamp', tx.now) : null,
    )
    const project = this.projectOwner ? values[this.projectOwner.field] : undefined
    const query =
      project === undefined
        ? this.#compileInsert(tx, plan.cacheKey, params, (v) =>
            tx.db
              .insertInto(this.table.name)
              .values(
                Object.fromEntries(plan.fields.map((field, i) => [this.table.columns[field]!.column, v(i)])),
              )
              .returning(this.columnNames),
          )
        : this.insertUnderLiveProject(tx, plan, [
            ...params,
            dialect.encode('uuid', project),
            dialect.encode('bool', true),
          ])
    const row = (await txRows(tx, query))[0]
    if (!row) throw new NotFoundError('project_states', project)
    const entity = this.fromRow(row)
    await this.recordWrite(tx, 'insert', this.keyOf(entity), null, entity, {
      auditWritten: this.#auditsInStatement(),
    })
    return entity
  }

  /**
   * Inserts several rows of validated values, in one transaction, returning them in the order
   * given: on dialects with data-modifying CTEs (PostgreSQL) one multi-row statement, audit
   * entries included, per run of rows that give the same fields; elsewhere one insert per row.
   * It does not call `insertIn`: a subclass that adds to one adds to both.
   * @internal
   */
  async insertManyIn(tx: TxContext, rows: readonly Record<string, unknown>[]): Promise<E[]> {
    const out: E[] = []
    if (!this.#auditsInStatement() || rows.length < 2) {
      for (const values of rows) out.push(await this.#insertOne(tx, values))
      return out
    }
    const now = this.session.dialect.encode('timestamp', tx.now)
    for (let at = 0; at < rows.length;) {
      const plan = insertPlan(this.table, Object.keys(rows[at]!))
      const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / plan.fields.length))
      let end = at + 1
      while (end < rows.length && end - at < perStatement && sameFields(rows[end]!, rows[at]!)) end++
      out.push(...(await this.#insertRun(tx, plan, rows.slice(at, end), now)))
      at = end
    }
    return out
  }

  /** One multi-row insert of rows with the same fields, with their audit entries; see `insertManyIn`. */
  async #insertRun(
    tx: TxContext,
    plan: InsertPlan,
    rows: readonly Record<string, unknown>[],
    now: unknown,
  ): Promise<E[]> {
    const dialect = this.session.dialect
    const width = plan.fields.length
    const params: unknown[] = []
    const keys: unknown[] = []
    for (const values of rows) {
      const row = this.#insertParams(tx, plan, values, now)
      keys.push(row[plan.fields.indexOf(this.table.primaryKey)])
      params.push(...row)
    }
    const owner = this.projectOwner
    if (owner) params.push(dialect.encode('bool', true))
    const columns = plan.fields.map((field) => this.table.columns[field]!.column)
    const query = this.#compileInsert(tx, `${plan.cacheKey}:rows:${rows.length}`, params, (v) => {
      const insert = tx.db.insertInto(this.table.name)
      if (!owner) {
        return insert
          .values(
            rows.map((_, r) => Object.fromEntries(columns.map((column, i) => [column, v(r * width + i)]))),
          )
          .returning(this.columnNames)
      }
      // As insertUnderLiveProject, for each row: a row whose project is soft-deleted is not
      // inserted. The values of a VALUES list in a subquery take no type from the target
      // columns, so each is cast to its column's type (never to varchar(n), which would truncate).
      const tuples = rows.map(
        (_, r) =>
          sql`(${sql.join(plan.kinds.map((kind, i) => sql`cast(${v(r * width + i)} as ${sql.raw(dialect.columnType(kind))})`))})`,
      )
      return insert
        .columns(columns)
        .expression(
          sql`select * from (values ${sql.join(tuples)}) as "v"(${sql.join(columns.map((c) => sql.id(c)))}) where not exists (select 1 from project_states where id = ${sql.ref(`v.${owner.column}`)} and is_deleted = ${v(rows.length * width)})`,
        )
        .returning(this.columnNames)
    })
    const byKey = new Map<unknown, Row>()
    for (const row of await txRows(tx, query)) byKey.set(row[this.keyColumn], row)
    const entities = rows.map((values, r) => {
      const row = byKey.get(keys[r])
      if (!row) throw new NotFoundError('project_states', owner ? values[owner.field] : undefined)
      return this.fromRow(row)
    })
    // The statement wrote the audit entries; the feed records the rows in the order given.
    for (const entity of entities) {
      await this.recordWrite(tx, 'insert', this.keyOf(entity), null, entity, { auditWritten: true })
    }
    return entities
  }

  /** The parameters of the insert of one row by `plan`: given values, key, stamps (`now`, encoded), actor, … */
  #insertParams(tx: TxContext, plan: InsertPlan, values: Record<string, unknown>, now: unknown): unknown[] {
    let key = values[this.table.primaryKey]
    if (plan.generateKey && key === undefined) key = randomUUID()
    else if (plan.lowerKey) key = (key as string).toLowerCase()
    const dialect = this.session.dialect
    const { sources, kinds } = plan
    const params: unknown[] = new Array(sources.length)
    for (let i = 0; i < sources.length; i++) {
      const source = sources[i]!
      params[i] =
        source === Source.Now
          ? now
          : dialect.encode(
              kinds[i]!,
              source === Source.Value
                ? values[plan.fields[i]!]
                : source === Source.Key
                  ? key
                  : source === Source.Actor
                    ? tx.actor
                    : source === Source.One
                      ? 1
                      : false,
            )
    }
    return params
  }

  /** Whether this table's inserts write their audit entries in the insert statement itself. */
  #auditsInStatement(): boolean {
    return this.session.dialect.writableCte !== null && this.table.name !== 'audit_entries'
  }

  /**
   * The compiled insert `build` makes, through the query cache; where the dialect can, with the
   * audit entries of its rows in the same statement (`writableCte.withInsertAudit`), that form
   * cached too.
   */
  #compileInsert(
    tx: TxContext,
    key: string,
    params: unknown[],
    build: (v: (i: number) => any) => Compilable,
  ): CompiledQuery {
    const cte = this.#auditsInStatement() ? this.session.dialect.writableCte : null
    if (!cte) return this.session.cache.compile(key, params, build)
    const n = params.length
    params.push(this.session.dialect.encode('timestamp', tx.now), tx.actor, this.table.name, tx.correlationId)
    return this.session.cache.compile(`${key}:audited`, params, (v) => {
      const insert = build(v).compile()
      return {
        compile: () => cte.withInsertAudit(insert, this.keyColumn, [v(n), v(n + 1), v(n + 2), v(n + 3)]),
      }
    })
  }

  /**
   * The insert of a row that belongs to a project, refused in the same statement when the project
   * is soft-deleted: `INSERT … SELECT <values> WHERE NOT EXISTS (<the project, deleted>)`. No row
   * back means the project is soft-deleted (its children are invisible, so adding one would
   * succeed and vanish); a missing project still fails on the foreign key (ConstraintError). One
   * statement, as before, so the hot path costs no extra round trip or point read. The last two
   * of `params` are the project id and the deleted flag.
   */
  private insertUnderLiveProject(tx: TxContext, plan: InsertPlan, params: unknown[]): CompiledQuery {
    const n = plan.fields.length
    return this.#compileInsert(tx, `${plan.cacheKey}:live-project`, params, (v) =>
      tx.db
        .insertInto(this.table.name)
        .columns(plan.fields.map((field) => this.table.columns[field]!.column))
        .expression(
          sql`select ${sql.join(plan.fields.map((_, i) => v(i)))} where not exists (select 1 from project_states where id = ${v(n)} and is_deleted = ${v(n + 1)})`,
        )
        .returning(this.columnNames),
    )
  }

  /** Reads and locks the row with `key` inside the transaction (deleted ones included). */
  protected async currentRow(tx: TxContext, key: unknown): Promise<Row | undefined> {
    // The dialect's Kysely only compiles the query: it runs in the transaction.
    const query = this.selectQuery(this.session.dialect.kysely, this.byKey(key), INCLUDE_DELETED, true)
    return (await txRows(tx, query))[0]
  }

  /** Throws NotFound (absent or soft-deleted) or Concurrency (stale version) for a row read in `tx`. */
  protected assertWritable(
    row: Row | undefined,
    key: unknown,
    rowVersion: number | null,
  ): asserts row is Row {
    if (!row || (this.table.features.softDelete && this.session.dialect.decode('bool', row.is_deleted))) {
      throw new NotFoundError(this.table.name, key)
    }
    if (rowVersion !== null && Number(row.row_version) !== rowVersion) {
      throw new ConcurrencyError(this.table.name, key, rowVersion, Number(row.row_version))
    }
  }

  /**
   * Applies `changes` (validated entity values) to the row if it still has `rowVersion`.
   * @internal
   */
  async updateIn(
    tx: TxContext,
    key: unknown,
    rowVersion: number | null,
    changes: Record<string, unknown>,
  ): Promise<E> {
    const cte = this.session.dialect.writableCte
    if (cte && Object.keys(changes).length > 0) {
      const written = await this.#readAndWrite(cte, tx, key, rowVersion, changes)
      if (written) return written
    }
    const row = await this.currentRow(tx, key)
    this.assertWritable(row, key, rowVersion)
    const before = this.fromRow(row) as Record<string, unknown>
    const changed = changedFields(before, changes)
    const set: Record<string, unknown> = {}
    for (const [field, [, value]] of Object.entries(changed)) set[field] = value
    if (Object.keys(set).length === 0) return before as E
    const f = this.table.features
    if (f.audit) set.updatedAt = tx.now
    if (f.audit === true) set.modifiedBy = tx.actor
    const updated = await this.writeRow(tx, key, rowVersion, set)
    await this.recordWrite(tx, 'update', key, this.redact(before, changed), updated)
    return updated
  }

  /**
   * `updateIn` in one statement, for dialects with data-modifying CTEs (PostgreSQL): the row is
   * read and locked (`FOR UPDATE`) by a CTE of the UPDATE that writes it, which applies only if
   * the row is still live, still has `rowVersion` and a given field differs from its value
   * (compared as `sameValue` compares them: timestamps to the millisecond, UUIDs as text). The
   * statement returns the row it read (`aura_row` 'old') and the row it wrote ('new'). From the
   * row read come the errors (NotFound, Concurrency), the changed fields and the audit entry,
   * exactly as in the two-statement form; the entry is deferred (sent with the unit's next
   * statement or its COMMIT). Returns undefined, for the two-statement form to decide, should the
   * database have found no difference where `sameValue` finds one.
   */
  async #readAndWrite(
    cte: WritableCte,
    tx: TxContext,
    key: unknown,
    rowVersion: number | null,
    changes: Record<string, unknown>,
  ): Promise<E | undefined> {
    const table = this.table.name
    const fields = Object.keys(changes)
    const f = this.table.features
    const managed = [...(f.audit ? ['updatedAt'] : []), ...(f.audit === true ? ['modifiedBy'] : [])]
    const versioned = f.rowVersion && rowVersion !== null
    const params = [
      ...fields.map((field) => this.encode(field, changes[field])),
      ...managed.map((field) => this.encode(field, field === 'updatedAt' ? tx.now : tx.actor)),
      this.encode(this.table.primaryKey, key),
      ...(versioned ? [rowVersion] : []),
      ...(f.softDelete ? [this.session.dialect.encode('bool', false)] : []),
    ]
    const query = this.session.cache.compile(
      `${table}:read-and-update:${fields.join(',')}:${f.rowVersion}:${versioned}`,
      params,
      (v) => {
        const at = fields.length + managed.length
        const current = (field: string) => sql.ref(`old.${this.table.columns[field]!.column}`)
        /** Whether the given value of field i differs from the row's, as `sameValue` compares them. */
        const differs = (i: number) =>
          cte.differs(this.table.columns[fields[i]!]!.kind, current(fields[i]!), v(i))
        const set: Record<string, unknown> = {}
        fields.forEach((field, i) => {
          const column = this.table.columns[field]!.column
          // A timestamp equal to the millisecond is left as stored: PostgreSQL keeps microseconds,
          // which the Date value would drop.
          set[column] =
            this.table.columns[field]!.kind === 'timestamp'
              ? sql`case when ${differs(i)} then ${v(i)} else ${current(field)} end`
              : v(i)
        })
        managed.forEach((field, i) => (set[this.table.columns[field]!.column] = v(fields.length + i)))
        if (f.rowVersion) set.row_version = sql`${sql.ref(`${table}.row_version`)} + 1`
        const kysely = this.session.dialect.kysely
        return kysely
          .with('old', (db) =>
            db.selectFrom(table).select(this.columnsOf(table)).where(this.keyColumn, '=', v(at)).forUpdate(),
          )
          .with('upd', (db) => {
            let q = db
              .updateTable(table)
              .set(set)
              .from('old')
              .whereRef(`${table}.${this.keyColumn}`, '=', `old.${this.keyColumn}`)
            if (versioned) q = q.where(`${table}.row_version`, '=', v(at + 1))
            if (f.softDelete) q = q.where(`${table}.is_deleted`, '=', v(at + (versioned ? 2 : 1)))
            return q
              .where(
                sql<boolean>`(${sql.join(
                  fields.map((_, i) => differs(i)),
                  sql` or `,
                )})`,
              )
              .returning(this.columnsOf(table))
          })
          .selectFrom('old')
          .select(sql.lit('old').as('aura_row'))
          .select(this.columnsOf('old'))
          .unionAll(
            kysely.selectFrom('upd').select(sql.lit('new').as('aura_row')).select(this.columnsOf('upd')),
          )
      },
    )
    let read: Row | undefined
    let written: Row | undefined
    for (const row of await txRows(tx, query)) {
      if (row.aura_row === 'new') written = row
      else read = row
    }
    this.assertWritable(read, key, rowVersion)
    const before = this.fromRow(read) as Record<string, unknown>
    const changed = changedFields(before, changes)
    if (Object.keys(changed).length === 0) return before as E
    if (!written) return undefined
    const updated = this.fromRow(written)
    await this.recordWrite(tx, 'update', key, this.redact(before, changed), updated)
    return updated
  }

  /**
   * `UPDATE … SET … [, row_version = row_version + 1] WHERE key = ? [AND row_version = ?] RETURNING *`.
   * No row back means the row changed (or vanished) since it was read in this transaction.
   */
  protected async writeRow(
    tx: TxContext,
    key: unknown,
    rowVersion: number | null,
    set: Record<string, unknown>,
  ): Promise<E> {
    const fields = Object.keys(set)
    const versioned = this.table.features.rowVersion
    const params = [
      ...fields.map((field) => this.encode(field, set[field])),
      key,
      ...(versioned && rowVersion !== null ? [rowVersion] : []),
    ]
    const query = this.session.cache.compile(
      `${this.table.name}:update:${fields.join(',')}:${versioned}:${rowVersion !== null}`,
      params,
      (v) => {
        const values: Record<string, unknown> = Object.fromEntries(
          fields.map((field, i) => [this.table.columns[field]!.column, v(i)]),
        )
        if (versioned) values.row_version = sql`row_version + 1`
        let q = tx.db.updateTable(this.table.name).set(values).where(this.keyColumn, '=', v(fields.length))
        if (versioned && rowVersion !== null) q = q.where('row_version', '=', v(fields.length + 1))
        return q.returning(this.columnNames)
      },
    )
    const row = (await txRows(tx, query))[0]
    if (!row) {
      const now = await this.currentRow(tx, key)
      this.assertWritable(now, key, rowVersion)
      throw new ConcurrencyError(this.table.name, key, rowVersion, Number(now.row_version))
    }
    return this.fromRow(row)
  }

  /**
   * Soft-deletes (soft-delete tables) or deletes the row, checking `rowVersion` when given.
   * @internal
   */
  async deleteIn(tx: TxContext, key: unknown, rowVersion: number | null): Promise<void> {
    const row = await this.currentRow(tx, key)
    this.assertWritable(row, key, rowVersion)
    if (this.table.features.softDelete) {
      const deleted = await this.writeRow(tx, key, Number(row.row_version), {
        isDeleted: true,
        deletedAt: tx.now,
        deletedBy: tx.actor,
        updatedAt: tx.now,
        modifiedBy: tx.actor,
      })
      await this.afterSoftDelete(tx, row)
      await this.recordWrite(tx, 'soft_delete', key, null, deleted)
      return
    }
    await this.beforePurge(tx, row)
    await this.hardDelete(tx, key)
    await this.recordWrite(tx, 'purge', key, null, null)
  }

  protected async hardDelete(tx: TxContext, key: unknown): Promise<void> {
    const query = this.session.cache.compile(`${this.table.name}:delete`, [key], (v) =>
      tx.db.deleteFrom(this.table.name).where(this.keyColumn, '=', v(0)),
    )
    await txRows(tx, query)
  }

  /** Hook: runs after a row was soft-deleted, in the same transaction. */
  protected async afterSoftDelete(_tx: TxContext, _row: Row): Promise<void> {}
  /** Hook: runs after a soft-deleted row was restored, in the same transaction. */
  protected async afterRestore(_tx: TxContext, _row: Row): Promise<void> {}
  /** Hook: runs before a row is deleted permanently, in the same transaction. */
  protected async beforePurge(_tx: TxContext, _row: Row): Promise<void> {}

  /**
   * The last step of every write of a row, whichever method made it: the row's audit entry (not
   * for the audit table itself, nor when the insert statement wrote it: `auditWritten`) and,
   * while the change feed has subscribers, its change (`changes` as the audit trail has them,
   * `row` as the write left it, or null when it is gone or was not read back; `rowVersion` when
   * the row was not read back but its version is known).
   */
  protected async recordWrite(
    tx: TxContext,
    action: RowAction,
    key: unknown,
    changes: AuditChanges | null,
    row: E | null,
    options: { readonly auditWritten?: boolean; readonly rowVersion?: number } = NO_OPTIONS,
  ): Promise<void> {
    if (this.table.name === 'audit_entries') return
    if (tx.changes) {
      const after = row === null ? null : this.feedRow(row)
      const version = after?.rowVersion ?? options.rowVersion
      tx.changes.push({
        table: this.table.name,
        key: String(key),
        action,
        changes: changes ?? {},
        row: after,
        rowVersion: typeof version === 'number' ? version : null,
      })
    }
    if (options.auditWritten !== true) {
      await writeAudit(this.session, tx, this.table.name, String(key), action, changes)
    }
  }

  /** A row as the change feed shows it: a subclass replaces what must not leave the repository. */
  protected feedRow(row: E): Record<string, unknown> {
    return row as Record<string, unknown>
  }

  /** Changes as they may appear in the audit trail (sensitive values replaced). */
  protected redact(_before: Record<string, unknown>, changes: AuditChanges): AuditChanges {
    return changes
  }

  protected keyOf(entity: object): unknown {
    return (entity as Record<string, unknown>)[this.table.primaryKey]
  }

  private deleteTarget(entityOrId: unknown): { key: unknown; rowVersion: number | null } {
    if (typeof entityOrId === 'object' && entityOrId !== null) {
      const record = entityOrId as Record<string, unknown>
      const key = validateKey(this.table, record[this.table.primaryKey])
      const rowVersion =
        this.table.features.rowVersion && record.rowVersion !== undefined
          ? validateRowVersion(this.table, record.rowVersion)
          : null
      return { key, rowVersion }
    }
    if (entityOrId === undefined)
      throw new ValidationError(`${this.table.name}: delete needs an id or an entity`)
    return { key: validateKey(this.table, entityOrId), rowVersion: null }
  }
}

/** Equality of entity values for change detection (dates by instant). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime()
  return a === b
}

/** The given values that differ from the row's, each as [before, after] (an update's audit changes). */
function changedFields(before: Record<string, unknown>, changes: Record<string, unknown>): AuditChanges {
  const changed: AuditChanges = {}
  for (const [field, value] of Object.entries(changes)) {
    if (!sameValue(before[field], value)) changed[field] = [before[field], value]
  }
  return changed
}

/**
 * The extra methods of soft-delete tables: `restore` undoes a soft delete, `purge` deletes
 * permanently (the GDPR erasure path) together with the row's audit history.
 */
export class SoftDeleteRepository<
  T extends TableDef,
  E extends object = EntityOf<T>,
  N extends object = InsertOf<T>,
  U extends object = UpdateOf<T>,
> extends Repository<T, E, N, U> {
  /** Undoes a soft delete; a row that is not deleted is returned unchanged. */
  async restore(id: Key<T>): Promise<E> {
    const key = validateKey(this.table, id)
    return this.write((tx) => this.restoreIn(tx, key))
  }

  /** @internal */
  async restoreIn(tx: TxContext, key: unknown): Promise<E> {
    const row = await this.currentRow(tx, key)
    if (!row) throw new NotFoundError(this.table.name, key)
    if (!this.session.dialect.decode('bool', row.is_deleted)) return this.fromRow(row)
    const restored = await this.writeRow(tx, key, Number(row.row_version), {
      isDeleted: false,
      deletedAt: null,
      deletedBy: null,
      updatedAt: tx.now,
      modifiedBy: tx.actor,
    })
    await this.afterRestore(tx, row)
    await this.recordWrite(tx, 'restore', key, null, restored)
    return restored
  }

  /**
   * Deletes the row permanently, deleted or not, with everything that cascades from it, and
   * erases its audit history; one `purge` audit entry (without values) records that it happened.
   */
  async purge(id: Key<T>): Promise<void> {
    const key = validateKey(this.table, id)
    return this.write((tx) => this.purgeIn(tx, key), 'delete')
  }

  /** @internal */
  async purgeIn(tx: TxContext, key: unknown): Promise<void> {
    const row = await this.currentRow(tx, key)
    if (!row) throw new NotFoundError(this.table.name, key)
    await this.beforePurge(tx, row)
    await this.eraseHistory(tx, key)
    await this.hardDelete(tx, key)
    await this.recordWrite(tx, 'purge', key, null, null)
  }

  /** Deletes the audit entries of the row (subclasses add those of its children). */
  protected async eraseHistory(tx: TxContext, key: unknown): Promise<void> {
    await tx.db
      .deleteFrom('audit_entries')
      .where('table_name', '=', this.table.name)
      .where('row_id', '=', String(key))
      .execute()
  }
}
