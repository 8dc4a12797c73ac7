/**
 * The source of a new migration file (`aura-db add`): `up` and `down` ready to fill, typed like
 * the InitialCreate migration. It imports only types from 'kysely' (erased at run time) and
 * receives Kysely's `sql` tag in `ctx`, so it runs from any directory and stays frozen in time.
 */
export function migrationTemplate(name: string): string {
  return `/**
 * ${name}: say here what this migration changes and why.
 *
 * Frozen in time: never import application code. One file serves SQLite and PostgreSQL;
 * branch on \`ctx.dialect\` only where the two need different SQL. The engine runs \`up\` (and
 * \`down\`) in one transaction together with its history row.
 */
import type { Kysely, sql as SqlTag } from 'kysely'

export interface MigrationContext {
  dialect: 'sqlite' | 'postgres'
  sql: typeof SqlTag
}

export async function up(db: Kysely<any>, ctx: MigrationContext): Promise<void> {
  // e.g. await db.schema.alterTable('project_states').addColumn('tags', 'text').execute()
}

/** Undoes \`up\` exactly: up → down → up must give the schema of a straight up. */
export async function down(db: Kysely<any>, ctx: MigrationContext): Promise<void> {
  // e.g. await db.schema.alterTable('project_states').dropColumn('tags').execute()
}
`
}
