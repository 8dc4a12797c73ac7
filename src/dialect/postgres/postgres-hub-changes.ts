import { sql, type Kysely, type RawBuilder } from 'kysely'
import type { HubChange, HubChanges } from '../hub.js'
import { quoteString } from '../script-literals.js'
import { definerFunction, SHARED_TABLES } from './postgres-hub-shared.js'

/** Every committed change of a shared row, in the order of the transactions' ids. */
const CHANGES = 'aura_hub_changes'

/** A key of the transaction-level advisory lock that orders the numbering of commits. */
const NUMBERING_LOCK = 0x41555253

/**
 * The hub's change log, made by `hub init`: a row per insert, update or delete of a shared row,
 * written by a trigger in the writing transaction, with the session's role (`session_user`,
 * never a value the client sends). Members read the changes of their projects (row-level
 * security); nobody but the owner writes the log.
 *
 * Each transaction's changes get one number, `commit_seq`, in the order the transactions
 * commit: a deferred trigger, run at COMMIT, takes a transaction-level lock and draws the next
 * number, and the lock is held until the commit is done. So number n + 1 is drawn only after the
 * transaction of n committed, and a reader that sees n + 1 sees n: the highest number read is a
 * cursor that never skips a change that committed late (one whose transaction started first).
 * Numbering by start (a sequence, the transaction id) or by time would. The price: writers of the
 * hub commit one at a time.
 */
export function changeLogStatements(schema: string, editors: string): RawBuilder<unknown>[] {
  const definer = (name: string, body: string) =>
    definerFunction(schema, `${name}()`, 'trigger language plpgsql', body)
  return [
    sql.raw(`create table if not exists ${CHANGES} (
      seq bigint generated always as identity primary key,
      commit_seq bigint,
      xid xid8 not null default pg_current_xact_id(),
      table_name text not null,
      row_id text not null,
      project_id uuid,
      action text not null check (action in ('insert', 'update', 'delete')),
      row_version integer,
      changed_by text not null default session_user,
      changed_at timestamptz not null default now())`),
    sql.raw(`create index if not exists ix_${CHANGES}_commit_seq on ${CHANGES} (commit_seq, seq)`),
    sql.raw(`create index if not exists ix_${CHANGES}_xid on ${CHANGES} (xid) where commit_seq is null`),
    sql.raw(`create sequence if not exists ${CHANGES}_commit_seq`),
    definer(
      'aura_hub_record_change',
      `declare r jsonb; begin ` +
        `r := to_jsonb(case when tg_op = 'DELETE' then old else new end); ` +
        `insert into ${CHANGES} (table_name, row_id, project_id, action, row_version) values (tg_table_name, r->>'id', ` +
        `case when tg_argv[0] = '' then null else (r->>tg_argv[0])::uuid end, lower(tg_op), (r->>'row_version')::integer); ` +
        `return null; end`,
    ),
    // Fires at COMMIT for each change row; the first firing of a transaction numbers them all.
    definer(
      'aura_hub_number_changes',
      `declare n bigint; begin ` +
        `if current_setting('aura.hub_numbered', true) = pg_current_xact_id()::text then return null; end if; ` +
        `perform pg_advisory_xact_lock(${NUMBERING_LOCK}); ` +
        `n := nextval('${CHANGES}_commit_seq'); ` +
        `update ${CHANGES} set commit_seq = n where xid = pg_current_xact_id() and commit_seq is null; ` +
        `perform set_config('aura.hub_numbered', pg_current_xact_id()::text, true); ` +
        `return null; end`,
    ),
    sql.raw(`drop trigger if exists aura_hub_number_changes on ${CHANGES}`),
    sql.raw(
      `create constraint trigger aura_hub_number_changes after insert on ${CHANGES} ` +
        `deferrable initially deferred for each row execute function aura_hub_number_changes()`,
    ),
    ...SHARED_TABLES.map(([table, projectColumn]) =>
      sql.raw(
        `create or replace trigger aura_hub_record_change after insert or update or delete on "${table}" ` +
          `for each row execute function aura_hub_record_change(${quoteString(projectColumn ?? '')})`,
      ),
    ),
    sql.raw(`revoke all on ${CHANGES} from public`),
    sql.raw(`grant select on ${CHANGES} to "${editors}"`),
    sql.raw(`alter table ${CHANGES} enable row level security`),
    sql.raw(`drop policy if exists aura_hub_select on ${CHANGES}`),
    sql.raw(
      `create policy aura_hub_select on ${CHANGES} for select using ` +
        `(case when project_id is null then aura_hub_is_member() else aura_hub_can_read(project_id) end)`,
    ),
  ]
}

/**
 * The changes committed after `cursor` (a `commit_seq`, see {@link changeLogStatements}) that
 * this role may see, in commit order, and the cursor to ask from next: the highest number read.
 */
export async function readChanges(kysely: Kysely<any>, cursor: string | null): Promise<HubChanges> {
  const { rows } = await sql<{
    commit_number: string
    table_name: string
    row_id: string
    project_id: string | null
    action: HubChange['action']
    row_version: number | null
    changed_by: string
    changed_at: Date
  }>`-- Not aliased commit_seq: ORDER BY would then sort the text ('10' before '9').
     select commit_seq::text as commit_number, table_name, row_id, project_id, action, row_version, changed_by, changed_at
     from ${sql.id(CHANGES)}
     where commit_seq is not null ${cursor === null ? sql`` : sql`and commit_seq > ${cursor}::bigint`}
     order by aura_hub_changes.commit_seq, aura_hub_changes.seq`.execute(kysely)
  return {
    changes: rows.map((row) => ({
      table: row.table_name,
      rowId: row.row_id,
      projectId: row.project_id,
      action: row.action,
      rowVersion: row.row_version,
      changedBy: row.changed_by,
      changedAt: row.changed_at instanceof Date ? row.changed_at : new Date(row.changed_at),
    })),
    cursor: rows.at(-1)?.commit_number ?? cursor ?? '0',
  }
}
