import { createHash } from 'node:crypto'
import { sql, type Kysely, type RawBuilder } from 'kysely'
import type { HubAccess, HubAdministration, HubChanges, HubMember, HubSetup } from '../hub.js'
import { changeLogStatements, readChanges } from './postgres-hub-changes.js'
import { VERSION_HASH_COLUMNS } from '../../schema/project-versions.js'
import { definerFunction, SHARED_TABLES } from './postgres-hub-shared.js'

/** Who may see and change which project: one row per grant. */
const MEMBERS = 'aura_hub_members'
/** Which roles stored which content blob (a blob is readable by them, or through a visible version). */
const BLOB_OWNERS = 'aura_hub_blob_owners'

/** Tables whose rows belong to a project by `project_id`: a member sees and changes those of its projects. */
const PROJECT_TABLES = SHARED_TABLES.filter(([, column]) => column === 'project_id').map(([table]) => table)
/** Tables every member shares (custom templates), writable by members with write access somewhere. */
const TEAM_TABLES = SHARED_TABLES.filter(([, column]) => column === null).map(([table]) => table)

const q = (name: string): RawBuilder<unknown> => sql.id(name)

/**
 * The editors' group role of a hub database: one per database, since roles are the server's. A
 * database name too long for a role name (63 bytes) is replaced by a digest of it.
 */
function editorsRoleOf(database: string): string {
  const name = `aura_hub_${database}`
  if (Buffer.byteLength(name) <= 63) return name
  return `aura_hub_${createHash('sha256').update(database).digest('hex').slice(0, 40)}`
}

/**
 * The policy functions, `security definer` so that policies can read the membership table,
 * which no member may read. They are VOLATILE on purpose: a project's creator becomes its member
 * (the trigger below) within the very INSERT whose RETURNING the read policy then checks, and a
 * STABLE function would see the data as of the statement's start, without that member.
 */
function policyFunctions(schema: string, editors: string): RawBuilder<unknown>[] {
  const fn = (name: string, args: string, body: string) =>
    definerFunction(schema, `${name}(${args})`, 'boolean language sql volatile', body)
  const trigger = (name: string, body: string) =>
    definerFunction(schema, `${name}()`, 'trigger language plpgsql', `begin ${body} return new; end`)
  const member = `select 1 from ${MEMBERS} m where m.role_name = session_user`
  return [
    fn(
      'aura_hub_can_read',
      'p uuid',
      `select exists (${member} and (m.project_id is null or m.project_id = p))`,
    ),
    fn(
      'aura_hub_can_write',
      'p uuid',
      `select exists (${member} and m.access = 'write' and (m.project_id is null or m.project_id = p))`,
    ),
    fn('aura_hub_is_member', '', `select exists (${member})`),
    fn('aura_hub_is_writer', '', `select exists (${member} and m.access = 'write')`),
    // The creator of a project becomes its member with write access, unless it may write every
    // project already; the owner's own inserts (session_user = the definer) make no member.
    trigger(
      'aura_hub_project_created',
      `if session_user <> current_user and not exists (${member} and m.project_id is null and m.access = 'write') then ` +
        `insert into ${MEMBERS} (role_name, project_id, access, granted_by) values (session_user, new.id, 'write', session_user) on conflict do nothing; ` +
        `end if;`,
    ),
    trigger(
      'aura_hub_blob_stored',
      `if session_user <> current_user then ` +
        `insert into ${BLOB_OWNERS} (content_hash, role_name) values (new.content_hash, session_user) on conflict do nothing; ` +
        `end if;`,
    ),
    sql`revoke all on function aura_hub_can_read(uuid), aura_hub_can_write(uuid), aura_hub_is_member(), aura_hub_is_writer() from public`,
    sql`grant execute on function aura_hub_can_read(uuid), aura_hub_can_write(uuid), aura_hub_is_member(), aura_hub_is_writer() to ${q(editors)}`,
  ]
}

