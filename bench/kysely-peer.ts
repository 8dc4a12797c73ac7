/**
 * The peer reference: the benchmarked operations as an application that uses Kysely directly,
 * without Aura Data, runs them, on its own Kysely instance over the same database. It measures
 * what the library costs against the tool a team would otherwise reach for, where the raw
 * driver measures the limit.
 *
 * - Reads build the library's statements with Kysely's query builder and compile them on every
 *   call, as a Kysely application does; the suites check that they are exactly the raw
 *   reference's statements, so the three sides differ only in what runs around the SQL.
 * - Writes do the same job the way a Kysely application does it: the project and its scenes as
 *   two inserts (the scenes as one multi-row insert) in one transaction, an edit or a soft
 *   delete as one version-checked `UPDATE … RETURNING *`; no audit rows (the library writes them
 *   too), so their statements are reported, not compared.
 * - Versions have no peer: content-addressed snapshots are the library's own feature.
 */
import { randomUUID } from 'node:crypto'
import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely'
import type { DatasetIndex } from './dataset.js'
import type { PeerOperation } from './operations.js'
import { columnNames } from './statements.js'
import { exportQueryOf, pick, PROJECT_STATUSES, sceneText, templateSearchOf } from './operations.js'

/** What differs between the dialects for the peer: driver values and the library's SQL spellings. */
interface PeerDialect {
  /** The boolean false and true as the driver takes them. */
  readonly no: unknown
  readonly yes: unknown
  /** The current instant as the library stores it. */
  now(): unknown
  /** An instant as the library binds it. */
  instant(date: Date): unknown
  /** The library's default soft-delete filter on `column` (where no live-row index serves the query). */
  notDeleted(column: string): Expression<SqlBool>
  /** The full-text condition of the template search and its bound value. */
  textMatch(text: string): Expression<SqlBool>
  /** Whether the template's tags hold `tag`. */
  hasTag(tag: string): Expression<SqlBool>
}

const SQLITE: PeerDialect = {
  no: 0,
  yes: 1,
  now: () => new Date().toISOString(),
  instant: (date) => date.toISOString(),
  notDeleted: (column) => sql<SqlBool>`+${sql.ref(column)} = ${0}`,
  textMatch: (text) =>
    sql<SqlBool>`${sql.ref('templates.rowid')} in (select rowid from "templates_fts" where "templates_fts" match ${ftsWords(text, (w) => `"${w.replace(/"/g, '""')}"*`, ' ')})`,
  hasTag: (tag) => sql<SqlBool>`instr(',' || lower(${sql.ref('templates.tags')}) || ',', ${`,${tag},`}) > 0`,
}

const POSTGRES: PeerDialect = {
  no: false,
  yes: true,
  now: () => new Date(),
  instant: (date) => date,
  notDeleted: (column) => sql<SqlBool>`${sql.ref(column)} = ${false}`,
  textMatch: (text) =>
    sql<SqlBool>`to_tsvector('simple', regexp_replace(${sql.ref('templates.name')} || ' ' || ${sql.ref('templates.description')}, '[^[:alnum:]]+', ' ', 'g')) @@ to_tsquery('simple', ${ftsWords(text, (w) => `${w}:*`, ' & ')})`,
  hasTag: (tag) =>
    sql<SqlBool>`strpos(',' || translate(${sql.ref('templates.tags')}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') || ',', ${`,${tag},`}) > 0`,
}

/** The words of a search text, each turned into a term, joined. */
function ftsWords(text: string, term: (word: string) => string, join: string): string {
  return (text.match(/[\p{L}\p{N}\p{M}]+/gu) ?? []).map(term).join(join)
}

const ACTOR = 'bench'

/** The columns the library selects instead of `*`, qualified as it writes them. */
const PROJECT_COLUMNS = columnNames('project_states').map((c) => `project_states.${c}`)
const SCENE_COLUMNS = columnNames('scene_states').map((c) => `scene_states.${c}`)

