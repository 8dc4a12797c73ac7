import type { AuraDialect } from '../dialect/index.js'
import { NotFoundError } from '../errors.js'
import { txRows, type Row, type Session, type TxContext } from './session.js'

/**
 * Reads the project row inside `tx` and, where writers run concurrently (PostgreSQL), locks it
 * until the transaction ends, so that writers of one project's version numbers, action
 * sequences and scene order take turns. Returns the row (soft-deleted ones too), or undefined.
 *
 * `FOR NO KEY UPDATE` rather than `FOR UPDATE`: inserting a child row (a scene, a version)
 * takes a `FOR KEY SHARE` lock on the project through its foreign key. Two transactions that
 * both inserted a child and then asked for `FOR UPDATE` would deadlock; `FOR NO KEY UPDATE`
 * does not conflict with `FOR KEY SHARE`. Where writers are serialised already (SQLite's
 * `BEGIN IMMEDIATE`), the plain read suffices.
 */
export async function lockProject(
  tx: TxContext,
  session: Pick<Session, 'dialect' | 'cache'>,
  projectId: string,
): Promise<Row | undefined> {
  const lock = !session.dialect.capabilities.singleWriter
  const query = session.cache.compile(`project_states:lock:${lock}`, [projectId], (v) => {
    const q = tx.db.selectFrom('project_states').selectAll().where('id', '=', v(0))
    return lock ? q.forNoKeyUpdate() : q
  })
  return (await txRows(tx, query))[0]
}

/**
 * Serialises writers of state that belongs to no project row (undo history of project-less
 * actions) on the single `system_configuration` row (id 1, created by the first migration).
 */
export async function lockGlobal(tx: TxContext, dialect: AuraDialect): Promise<void> {
  if (dialect.capabilities.singleWriter) return
  await tx.db.selectFrom('system_configuration').select('id').where('id', '=', 1).forNoKeyUpdate().execute()
}

/** {@link lockProject}, for a project that must exist and not be soft-deleted (NotFoundError otherwise). */
export async function lockLiveProject(
  tx: TxContext,
  session: Pick<Session, 'dialect' | 'cache'>,
  projectId: string,
): Promise<Row> {
  const project = await lockProject(tx, session, projectId)
  if (!project || session.dialect.decode('bool', project.is_deleted))
    throw new NotFoundError('project_states', projectId)
  return project
}
