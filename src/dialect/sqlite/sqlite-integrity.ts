import type { Database } from 'better-sqlite3'
import type { IntegrityCheckResult } from '../dialect.js'

/** How many problems a check's detail spells out. */
const PROBLEMS_SHOWN = 10

function summary(problems: readonly string[]): string {
  const more = problems.length - PROBLEMS_SHOWN
  return problems.slice(0, PROBLEMS_SHOWN).join('; ') + (more > 0 ? `; and ${more} more` : '')
}

/**
 * SQLite's own checks of a live database:
 * - `integrity_check`: b-tree structure, page lists, index entries against their rows, NOT NULL
 *   and CHECK constraints;
 * - `foreign_key_check`: rows whose parent row is missing (possible when rows were written with
 *   `foreign_keys` off, e.g. by another tool).
 */
export function checkSqliteIntegrity(db: Database): IntegrityCheckResult[] {
  const integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map(
    (row) => row.integrity_check,
  )
  const integrityOk = integrity.length === 1 && integrity[0] === 'ok'
  const violations = db.pragma('foreign_key_check') as {
    table: string
    rowid: number | null
    parent: string
  }[]
  return [
    { name: 'integrity_check', ok: integrityOk, detail: integrityOk ? 'ok' : summary(integrity) },
    {
      name: 'foreign_key_check',
      ok: violations.length === 0,
      detail:
        violations.length === 0
          ? 'no rows refer to missing parents'
          : `${violations.length} row(s) refer to missing parents: ` +
            summary(violations.map((v) => `${v.table} rowid ${String(v.rowid)} → ${v.parent}`)),
    },
  ]
}