/** The peer of each operation that has one, by operation name. */
export function kyselyOperations(
  db: Kysely<any>,
  dialect: 'sqlite' | 'postgres',
  index: DatasetIndex,
): Record<string, PeerOperation> {
  const d = dialect === 'sqlite' ? SQLITE : POSTGRES
  const { projectIds, updateTargets, deleteTargets } = index
  const versions = new Map<string, number>()
  const status = (i: number) => PROJECT_STATUSES[i % PROJECT_STATUSES.length]!
  const liveWithStatus = (i: number) => (eb: ExpressionBuilder<any, 'project_states'>) =>
    eb.and([eb('project_states.status', '=', status(i)), eb('project_states.is_deleted', '=', sql.lit(d.no))])
  const reads: Record<string, (i: number) => Promise<unknown>> = {
    'project by id': (i) =>
      db
        .selectFrom('project_states')
        .select(PROJECT_COLUMNS)
        .where((eb) =>
          eb.and([
            eb('project_states.id', '=', projectIds[pick(i, projectIds.length)]!),
            d.notDeleted('project_states.is_deleted'),
          ]),
        )
        .limit(sql.lit(1))
        .executeTakeFirst(),
    'projects by status (page of 50)': (i) =>
      db
        .selectFrom('project_states')
        .select(PROJECT_COLUMNS)
        .where(liveWithStatus(i))
        .orderBy('project_states.updated_at', 'desc')
        .orderBy('project_states.id', 'asc')
        .limit(sql.lit(50))
        .execute(),
    'scenes of a project': (i) =>
      db
        .selectFrom('scene_states')
        .select(SCENE_COLUMNS)
        .where((eb) =>
          eb.and([
            eb('scene_states.project_id', '=', projectIds[pick(i, projectIds.length)]!),
            eb.exists(
              eb
                .selectFrom('project_states as parent')
                .select(eb.lit(1).as('one'))
                .whereRef('parent.id', '=', 'scene_states.project_id')
                .where('parent.is_deleted', '=', d.no),
            ),
          ]),
        )
        .orderBy('scene_states.scene_index', 'asc')
        .orderBy('scene_states.id', 'asc')
        .execute(),
    'count by status': (i) =>
      db
        .selectFrom('project_states')
        .select((eb) => eb.fn.countAll().as('n'))
        .where(liveWithStatus(i))
        .executeTakeFirst(),
    'template search': (i) => {
      const { text, tags } = templateSearchOf(i)
      return db
        .selectFrom('templates')
        .selectAll('templates')
        .where(d.textMatch(text))
        .where((eb) => eb.or(tags.map((tag) => d.hasTag(tag))))
        .orderBy('templates.usage_count', 'desc')
        .orderBy('templates.rating', 'desc')
        .orderBy('templates.name', 'asc')
        .orderBy('templates.id', 'asc')
        .limit(50)
        .execute()
    },
    'export history query': (i) => {
      const { status: statuses, from, to } = exportQueryOf(i)
      const branches = statuses.map((one, n) =>
        db
          .selectFrom(
            db
              .selectFrom('export_history')
              .selectAll('export_history')
              .where((eb) =>
                eb.and([
                  eb('export_history.status', '=', one),
                  eb('export_history.created_at', '>=', d.instant(from)),
                  eb('export_history.created_at', '<', d.instant(to)),
                ]),
              )
              .orderBy('export_history.created_at', 'desc')
              .orderBy('export_history.id', 'desc')
              .limit(sql.lit(50))
              .as(`s${n}`),
          )
          .selectAll(),
      )
      return branches
        .slice(1)
        .reduce((q, next) => q.unionAll(next), branches[0]!)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(sql.lit(50))
        .offset(0)
        .execute()
    },
  }

  /** `UPDATE project_states SET … WHERE id = ? AND row_version = ? RETURNING *`; no row back is a conflict. */
  const versionChecked = async (id: string, rowVersion: number, set: Record<string, unknown>) => {
    const row = await db
      .updateTable('project_states')
      .set({ ...set, updated_at: d.now(), modified_by: ACTOR, row_version: sql`row_version + 1` })
      .where('id', '=', id)
      .where('row_version', '=', rowVersion)
      .returning(columnNames('project_states'))
      .executeTakeFirst()
    if (!row) throw new Error(`project ${id} changed or is missing`)
    return row as { row_version: number }
  }

  const jobs: Record<string, (i: number) => Promise<unknown>> = {
    'add project + 10 scenes': (i) =>
      db.transaction().execute(async (trx) => {
        const now = d.now()
        const project = await trx
          .insertInto('project_states')
          .values({
            id: randomUUID(),
            title: `Kysely project ${i}`,
            description: 'Added by the benchmark',
            status: 'Draft',
            brief_json: '{"topic":"benchmark"}',
            created_at: now,
            updated_at: now,
            created_by: ACTOR,
            modified_by: ACTOR,
            row_version: 1,
            is_deleted: d.no,
          })
          .returning(columnNames('project_states'))
          .executeTakeFirstOrThrow()
        return trx
          .insertInto('scene_states')
          .values(
            Array.from({ length: 10 }, (_, s) => ({
              id: randomUUID(),
              project_id: project.id as string,
              scene_index: s,
              script_text: sceneText(s),
              created_at: now,
              updated_at: now,
              created_by: ACTOR,
              modified_by: ACTOR,
              row_version: 1,
            })),
          )
          .returning(columnNames('scene_states'))
          .execute()
      }),
    'update with version check': async (i) => {
      const id = updateTargets.kysely[i % updateTargets.kysely.length]!
      const updated = await versionChecked(id, versions.get(id) ?? 1, { title: `Kysely edit ${i}` })
      versions.set(id, updated.row_version)
    },
    'soft delete with version check': (i) => {
      const now = d.now()
      return versionChecked(deleteTargets.kysely[i]!, 1, {
        is_deleted: d.yes,
        deleted_at: now,
        deleted_by: ACTOR,
      })
    },
  }

  return {
    ...Object.fromEntries(Object.entries(reads).map(([name, fn]) => [name, { fn, compare: 'statements' }])),
    ...Object.fromEntries(Object.entries(jobs).map(([name, fn]) => [name, { fn, compare: 'job' }])),
  } as Record<string, PeerOperation>
}
