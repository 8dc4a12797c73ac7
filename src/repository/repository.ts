import { sql, type Compilable, type CompiledQuery } from 'kysely'
import type { WritableCte } from '../dialect/writable-cte.js'
import { ConcurrencyError, NotFoundError, ValidationError } from '../errors.js'
import type { EntityOf, InsertOf, TableDef, UpdateOf } from '../schema/define.js'
import { writeAudit, type AuditChanges } from './audit-writer.js'
import type { RowAction } from './change-feed.js'
import { nameForeignKeyFailure } from './foreign-key-error.js'
import { insertParams, insertPlan, MAX_PARAMETERS, sameFields, type InsertPlan } from './insert-plan.js'
import { insertRow, insertRowUnderLiveProject, insertRows } from './insert-statements.js'
import { readAndUpdateStatement } from './read-and-update.js'
import { ReadRepository, type Key } from './read-repository.js'
import { txRows, type Row, type TxContext } from './session.js'
import { changedFields } from './value-changes.js'
import { validateDeleteTarget, validateInsert, validateUpdate } from './validation.js'

const INCLUDE_DELETED = { includeDeleted: true } as const
const NO_OPTIONS = {} as const

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
    const { key, rowVersion } = validateDeleteTarget(this.table, entityOrId)
    return this.write((tx) => this.deleteIn(tx, key, rowVersion), 'delete')
  }

  /** Deletes several rows in one transaction: all or none. */
  async deleteRange(list: readonly (Key<T> | (Partial<E> & { rowVersion?: number }))[]): Promise<void> {
    const targets = list.map((item) => validateDeleteTarget(this.table, item))
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
    const now = plan.stamped ? dialect.encode('timestamp', tx.now) : null
    const params = insertParams(dialect, this.table, plan, values, now, tx.actor)
    const project = this.projectOwner ? values[this.projectOwner.field] : undefined
    const query =
      project === undefined
        ? this.#compileInsert(tx, plan.cacheKey, params, (v) =>
            insertRow(tx.db, this.table, plan, this.columnNames, v),
          )
        : this.#compileInsert(
            tx,
            `${plan.cacheKey}:live-project`,
            [...params, dialect.encode('uuid', project), dialect.encode('bool', true)],
            (v) => insertRowUnderLiveProject(tx.db, this.table, plan, this.columnNames, v),
          )
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
    const params: unknown[] = []
    const keys: unknown[] = []
    for (const values of rows) {
      const row = insertParams(dialect, this.table, plan, values, now, tx.actor)
      keys.push(row[plan.fields.indexOf(this.table.primaryKey)])
      params.push(...row)
    }
    const owner = this.projectOwner
    if (owner) params.push(dialect.encode('bool', true))
    const query = this.#compileInsert(tx, `${plan.cacheKey}:rows:${rows.length}`, params, (v) =>
      insertRows(tx.db, dialect, this.table, plan, rows.length, owner, this.columnNames, v),
    )
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
      (v) =>
        readAndUpdateStatement(
          this.session.dialect.kysely,
          cte,
          {
            table: this.table,
            keyColumn: this.keyColumn,
            columnNames: this.columnNames,
            fields,
            managed,
            versioned,
          },
          v,
        ),
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
}