/** One policy per command on `table`, replacing any earlier one of the same name. */
function policies(
  table: string,
  rules: { select: string; insert: string; update: string; delete: string },
): RawBuilder<unknown>[] {
  const statements: RawBuilder<unknown>[] = [sql`alter table ${q(table)} enable row level security`]
  for (const command of ['select', 'insert', 'update', 'delete'] as const) {
    const name = `aura_hub_${command}`
    statements.push(sql`drop policy if exists ${q(name)} on ${q(table)}`)
    const rule = rules[command]
    const clause =
      command === 'insert'
        ? `with check (${rule})`
        : command === 'update'
          ? `using (${rule}) with check (${rule})`
          : `using (${rule})`
    statements.push(sql.raw(`create policy ${name} on "${table}" for ${command} ${clause}`))
  }
  return statements
}

/** The PostgreSQL side of {@link HubAdministration}. */
export class PostgresHub implements HubAdministration {
  constructor(private readonly kysely: Kysely<any>) {}

  async #editorsRole(db: Kysely<any> = this.kysely): Promise<string> {
    const { rows } = await sql<{ name: string }>`select current_database() as name`.execute(db)
    return editorsRoleOf(rows[0]!.name)
  }

  async init(): Promise<HubSetup> {
    return this.kysely.transaction().execute(async (trx) => {
      // Two inits at once would race on CREATE ROLE and the policies.
      await sql`select pg_advisory_xact_lock(hashtext('aura_hub_init'))`.execute(trx)
      const editors = await this.#editorsRole(trx)
      const { rows } = await sql<{ schema: string; database: string }>`
        select current_schema() as schema, current_database() as database`.execute(trx)
      const { schema, database } = rows[0]!
      if (!(await this.roleExists(editors, trx))) await sql`create role ${q(editors)} nologin`.execute(trx)
      const statements: RawBuilder<unknown>[] = [
        sql.raw(`create table if not exists ${MEMBERS} (
          role_name text not null,
          project_id uuid references project_states (id) on delete cascade deferrable initially deferred,
          access varchar(5) not null check (access in ('read', 'write')),
          granted_by text not null default session_user,
          granted_at timestamptz not null default now(),
          constraint ux_${MEMBERS} unique nulls not distinct (role_name, project_id))`),
        sql.raw(`create table if not exists ${BLOB_OWNERS} (
          content_hash varchar(64) not null,
          role_name text not null,
          primary key (content_hash, role_name))`),
        sql.raw(`revoke all on ${MEMBERS}, ${BLOB_OWNERS} from public`),
        ...policyFunctions(schema, editors),
        sql`revoke connect on database ${q(database)} from public`,
        sql`grant connect on database ${q(database)} to ${q(editors)}`,
        sql`grant usage on schema ${q(schema)} to ${q(editors)}`,
        sql.raw(
          `grant select, insert, update, delete on ${[...SHARED_TABLES.map(([table]) => table), 'content_blobs'].join(', ')} to "${editors}"`,
        ),
        // Every write of the library appends its audit entry; members write the trail, never read it.
        sql`grant insert on audit_entries to ${q(editors)}`,
        // Opening a database reads which migrations it has.
        sql`grant select on aura_migrations to ${q(editors)}`,
        ...policies('project_states', {
          select: 'aura_hub_can_read(id)',
          insert: 'aura_hub_is_member()',
          update: 'aura_hub_can_write(id)',
          delete: 'aura_hub_can_write(id)',
        }),
        ...PROJECT_TABLES.flatMap((table) =>
          policies(table, {
            select: 'aura_hub_can_read(project_id)',
            insert: 'aura_hub_can_write(project_id)',
            update: 'aura_hub_can_write(project_id)',
            delete: 'aura_hub_can_write(project_id)',
          }),
        ),
        ...TEAM_TABLES.flatMap((table) =>
          policies(table, {
            select: 'aura_hub_is_member()',
            insert: 'aura_hub_is_writer()',
            update: 'aura_hub_is_writer()',
            delete: 'aura_hub_is_writer()',
          }),
        ),
        ...policies('content_blobs', {
          // Readable by the roles that stored it, and through any version the role may read
          // (the subquery is itself under project_versions' policy).
          select: `aura_hub_is_member() and (exists (select 1 from ${BLOB_OWNERS} o where o.content_hash = content_blobs.content_hash and o.role_name = session_user) or exists (select 1 from project_versions v where ${VERSION_HASH_COLUMNS.map((c) => `v.${c} = content_blobs.content_hash`).join(' or ')}))`,
          insert: 'aura_hub_is_writer()',
          update: 'aura_hub_is_writer()',
          delete: 'aura_hub_is_writer()',
        }),
        sql`alter table audit_entries enable row level security`,
        sql`drop policy if exists aura_hub_insert on audit_entries`,
        sql`create policy aura_hub_insert on audit_entries for insert with check (aura_hub_is_member())`,
        sql`create or replace trigger aura_hub_project_created before insert on project_states for each row execute function aura_hub_project_created()`,
        sql`create or replace trigger aura_hub_blob_stored before insert on content_blobs for each row execute function aura_hub_blob_stored()`,
        ...changeLogStatements(schema, editors),
      ]
      for (const statement of statements) await statement.execute(trx)
      return {
        editorsRole: editors,
        sharedTables: [...SHARED_TABLES.map(([table]) => table), 'content_blobs'],
      }
    })
  }

  async isInitialised(): Promise<boolean> {
    const { rows } = await sql<{
      found: boolean
    }>`select to_regclass(${MEMBERS}) is not null as found`.execute(this.kysely)
    return rows[0]?.found === true
  }

  async roleExists(role: string, db: Kysely<any> = this.kysely): Promise<boolean> {
    const { rows } = await sql<{ found: boolean }>`
      select exists (select 1 from pg_roles where rolname = ${role}) as found`.execute(db)
    return rows[0]?.found === true
  }

  async grant(role: string, projectId: string | null, access: HubAccess): Promise<void> {
    await this.kysely.transaction().execute(async (trx) => {
      const editors = await this.#editorsRole(trx)
      await sql`
        insert into ${q(MEMBERS)} (role_name, project_id, access, granted_by)
        values (${role}, ${projectId}, ${access}, session_user)
        on conflict (role_name, project_id) do update set access = excluded.access,
          granted_by = excluded.granted_by, granted_at = now()`.execute(trx)
      await sql`grant ${q(editors)} to ${q(role)}`.execute(trx)
    })
  }

  async revoke(role: string, projectId: string | null): Promise<boolean> {
    const { removed, left } = await this.kysely.transaction().execute(async (trx) => {
      const editors = await this.#editorsRole(trx)
      const deleted = await sql`
        delete from ${q(MEMBERS)} where role_name = ${role} and project_id is not distinct from ${projectId}`.execute(
        trx,
      )
      const { rows } = await sql<{ left: boolean }>`
        select exists (select 1 from ${q(MEMBERS)} where role_name = ${role}) as left`.execute(trx)
      if (!rows[0]?.left) await sql`revoke ${q(editors)} from ${q(role)}`.execute(trx)
      return { removed: Number(deleted.numAffectedRows ?? 0n) > 0, left: rows[0]?.left === true }
    })
    // CONNECT is checked only when a session starts, and a pooler (PgBouncer) keeps the role's
    // server sessions open for reuse: end them, so that the next one is refused. Row-level
    // security already hides every project from them, statement by statement.
    if (!left) await this.#endSessions(role)
    return removed
  }

  /**
   * Ends `role`'s sessions on this database. The owner needs the right to (superuser, or
   * membership in pg_signal_backend); without it the sessions stay until they close, unable to
   * read anything: that is not the revoke's failure.
   */
  async #endSessions(role: string): Promise<void> {
    await sql`select pg_terminate_backend(pid) from pg_stat_activity
      where usename = ${role} and datname = current_database() and pid <> pg_backend_pid()`
      .execute(this.kysely)
      .catch(() => {})
  }

  changesSince(cursor: string | null): Promise<HubChanges> {
    return readChanges(this.kysely, cursor)
  }

  async members(): Promise<HubMember[]> {
    const { rows } = await sql<{
      role_name: string
      project_id: string | null
      access: HubAccess
      granted_by: string
      granted_at: Date
    }>`select role_name, project_id, access, granted_by, granted_at from ${q(MEMBERS)}
       order by role_name, project_id nulls first`.execute(this.kysely)
    return rows.map((row) => ({
      role: row.role_name,
      projectId: row.project_id,
      access: row.access,
      grantedBy: row.granted_by,
      grantedAt: row.granted_at instanceof Date ? row.granted_at : new Date(row.granted_at),
    }))
  }
}
