import { isUtf8 } from 'node:buffer'
import { closeSync, existsSync, openSync, readSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { importErrors } from '../../errors.js'
import { Utf8TextBytes } from '../text-bytes.js'
import { copySnapshot, makeLegacyCopyDir, removeStaleLegacyCopies } from './sqlite-snapshot-copy.js'

/** One table of a legacy SQLite file: its name, its columns in order and its row count. */
export interface LegacyTableInfo {
  readonly name: string
  readonly columns: readonly string[]
  readonly rowCount: number
}

/** A SQLite file of another application, read through a private copy (see {@link openLegacySqliteFile}). */
export interface LegacySqliteFile {
  /** Every table of the file (without SQLite's own `sqlite_*` tables), by name. */
  readonly tables: ReadonlyMap<string, LegacyTableInfo>
  /**
   * Every row of `table`, column name → value as SQLite stores it (TEXT, INTEGER, REAL, BLOB,
   * NULL); TEXT whose bytes are not UTF-8 is an {@link InvalidUtf8Text}. For small tables.
   */
  rows(table: string): Record<string, unknown>[]
  /**
   * The rows of `table` one at a time, in row id order (the order they were inserted in), each
   * with its row id: memory stays flat whatever the table's size. Values as in {@link rows}.
   * Nothing else may be read from the file until the iteration ends.
   */
  iterate(
    table: string,
    columns?: IterateColumns,
  ): IterableIterator<{ rowid: number; row: Record<string, unknown> }>
  /** One value of one row, by row id (as {@link iterate} gave it). */
  valueAt(table: string, rowid: number, column: string): unknown
  /** Closes the copy and removes it (the copy holds the app's plaintext secrets); again: nothing. */
  close(): void
}

const SQLITE_HEADER = 'SQLite format 3\u0000'

/**
 * A TEXT value whose bytes are not UTF-8 (SQLite stores TEXT without checking it). The driver
 * would decode it with U+FFFD in place of each bad byte, silently changing it; the rows carry
 * the bytes instead, for the importer to refuse naming the row.
 */
export class InvalidUtf8Text {
  constructor(readonly bytes: Buffer) {}
  /** The first bytes in hex, for a message. */
  toString(): string {
    const shown = [...this.bytes.subarray(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join(' ')
    return this.bytes.length > 16 ? `${shown} …` : shown
  }
}

/**
 * Which columns {@link LegacySqliteFile.iterate} reads and how: long text that a pass does not
 * use is not decoded at all (`skip`), and text that is only hashed and measured is read as its
 * bytes (`asBytes`, a {@link Utf8TextBytes}; bytes that are not UTF-8 are an {@link InvalidUtf8Text}):
 * decoding megabytes of it into strings was much of an import's time and memory.
 * Columns the table lacks are ignored.
 */
export interface IterateColumns {
  readonly skip?: readonly string[]
  readonly asBytes?: readonly string[]
}

/** The storage type selected beside each `asBytes` column: a BLOB value is not text cast to bytes. */
const TYPE_OF = '__aura_type_'

/** The row id selected beside each row (to re-read a value's bytes); not a column of the app's tables. */
const ROWID = '__aura_rowid'

/**
 * Opens `file` for reading without ever touching it: the file and its `-wal` (the committed
 * transactions not yet checkpointed into it) are copied, as one consistent snapshot even while
 * the app writes ({@link copySnapshot}), into a private directory, and only the copy is opened.
 * Copies that killed imports left behind are removed first ({@link removeStaleLegacyCopies}). Opening the original even read-only is not enough: a WAL-mode database opened
 * by SQLite gets a `-shm` created or rewritten beside it, and the last connection to close
 * checkpoints the WAL into the file. The copy's `-shm` is rebuilt from its `-wal`. Once the copy
 * is checked, its `-wal` is written back into it and its directory removed while it stays open
 * (except on Windows, where an open file cannot be removed: there `close()` removes it).
 *
 * A file that is not a SQLite database, or is damaged (truncated, corrupt pages), is an
 * ImportError before anything is returned.
 */
export function openLegacySqliteFile(file: string): LegacySqliteFile {
  if (!existsSync(file)) throw importErrors.missingFile(file)
  const header = Buffer.alloc(SQLITE_HEADER.length)
  const fd = openSync(file, 'r')
  let read: number
  try {
    read = readSync(fd, header, 0, header.length, 0)
  } finally {
    closeSync(fd)
  }
  if (read < header.length || header.toString('latin1') !== SQLITE_HEADER) throw importErrors.notSqlite(file)

  removeStaleLegacyCopies()
  const dir = makeLegacyCopyDir()
  const copy = join(dir, 'legacy.db')
  let handle: Database.Database | undefined
  let lookup: Database.Database | undefined
  try {
    if (!copySnapshot(file, copy)) throw importErrors.keepsChanging(file)
    handle = new Database(copy, { fileMustExist: true })
    // quick_check reads every page: a truncated file fails here, not half-way through the rows.
    const check = handle.pragma('quick_check', { simple: false }) as { quick_check: string }[]
    const problems = check.map((r) => r.quick_check).filter((r) => r !== 'ok')
    if (problems.length > 0) throw importErrors.damaged(file, problems.slice(0, 3).join('; '))
    const names = handle
      .prepare(
        "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name",
      )
      .pluck()
      .all() as string[]
    const tables = new Map<string, LegacyTableInfo>()
    for (const name of names) {
      const quoted = `"${name.replaceAll('"', '""')}"`
      const columns = (handle.pragma(`table_info(${quoted})`) as { name: string }[]).map((c) => c.name)
      const rowCount = Number(handle.prepare(`select count(*) from ${quoted}`).pluck().get())
      tables.set(name, { name, columns, rowCount })
    }
    // The copy leaves the disk now: its pages are written back from the -wal (rollback journal
    // mode) and the directory removed while this connection keeps the file open. On POSIX the
    // data stays readable through the open descriptor and is freed when it closes, even if the
    // process is killed: no plaintext copy of the app's secrets outlives the import.
    handle.pragma('journal_mode = DELETE')
    // better-sqlite3 runs no other statement on a connection while one iterates: lookups during
    // an iteration (a value's bytes, valueAt) go through a second connection.
    lookup = new Database(copy, { readonly: true, fileMustExist: true })
    if (process.platform !== 'win32') rmSync(dir, { recursive: true, force: true })
    const db = handle
    const quote = (name: string) => `"${name.replaceAll('"', '""')}"`
    /** The row with each TEXT that is not UTF-8 as an InvalidUtf8Text (see {@link InvalidUtf8Text}). */
    const checked = (table: string, rowid: unknown, row: Record<string, unknown>) => {
      // for…in, not Object.entries: no array per column of every row of the file.
      for (const column in row) {
        const value = row[column]
        // U+FFFD is where the driver replaced bytes that are not UTF-8, or a real U+FFFD:
        // the stored bytes tell which.
        if (typeof value !== 'string' || !value.includes('\uFFFD')) continue
        const bytes = lookup!
          .prepare(`select cast(${quote(column)} as blob) from ${quote(table)} where _rowid_ = ?`)
          .pluck()
          .get(rowid) as Buffer
        if (!bytes.equals(Buffer.from(value, 'utf8'))) row[column] = new InvalidUtf8Text(bytes)
      }
      return row
    }
    /** The select list of {@link iterate}: every column of the table but `skip`, `asBytes` cast. */
    const selectList = (table: string, columns: IterateColumns | undefined) => {
      if (!columns) return '*'
      const skip = new Set(columns.skip)
      const bytes = new Set(columns.asBytes)
      return tables
        .get(table)!
        .columns.filter((c) => !skip.has(c))
        .map((c) => {
          const q = quote(c)
          if (!bytes.has(c)) return q
          return `case when typeof(${q}) = 'text' then cast(${q} as blob) else ${q} end as ${q}, typeof(${q}) as ${quote(TYPE_OF + c)}`
        })
        .join(', ')
    }
    function* iterate(
      table: string,
      columns?: IterateColumns,
    ): IterableIterator<{ rowid: number; row: Record<string, unknown> }> {
      if (!tables.has(table)) return
      // Safe integers: an INTEGER beyond 2^53 comes back exact, so the mapping can refuse it rather than round it.
      const statement = db
        .prepare(
          `select _rowid_ as "${ROWID}", ${selectList(table, columns)} from ${quote(table)} order by _rowid_`,
        )
        .safeIntegers(true)
      const asBytes = columns?.asBytes?.filter((c) => tables.get(table)!.columns.includes(c)) ?? []
      for (const row of statement.iterate() as IterableIterator<Record<string, unknown>>) {
        const rowid = row[ROWID]
        delete row[ROWID]
        for (const column of asBytes) {
          const text = row[TYPE_OF + column] === 'text'
          delete row[TYPE_OF + column]
          if (!text) continue
          const bytes = row[column] as Buffer
          row[column] = isUtf8(bytes) ? new Utf8TextBytes(bytes) : new InvalidUtf8Text(bytes)
        }
        yield { rowid: Number(rowid), row: checked(table, rowid, row) }
      }
    }
    return {
      tables,
      rows: (table) => [...iterate(table)].map((r) => r.row),
      iterate,
      valueAt(table, rowid, column) {
        const value = lookup!
          .prepare(`select ${quote(column)} from ${quote(table)} where _rowid_ = ?`)
          .safeIntegers(true)
          .pluck()
          .get(rowid)
        return checked(table, rowid, { [column]: value })[column]
      },
      close() {
        if (db.open) db.close()
        if (lookup?.open) lookup.close()
        rmSync(dir, { recursive: true, force: true })
      },
    }
  } catch (error) {
    handle?.close()
    lookup?.close()
    rmSync(dir, { recursive: true, force: true })
    if (error instanceof Error && 'code' in error) {
      const code = String((error as { code: unknown }).code)
      if (code === 'SQLITE_NOTADB') throw importErrors.notSqlite(file)
      if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_IOERR_SHORT_READ')
        throw importErrors.damaged(file, error.message)
    }
    throw error
  }
}
