import type { AuraDatabase } from '../database.js'
import type { HubAdministration, HubChanges, HubMember, HubSetup } from '../dialect/index.js'
import { NotFoundError, UsageError, ValidationError } from '../errors.js'
import { projectStatesTable } from '../schema/project-states.js'
import { validateKey } from '../repository/validation.js'

/** Which projects a grant or a revoke is about: one project, or every project. */
export type HubScope = { readonly project: string } | { readonly allProjects: true }

/** Options of {@link grantHubAccess}. */
export type HubGrantOptions = HubScope & {
  /** Read the rows, never change them (default: read and write). */
  readonly readOnly?: boolean
}

/** The hub administration of `db`, refused before any SQL when it cannot be a hub. */
function hubOf(db: AuraDatabase): HubAdministration {
  const hub = db.dialect.hub
  if (!hub) {
    throw new UsageError(
      `A team hub is a PostgreSQL database; ${db.dialect.location} is not one (docs/sync.md).`,
    )
  }
  return hub
}

async function initialisedHubOf(db: AuraDatabase): Promise<HubAdministration> {
  const hub = hubOf(db)
  if (!(await hub.isInitialised())) {
    throw new UsageError(
      `${db.dialect.location} is not a hub yet: run \`aura-db hub init\` on it first (as its owner).`,
    )
  }
  return hub
}

/** A role name as PostgreSQL takes it: any text of 1 to 63 bytes without NUL. */
function roleName(role: unknown): string {
  if (
    typeof role !== 'string' ||
    role.length === 0 ||
    role.includes('\u0000') ||
    Buffer.byteLength(role) > 63
  ) {
    throw new ValidationError(
      `A role is a PostgreSQL role name of 1 to 63 bytes (got ${JSON.stringify(role)}).`,
      'role',
    )
  }
  return role
}

/** The project of a scope, or null for every project. */
function scopeProject(scope: unknown): string | null {
  const given = scope as Partial<{ project: unknown; allProjects: unknown }> | null
  if (
    typeof given !== 'object' ||
    given === null ||
    (given.project !== undefined) === (given.allProjects === true)
  ) {
    throw new ValidationError(
      'Name either one project ({ project: id }) or every project ({ allProjects: true }).',
      'project',
    )
  }
  return given.allProjects === true ? null : (validateKey(projectStatesTable, given.project) as string)
}

async function assertRoleExists(hub: HubAdministration, role: string): Promise<void> {
  if (!(await hub.roleExists(role))) {
    throw new ValidationError(
      `There is no role ${JSON.stringify(role)} on this server: create it first (CREATE ROLE … LOGIN PASSWORD …), then grant it.`,
      'role',
    )
  }
}

/**
 * Makes the open PostgreSQL database a team hub (`aura-db hub init`): migrates it, then sets up
 * membership, privileges and row-level security (docs/sync.md, "Setting up a hub").
 * Repeatable; run it as the database's owner, after every upgrade of Aura Data.
 */
export async function initHub(db: AuraDatabase): Promise<HubSetup> {
  const hub = hubOf(db)
  await db.migrate()
  return hub.init()
}

/**
 * Grants `role` (an existing PostgreSQL login role) access to one project or to every project,
 * those created later included: it may then connect, see those projects' rows and, unless
 * `readOnly`, change them. A second grant of the same scope replaces the first.
 */
export async function grantHubAccess(
  db: AuraDatabase,
  role: string,
  options: HubGrantOptions,
): Promise<void> {
  const name = roleName(role)
  const project = scopeProject(options)
  const hub = await initialisedHubOf(db)
  await assertRoleExists(hub, name)
  if (project !== null && !(await db.projectStates.getById(project, { includeDeleted: true }))) {
    throw new NotFoundError('project_states', project)
  }
  await hub.grant(name, project, options.readOnly === true ? 'read' : 'write')
}

/**
 * Takes a grant away. A role left with no grant loses CONNECT too. Returns whether there was
 * such a grant.
 */
export async function revokeHubAccess(db: AuraDatabase, role: string, scope: HubScope): Promise<boolean> {
  const name = roleName(role)
  const project = scopeProject(scope)
  const hub = await initialisedHubOf(db)
  await assertRoleExists(hub, name)
  return hub.revoke(name, project)
}

/** Every grant of the hub (`aura-db hub members`). */
export async function hubMembers(db: AuraDatabase): Promise<HubMember[]> {
  return (await initialisedHubOf(db)).members()
}

/**
 * The changes committed on the hub after `cursor` (from the start when omitted) that the role
 * connected may see: each shared row's insert, update or delete, with the role whose session made
 * it, in commit order. Pass the returned `cursor` to the next call: a change that committed
 * late (its transaction started before another that committed first) comes in a later read,
 * never skipped. The building block of a sync's pull.
 */
export async function hubChangesSince(db: AuraDatabase, cursor?: string): Promise<HubChanges> {
  if (cursor !== undefined && (typeof cursor !== 'string' || !/^[0-9]{1,20}$/.test(cursor))) {
    throw new ValidationError(
      `A hub cursor is the text a previous read returned (got ${JSON.stringify(cursor)}).`,
      'cursor',
    )
  }
  return (await initialisedHubOf(db)).changesSince(cursor ?? null)
}
