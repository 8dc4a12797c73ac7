/**
 * TemplateSearch: the full-text indexes behind `templates.search` and `customTemplates.search`
 * (text in name or description, word-prefix, case-insensitive).
 *
 * Why each database's own full-text search, and this shape of it:
 * - SQLite: an FTS5 table per template table, `content=` the table itself (external content:
 *   the text is not stored twice) and kept in sync by triggers, so every writer (the library,
 *   a script, the sqlite3 shell) updates it in the same transaction. Its rowids are the
 *   template rows' rowids; both template tables have indexes, so VACUUM keeps their rowids.
 *   `unicode61 remove_diacritics 0` folds case but keeps accents, like PostgreSQL below.
 * - PostgreSQL: a GIN expression index over `to_tsvector('simple', …)`: no extra column or
 *   trigger to keep in sync, and the `simple` configuration neither stems nor drops stop words,
 *   so a word is found exactly as typed. Punctuation is turned into spaces first so that both
 *   databases split words the same way (PostgreSQL's parser would otherwise keep `youtube.com`
 *   or `e-mail` as one token). pg_trgm would find substrings, not words, and needs an extension.
 * The query side of both lives in the dialects (`templateTextMatch`); the expression there must
 * stay identical to the one indexed here, or PostgreSQL ignores the index.
 *
 * Frozen in time: imports only types from 'kysely' (the engine passes `sql` in `ctx`).
 */
import type { Kysely, sql as SqlTag } from 'kysely'

export interface MigrationContext {
  dialect: 'sqlite' | 'postgres'
  sql: typeof SqlTag
}

const TABLES = ['templates', 'custom_templates'] as const

export async function up(db: Kysely<any>, ctx: MigrationContext): Promise<void> {
  const { sql } = ctx
  for (const table of TABLES) {
    const t = sql.table(table)
    if (ctx.dialect === 'postgres') {
      await sql`create index ${sql.id(`ix_${table}_search`)} on ${t} using gin (to_tsvector('simple', regexp_replace(name || ' ' || description, '[^[:alnum:]]+', ' ', 'g')))`.execute(
        db,
      )
      continue
    }
    const fts = sql.table(`${table}_fts`)
    await sql`create virtual table ${fts} using fts5(name, description, content=${sql.lit(table)}, content_rowid='rowid', tokenize='unicode61 remove_diacritics 0')`.execute(
      db,
    )
    await sql`create trigger ${sql.id(`${table}_fts_insert`)} after insert on ${t} begin
  insert into ${fts} (rowid, name, description) values (new.rowid, new.name, new.description);
end`.execute(db)
    await sql`create trigger ${sql.id(`${table}_fts_delete`)} after delete on ${t} begin
  insert into ${fts} (${fts}, rowid, name, description) values ('delete', old.rowid, old.name, old.description);
end`.execute(db)
    await sql`create trigger ${sql.id(`${table}_fts_update`)} after update of name, description on ${t} begin
  insert into ${fts} (${fts}, rowid, name, description) values ('delete', old.rowid, old.name, old.description);
  insert into ${fts} (rowid, name, description) values (new.rowid, new.name, new.description);
end`.execute(db)
    // Index the rows that exist already.
    await sql`insert into ${fts} (${fts}) values ('rebuild')`.execute(db)
  }
}

export async function down(db: Kysely<any>, ctx: MigrationContext): Promise<void> {
  const { sql } = ctx
  for (const table of [...TABLES].reverse()) {
    if (ctx.dialect === 'postgres') {
      await sql`drop index ${sql.id(`ix_${table}_search`)}`.execute(db)
      continue
    }
    for (const trigger of ['update', 'delete', 'insert']) {
      await sql`drop trigger ${sql.id(`${table}_fts_${trigger}`)}`.execute(db)
    }
    // Dropping the FTS5 table drops its shadow tables with it.
    await sql`drop table ${sql.table(`${table}_fts`)}`.execute(db)
  }
}
