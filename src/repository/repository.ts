import { randomUUID } from 'node:crypto'
import { sql, type CompiledQuery, type Kysely } from 'kysely'
import type { AuraDialect } from '../dialect/index.js'
import { ConcurrencyError, NotFoundError, ValidationError } from '../errors.js'
import type { ColumnKind, EntityOf, InsertOf, TableDef, UpdateOf } from '../schema/define.js'
import { withAudit, writeAudit, type AuditChanges } from './audit-writer.js'
import { buildConditions, checkQuery, type CheckedQuery, type QueryOptions, type Where } from './filter.js'
import { rowsIn, txRows, type Row, type Session, type TxContext } from './session.js'
import { validateInsert, validateKey, validateRowVersion, validateUpdate } from './validation.js'

/** Tables whose rows belong to a project and disappear from reads while it is soft-deleted. */
const PROJECT_CHILDREN = new Set(['scene_states', 'asset_states', 'render_checkpoints', 'project_versions'])

/**
 * The project children inserted through `insertIn`: adding one to a soft-deleted project is a
 * NotFoundError. (Project versions are written under `lockLiveProject`, which checks the same.)
 */
const LIVE_PARENT = new Set(['scene_states', 'asset_states', 'render_checkpoints'])

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

  constructor(
    readonly table: T,
    protected readonly session: Session,
  ) {
    // Every unit of work builds its repositories: what depends only on the table is made once.
    this.#map = rowMapper(session.dialect, table)
    this.keyColumn = table.columns[table.primaryKey]!.column
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
          .selectAll(this.table.name)
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
    if (PROJECT_CHILDREN.has(this.table.name)) values.push(no)
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
    if (PROJECT_CHILDREN.has(this.table.name)) {
      const flag = v(next++)
      expressions.push(
        eb.exists(
          eb
            .selectFrom('project_states as parent')
            .select(eb.lit(1).as('one'))
            .whereRef('parent.id', '=', `${this.table.name}.project_id`)
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
export class Repository<T extends TableDef, E extends object = EntityOf<T>> extends ReadRepository<T, E> {
  // ---- writes --------------------------------------------------------------------------

  /** Validates and inserts a row; returns it as stored (id, defaults, audit fields, `rowVersion` 1). */
  async add(entity: InsertOf<T>): Promise<E> {
    const values = validateInsert(this.table, entity)
    return this.session.write((tx) => this.insertIn(tx, values))
  }

  /** Inserts several rows in one transaction: all or none. */
  async addRange(entities: readonly InsertOf<T>[]): Promise<E[]> {
    const values = entities.map((e) => validateInsert(this.table, e))
    return this.session.write(async (tx) => {
      const out: E[] = []
      for (const v of values) out.push(await this.insertIn(tx, v))
      return out
    })
  }

  /**
   * Writes the given fields if the row still has `entity.rowVersion`; increments the version.
   * A changed row is a ConcurrencyError (nothing written), a missing one a NotFoundError.
   */
  async update(entity: UpdateOf<T>): Promise<E> {
    const { key, rowVersion, changes } = validateUpdate(this.table, entity)
    return this.session.write((tx) => this.updateIn(tx, key, rowVersion, changes))
  }

  /**
   * Deletes a row: a soft delete on soft-delete tables, a real one elsewhere. Given an entity
   * with `rowVersion`, a row changed since it was read is a ConcurrencyError.
   */
  async delete(entityOrId: Key<T> | (Partial<E> & { rowVersion?: number })): Promise<void> {
    const { key, rowVersion } = this.deleteTarget(entityOrId)
    return this.session.write((tx) => this.deleteIn(tx, key, rowVersion))
  }

  /** Deletes several rows in one transaction: all or none. */
  async deleteRange(list: readonly (Key<T> | (Partial<E> & { rowVersion?: number }))[]): Promise<void> {
    const targets = list.map((item) => this.deleteTarget(item))
    return this.session.write(async (tx) => {
      for (const t of targets) await this.deleteIn(tx, t.key, t.rowVersion)
    })
  }

  // ---- building blocks for specialised repositories (run inside a transaction) ----

  /** Inserts validated values with the managed fields filled; writes the audit entry. */
  async insertIn(tx: TxContext, values: Record<string, unknown>): Promise<E> {
    const plan = insertPlan(this.table, Object.keys(values))
    let key = values[this.table.primaryKey]
    if (plan.generateKey && key === undefined) key = randomUUID()
    else if (plan.lowerKey) key = (key as string).toLowerCase()
    const dialect = this.session.dialect
    // One encoding of the unit's clock reading serves both stamps and the audit entry.
    const now = plan.stamped ? dialect.encode('timestamp', tx.now) : null
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
    const project = LIVE_PARENT.has(this.table.name) ? values.projectId : undefined
    const query =
      project === undefined
        ? this.session.cache.compile(plan.cacheKey, params, (v) =>
            tx.db
              .insertInto(this.table.name)
              .values(
                Object.fromEntries(plan.fields.map((field, i) => [this.table.columns[field]!.column, v(i)])),
              )
              .returningAll(),
          )
        : this.insertUnderLiveProject(tx, plan, [
            ...params,
            dialect.encode('uuid', project),
            dialect.encode('bool', true),
          ])
    // Where the dialect can, the audit entry goes in the same statement: one round trip.
    const audited = this.table.name !== 'audit_entries' && dialect.capabilities.writableCte
    const row = (
      await txRows(
        tx,
        audited ? withAudit(this.session, tx, this.table.name, this.keyColumn, query, 'insert', null) : query,
      )
    )[0]
    if (!row) throw new NotFoundError('project_states', project)
    const entity = this.fromRow(row)
    if (!audited) await this.audit(tx, 'insert', this.keyOf(entity), null)
    return entity
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
    return this.session.cache.compile(`${plan.cacheKey}:live-project`, params, (v) =>
      tx.db
        .insertInto(this.table.name)
        .columns(plan.fields.map((field) => this.table.columns[field]!.column))
        .expression(
          sql`select ${sql.join(plan.fields.map((_, i) => v(i)))} where not exists (select 1 from project_states where id = ${v(n)} and is_deleted = ${v(n + 1)})`,
        )
        .returningAll(),
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

  /** Applies `changes` (validated entity values) to the row if it still has `rowVersion`. */
  async updateIn(
    tx: TxContext,
    key: unknown,
    rowVersion: number | null,
    changes: Record<string, unknown>,
  ): Promise<E> {
    const row = await this.currentRow(tx, key)
    this.assertWritable(row, key, rowVersion)
    const before = this.fromRow(row) as Record<string, unknown>
    const changed: AuditChanges = {}
    const set: Record<string, unknown> = {}
    for (const [field, value] of Object.entries(changes)) {
      if (sameValue(before[field], value)) continue
      changed[field] = [before[field], value]
      set[field] = value
    }
    if (Object.keys(set).length === 0) return before as E
    const f = this.table.features
    if (f.audit) set.updatedAt = tx.now
    if (f.audit === true) set.modifiedBy = tx.actor
    const audit = this.redact(before, changed)
    // Where the dialect can, the audit entry goes in the UPDATE statement: one round trip.
    if (this.session.dialect.capabilities.writableCte) return this.writeRow(tx, key, rowVersion, set, audit)
    const updated = await this.writeRow(tx, key, rowVersion, set)
    await this.audit(tx, 'update', key, audit)
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
    /** The changes of an `update` audit entry written by the same statement (see `withAudit`). */
    audit?: AuditChanges,
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
        return q.returningAll()
      },
    )
    const audited =
      audit === undefined || this.table.name === 'audit_entries'
        ? query
        : withAudit(this.session, tx, this.table.name, this.keyColumn, query, 'update', audit)
    const row = (await txRows(tx, audited))[0]
    if (!row) {
      const now = await this.currentRow(tx, key)
      this.assertWritable(now, key, rowVersion)
      throw new ConcurrencyError(this.table.name, key, rowVersion, Number(now.row_version))
    }
    return this.fromRow(row)
  }

  /** Soft-deletes (soft-delete tables) or deletes the row, checking `rowVersion` when given. */
  async deleteIn(tx: TxContext, key: unknown, rowVersion: number | null): Promise<void> {
    const row = await this.currentRow(tx, key)
    this.assertWritable(row, key, rowVersion)
    if (this.table.features.softDelete) {
      await this.writeRow(tx, key, Number(row.row_version), {
        isDeleted: true,
        deletedAt: tx.now,
        deletedBy: tx.actor,
        updatedAt: tx.now,
        modifiedBy: tx.actor,
      })
      await this.afterSoftDelete(tx, row)
      await this.audit(tx, 'soft_delete', key, null)
      return
    }
    await this.beforePurge(tx, row)
    await this.hardDelete(tx, key)
    await this.audit(tx, 'purge', key, null)
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

  /** Writes the audit entry of a change to this table (not for the audit table itself). */
  protected async audit(
    tx: TxContext,
    action: 'insert' | 'update' | 'soft_delete' | 'restore' | 'purge',
    key: unknown,
    changes: AuditChanges | null,
  ): Promise<void> {
    if (this.table.name === 'audit_entries') return
    return writeAudit(this.session, tx, this.table.name, String(key), action, changes)
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

/**
 * The extra methods of soft-delete tables: `restore` undoes a soft delete, `purge` deletes
 * permanently (the GDPR erasure path) together with the row's audit history.
 */
export class SoftDeleteRepository<T extends TableDef, E extends object = EntityOf<T>> extends Repository<
  T,
  E
> {
  /** Undoes a soft delete; a row that is not deleted is returned unchanged. */
  async restore(id: Key<T>): Promise<E> {
    const key = validateKey(this.table, id)
    return this.session.write((tx) => this.restoreIn(tx, key))
  }

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
    await this.audit(tx, 'restore', key, null)
    return restored
  }

  /**
   * Deletes the row permanently, deleted or not, with everything that cascades from it, and
   * erases its audit history; one `purge` audit entry (without values) records that it happened.
   */
  async purge(id: Key<T>): Promise<void> {
    const key = validateKey(this.table, id)
    return this.session.write((tx) => this.purgeIn(tx, key))
  }

  async purgeIn(tx: TxContext, key: unknown): Promise<void> {
    const row = await this.currentRow(tx, key)
    if (!row) throw new NotFoundError(this.table.name, key)
    await this.beforePurge(tx, row)
    await this.eraseHistory(tx, key)
    await this.hardDelete(tx, key)
    await this.audit(tx, 'purge', key, null)
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
