import type { ModelTarget } from '../dialect.js'
import { openScratchSqlite } from './sqlite-model.js'

// A file of its own: its declarations name no better-sqlite3 type, so the package's published
// types, which reach this constant through dialect/index.ts, do not need @types/better-sqlite3.
/**
 * The in-memory SQLite scratch database: the model target of every SQLite database (nothing of
 * the file is needed) and what `check` and `add` use when no server is named. Full-text search
 * lives in FTS5 tables, which models leave out.
 */
export const SQLITE_MODEL: ModelTarget = {
  dialect: 'sqlite',
  open: openScratchSqlite,
  searchIndexName: () => null,
}
