import { ValidationError } from '../errors.js'
import { type AuditEntry, type AuditEntriesTable } from '../schema/audit-entries.js'
import { ReadRepository } from './read-repository.js'
import type { Session } from './session.js'

/**
 * The audit trail, read-only: entries are written by the library in the transaction of the
 * change they record, and never edited.
 */
export class AuditEntriesRepository extends ReadRepository<AuditEntriesTable, AuditEntry> {
  constructor(table: AuditEntriesTable, session: Session) {
    super(table, session)
  }

  /** The history of one row, oldest first. */
  async history(table: string, rowId: string | number): Promise<AuditEntry[]> {
    if (typeof table !== 'string' || table.length === 0)
      throw new ValidationError('history needs a table name', 'table')
    return this.find({ tableName: table, rowId: String(rowId) }, { orderBy: { id: 'asc' } })
  }
}
