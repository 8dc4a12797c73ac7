import type { Command } from 'commander'
import { grantHubAccess, hubMembers, initHub, revokeHubAccess, type HubScope } from '../../operations/hub.js'
import { action } from '../program.js'

/**
 * `--project ID` or `--all-projects` as the library's scope. Both or neither are passed on as
 * given (hence the cast): the library refuses them with its own message, exit 2.
 */
function scopeOf(options: { project?: string; allProjects?: boolean }): HubScope {
  return (
    options.allProjects ? { allProjects: true, project: options.project } : { project: options.project }
  ) as HubScope
}

/**
 * `aura-db hub …`: a team's PostgreSQL hub (docs/sync.md): `init` sets it up, `grant` and
 * `revoke` say which editor role may see and change which project, `members` lists them. Run as
 * the hub database's owner.
 */
export function registerHub(program: Command): void {
  const hub = program
    .command('hub')
    .description("administer a team's PostgreSQL hub: who may see and change which project (docs/sync.md)")

  hub
    .command('init')
    .description('migrate the hub and set up membership, privileges and row-level security (repeatable)')
    .action(
      action(async (cli) => {
        const setup = await cli.withDatabase((db) => initHub(db))
        cli.out.report({ ...setup }, () => {
          cli.out.line(`The hub is ready: members connect through the role ${setup.editorsRole}.`)
          cli.out.line(`Shared per project or with the team: ${setup.sharedTables.join(', ')}.`)
        })
      }),
    )

  hub
    .command('grant')
    .argument(
      '<role>',
      'the editor’s PostgreSQL login role (create it first: CREATE ROLE … LOGIN PASSWORD …)',
    )
    .description('let a role see and change one project, or every project')
    .option('--project <id>', 'the project')
    .option('--all-projects', 'every project, those created later included')
    .option('--read-only', 'see the rows, never change them')
    .action(
      action(
        async (
          cli,
          role: string,
          options: { project?: string; allProjects?: boolean; readOnly?: boolean },
        ) => {
          await cli.withDatabase((db) =>
            grantHubAccess(db, role, { ...scopeOf(options), readOnly: options.readOnly }),
          )
          const what = options.allProjects ? 'every project' : `project ${options.project}`
          const access = options.readOnly ? 'read' : 'write'
          cli.out.report({ role, project: options.allProjects ? null : options.project, access }, () =>
            cli.out.line(`Granted ${role} ${access} access to ${what}.`),
          )
        },
      ),
    )

  hub
    .command('revoke')
    .argument('<role>', 'the editor’s PostgreSQL role')
    .description('take a grant away; a role left with none can no longer connect')
    .option('--project <id>', 'the project')
    .option('--all-projects', 'the every-project grant')
    .action(
      action(async (cli, role: string, options: { project?: string; allProjects?: boolean }) => {
        const removed = await cli.withDatabase((db) => revokeHubAccess(db, role, scopeOf(options)))
        const what = options.allProjects ? 'every project' : `project ${options.project}`
        cli.out.report({ role, project: options.allProjects ? null : options.project, removed }, () =>
          cli.out.line(
            removed ? `Revoked ${role}'s access to ${what}.` : `${role} had no grant for ${what}.`,
          ),
        )
      }),
    )

  hub
    .command('members')
    .description('list every grant: role, project (or every project), access, who granted it and when')
    .action(
      action(async (cli) => {
        const members = await cli.withDatabase((db) => hubMembers(db), { readOnly: true })
        cli.out.report(
          {
            members: members.map((m) => ({ ...m, grantedAt: m.grantedAt.toISOString() })),
          },
          () => {
            if (members.length === 0) {
              cli.out.line('No members yet: `aura-db hub grant ROLE --project ID` adds one.')
              return
            }
            cli.out.table(
              ['role', 'project', 'access', 'granted by', 'granted at'],
              members.map((m) => [
                m.role,
                m.projectId ?? '(every project)',
                m.access,
                m.grantedBy,
                m.grantedAt.toISOString(),
              ]),
            )
          },
        )
      }),
    )
}
