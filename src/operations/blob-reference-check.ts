import { sql } from 'kysely'
import type { AuraDatabase } from '../database.js'
import type { VerifyCheck } from './verify.js'

/** The columns of `project_versions` that reference a content blob. */
const HASH_COLUMNS = ['brief_hash', 'plan_hash', 'voice_hash', 'render_hash', 'timeline_hash'] as const

/** Blobs named per failed check; the rest are counted. */
const SHOWN = 10

/**
 * Every content blob's `reference_count` must be the number of live (not soft-deleted) version
 * references to it, as the library keeps it (content-blobs-repository.ts). A count too low makes
 * the deletion of the last versions fail the column's CHECK, and garbage collection remove a blob
 * still in use; a count too high keeps garbage. Each wrong count is named.
 */
export async function blobReferenceCheck(db: AuraDatabase): Promise<VerifyCheck> {
  const name = 'content blob reference counts'
  if (!(await db.dialect.hasTable('content_blobs')) || !(await db.dialect.hasTable('project_versions')))
    return { name, ok: true, detail: 'no content_blobs or project_versions table' }
  const live = db.dialect.encode('bool', false)
  const references = HASH_COLUMNS.map(
    (column) =>
      sql`(select count(*) from project_versions v where v.is_deleted = ${live} and v.${sql.ref(column)} = b.content_hash)`,
  )
  const result = await sql<{ content_hash: string; reference_count: unknown; actual: unknown }>`
    select b.content_hash, b.reference_count, ${sql.join(references, sql` + `)} as actual from content_blobs b`.execute(
    db.dialect.kysely,
  )
  const wrong = result.rows.filter((r) => Number(r.reference_count) !== Number(r.actual))
  if (wrong.length === 0) return { name, ok: true, detail: `${result.rows.length} blob(s) counted right` }
  const shown = wrong
    .slice(0, SHOWN)
    .map((r) => `${r.content_hash}: ${String(r.reference_count)}, live references ${String(r.actual)}`)
  return {
    name,
    ok: false,
    detail: `${wrong.length} of ${result.rows.length} blob(s) have a wrong reference count: ${shown.join('; ')}${wrong.length > SHOWN ? `; and ${wrong.length - SHOWN} more` : ''}`,
  }
}
