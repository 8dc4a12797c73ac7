/** What a member may do with a project's rows. */
export type HubAccess = 'read' | 'write'

/** One grant of a hub: a role's access to one project, or to every project (`projectId` null). */
export interface HubMember {
  readonly role: string
  /** The project, or null for every project, those created later included (`--all-projects`). */
  readonly projectId: string | null
  readonly access: HubAccess
  /** The role that granted it (`session_user` of the grant; the project's creator for its own). */
  readonly grantedBy: string
  readonly grantedAt: Date
}

/** One committed change of a shared row, as the hub's log records it. */
export interface HubChange {
  readonly table: string
  /** The row's key, as text. */
  readonly rowId: string
  /** The project the row belongs to; null for rows the whole team shares (custom templates). */
  readonly projectId: string | null
  readonly action: 'insert' | 'update' | 'delete'
  /** The row's version after the change (before it, for a delete); null where the table has none. */
  readonly rowVersion: number | null
  /** The role whose session made the change (`session_user`): never a value the client sent. */
  readonly changedBy: string
  readonly changedAt: Date
}

/** The changes read after a cursor, in commit-safe order, and the cursor to read from next. */
export interface HubChanges {
  readonly changes: readonly HubChange[]
  /** Pass it to the next read: it never skips a change that committed late. */
  readonly cursor: string
}

/** What `hub init` set up. */
export interface HubSetup {
  /** The group role every member belongs to: it holds CONNECT and the table privileges. */
  readonly editorsRole: string
  /** The tables whose rows members see per project (row-level security) or team-wide. */
  readonly sharedTables: readonly string[]
}

/**
 * A team hub's administration: who may see and change which project, enforced by the database
 * itself (roles, privileges, row-level security), never only by client code. PostgreSQL only;
 * see docs/sync.md.
 */
export interface HubAdministration {
  /**
   * Creates, or brings up to date, the membership table, the editors' group role, the
   * privileges and the row-level security policies; takes CONNECT on the database away from
   * PUBLIC. Repeatable. The database must be migrated.
   */
  init(): Promise<HubSetup>
  /** Whether `hub init` has run on this database. */
  isInitialised(): Promise<boolean>
  /** Whether a role of this name exists on the server. */
  roleExists(role: string): Promise<boolean>
  /** Grants `role` access to a project (or every project), and CONNECT through the editors' role. */
  grant(role: string, projectId: string | null, access: HubAccess): Promise<void>
  /**
   * Takes a grant away (a project's, or the every-project one); a role left without any grant
   * loses the editors' role, and with it CONNECT. Returns whether there was such a grant.
   */
  revoke(role: string, projectId: string | null): Promise<boolean>
  /** Every grant, by role, then project (every-project grants first). */
  members(): Promise<HubMember[]>
  /**
   * The changes committed after `cursor` (null: from the start) that the connection's role may
   * see, in commit order: a change whose transaction started earlier but committed later comes
   * after, never skipped.
   */
  changesSince(cursor: string | null): Promise<HubChanges>
}
