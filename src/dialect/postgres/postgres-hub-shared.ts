import { sql, type RawBuilder } from 'kysely'
import { quoteString } from '../script-literals.js'

/**
 * The tables a hub shares, each with the column that names the project a row belongs to (null:
 * shared by the whole team). Its row-level security, privileges and change log follow this list.
 * Content blobs are shared too, but through the versions that reference them: see postgres-hub.ts.
 */
export const SHARED_TABLES: readonly (readonly [table: string, projectColumn: string | null])[] = [
  ['project_states', 'id'],
  ['scene_states', 'project_id'],
  ['asset_states', 'project_id'],
  ['project_versions', 'project_id'],
  ['custom_templates', null],
]

/**
 * `CREATE OR REPLACE FUNCTION <signature> … SECURITY DEFINER`, with the search path pinned to the
 * hub's schema: the hub's functions run as its owner, to read and write what no member may.
 * `kind` is what follows RETURNS: the return type, language and volatility.
 */
export function definerFunction(
  schema: string,
  signature: string,
  kind: string,
  body: string,
): RawBuilder<unknown> {
  return sql.raw(
    `create or replace function ${signature} returns ${kind} security definer ` +
      `set search_path = ${quoteString(schema)} as $aura$ ${body} $aura$`,
  )
}
