import { NotFoundError } from '../errors.js'
import type { EntityOf, InsertOf, TableDef, UpdateOf } from '../schema/define.js'
import type { Key } from './read-repository.js'
import { Repository } from './repository.js'
import type { TxContext } from './session.js'
import { validateKey } from './validation.js'

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
