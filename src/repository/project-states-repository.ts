import { sql } from 'kysely'
import { adjustReferences, versionHashes } from './blob-references.js'
import { lockLiveProject } from './project-lock.js'
import { projectUpdateAction } from '../domain/undo-actions.js'
import { ValidationError } from '../errors.js'
import type { AssetState } from '../schema/asset-states.js'
import type { TableDef } from '../schema/define.js'
import { projectOwnershipOf } from '../schema/project-ownership.js'
import {
  type ProjectState,
  type ProjectStatesTable,
  type NewProjectState,
  type ProjectStateUpdate,
} from '../schema/project-states.js'
import type { RenderCheckpoint } from '../schema/render-checkpoints.js'
import type { SceneState } from '../schema/scene-states.js'
import type { Repository } from './repository.js'
import { SoftDeleteRepository } from './soft-delete-repository.js'
import { trackEdit, type Row, type Session, type TxContext } from './session.js'
import { checkQuery } from './filter.js'
import { validateInsert, validateKey, validateUpdate } from './validation.js'

/** Paging of `getIncomplete`: a page size and where the previous page ended. */
export interface IncompleteOptions {
  /** At most this many projects (1 to 1000); all of them when omitted. */
  readonly limit?: number
  /** The last project of the previous page: the page starts right after it, in the same order. */
  readonly after?: Pick<ProjectState, 'id' | 'updatedAt'>
}

const MAX_PAGE = 1000

/** A project with its scenes (by index), assets and checkpoints (newest first). */
export interface ProjectWithDetails extends ProjectState {
  readonly scenes: SceneState[]
  readonly assets: AssetState[]
  readonly checkpoints: RenderCheckpoint[]
}

const TERMINAL = new Set(['Completed', 'Failed', 'Cancelled'])

/** Fields of the app's later ProjectStates columns that a duplicate keeps, where the schema has them. */
const COPIED_LATER_FIELDS = ['category', 'tags', 'templateId', 'thumbnailPath'] as const

/** The repository of `project_states`, with the specialised queries of the original design. */
export class ProjectStatesRepository extends SoftDeleteRepository<
  ProjectStatesTable,
  ProjectState,
  NewProjectState,
  ProjectStateUpdate
> {
  constructor(
    table: ProjectStatesTable,
    session: Session,
    private readonly children: {
      scenes: Repository<any, SceneState>
      assets: Repository<any, AssetState>
      checkpoints: Repository<any, RenderCheckpoint>
    },
    /** The tables whose rows belong to a project (see `RepositoryOptions.projectChildren`). */
    private readonly childTables: readonly TableDef[],
  ) {
    super(table, session)
  }

  /** The project with scenes by index, assets, and checkpoints newest first; null when absent or deleted. */
  async getWithDetails(id: string): Promise<ProjectWithDetails | null> {
    const project = await this.getById(id)
    if (!project) return null
    const [scenes, assets, checkpoints] = await Promise.all([
      this.children.scenes.find({ projectId: project.id }, { orderBy: { sceneIndex: 'asc' } }),
      this.children.assets.find({ projectId: project.id }, { orderBy: { createdAt: 'asc' } }),
      this.children.checkpoints.find({ projectId: project.id }, { orderBy: { checkpointTime: 'desc' } }),
    ])
    return { ...project, scenes, assets, checkpoints }
  }

  /**
   * Copies a project as a new one, with its scenes and assets (new ids, same content and
   * order), in one transaction: the app's "Duplicate". The copy starts over as a `Draft` with no
   * job, progress, completion or error; its versions, checkpoints and history stay with the
   * original. `title` defaults to the original's followed by " (copy)". A missing or
   * soft-deleted project is a NotFoundError.
   *
   * @example
   * const copy = await db.projectStates.duplicate(project.id, { title: 'Second cut' })
   */
  async duplicate(id: string, options: { title?: string } = {}): Promise<ProjectWithDetails> {
    const key = validateKey(this.table, id) as string
    return this.session.write(async (tx) => {
      const source = this.fromRow(await lockLiveProject(tx, this.session, key))
      const values = validateInsert(this.table, {
        title: options.title ?? `${source.title} (copy)`,
        description: source.description,
        currentWizardStep: source.currentWizardStep,
        currentStage: null,
        briefJson: source.briefJson,
        planSpecJson: source.planSpecJson,
        voiceSpecJson: source.voiceSpecJson,
        renderSpecJson: source.renderSpecJson,
        ...Object.fromEntries(
          COPIED_LATER_FIELDS.filter((f) => f in this.table.columns).map((f) => [
            f,
            (source as Record<string, unknown>)[f],
          ]),
        ),
      })
      const copy = await this.insertIn(tx, values)
      const rows = async (table: string, order: string) =>
        tx.db
          .selectFrom(table)
          .selectAll()
          .where('project_id', '=', key)
          .orderBy(order)
          .orderBy('id')
          .execute()
      // Each list in one multi-row insert where the dialect has them (see `addRange`).
      const scenes = await this.children.scenes.insertManyIn(
        tx,
        (await rows('scene_states', 'scene_index')).map((row) => {
          const scene = this.children.scenes.fromRow(row)
          return {
            projectId: copy.id,
            sceneIndex: scene.sceneIndex,
            scriptText: scene.scriptText,
            audioFilePath: scene.audioFilePath,
            imageFilePath: scene.imageFilePath,
            durationSeconds: scene.durationSeconds,
            isCompleted: scene.isCompleted,
          }
        }),
      )
      const assets = await this.children.assets.insertManyIn(
        tx,
        (await rows('asset_states', 'created_at')).map((row) => {
          const asset = this.children.assets.fromRow(row)
          return {
            projectId: copy.id,
            assetType: asset.assetType,
            filePath: asset.filePath,
            fileSizeBytes: asset.fileSizeBytes,
            mimeType: asset.mimeType,
            isTemporary: asset.isTemporary,
          }
        }),
      )
      return { ...copy, scenes, assets, checkpoints: [] }
    })
  }

  /** The visible project running job `jobId`, or null. */
  async getByJobId(jobId: string): Promise<ProjectState | null> {
    return this.firstOrDefault({ jobId }, { orderBy: { updatedAt: 'desc' } })
  }

  /**
   * Projects in progress, most recently updated first (ties by id), from the index of live
   * projects by status and update time: a page costs its own rows, whatever the number of
   * projects. Without `limit` every project in progress is returned (a cost that grows with
   * them); with `limit` and `after` the list is read page by page (keyset paging: a page starts
   * at the previous page's last project, so projects that change between pages are neither
   * skipped nor repeated by an offset).
   *
   * @example
   * let page = await db.projectStates.getIncomplete({ limit: 100 })
   * while (page.length === 100) {
   *   page = await db.projectStates.getIncomplete({ limit: 100, after: page[page.length - 1] })
   * }
   */
  async getIncomplete(options: IncompleteOptions = {}): Promise<ProjectState[]> {
    if (typeof options !== 'object' || options === null) {
      throw new ValidationError('project_states.getIncomplete expects { limit?, after? }')
    }
    const { limit, after } = options
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)) {
      throw new ValidationError(
        `project_states.getIncomplete limit must be an integer from 1 to ${MAX_PAGE}`,
        'limit',
      )
    }
    const order = { orderBy: { updatedAt: 'desc' }, ...(limit === undefined ? {} : { limit }) } as const
    if (after === undefined) return this.find({ status: 'InProgress' }, order)
    if (
      typeof after !== 'object' ||
      after === null ||
      !(after.updatedAt instanceof Date) ||
      Number.isNaN(after.updatedAt.getTime())
    ) {
      throw new ValidationError(
        'project_states.getIncomplete after must be the last project of the previous page ({ id, updatedAt })',
        'after',
      )
    }
    const id = validateKey(this.table, after.id)
    const dialect = this.session.dialect
    const checked = checkQuery(this.table, dialect, { status: 'InProgress' }, order)
    const visibility = this.visibilityValues({}, checked)
    const at = checked.values.length + visibility.length
    const values = [...checked.values, ...visibility, dialect.encode('timestamp', after.updatedAt), id]
    const found = this.session.rows((db) =>
      this.session.cache.compile(`project_states:incomplete-after:${checked.limit}`, values, (v) => {
        // `updated_at <= ?` first: a range the index seeks to, so the page starts at the cursor
        // instead of skipping the rows before it; the second term drops the cursor's earlier ties.
        let q = db
          .selectFrom(this.table.name)
          .select(this.columnsOf(this.table.name))
          .where((eb) =>
            eb.and([
              ...this.conditions(eb, checked, v, {}),
              eb('project_states.updated_at', '<=', v(at)),
              eb.or([eb('project_states.updated_at', '<', v(at)), eb('project_states.id', '>', v(at + 1))]),
            ]),
          )
        for (const o of checked.order) q = q.orderBy(`${this.table.name}.${o.column}`, o.direction)
        return checked.limit === null ? q : q.limit(sql.lit(checked.limit))
      }),
    )
    const rows = await found
    return rows.map((row) => this.fromRow(row))
  }

  /** The distinct categories of visible projects, in code-point order (projects without one are skipped). */
  async listCategories(): Promise<string[]> {
    const rows = await this.#visibleColumn('category')
    // Sorted here: PostgreSQL's collation and SQLite's BINARY order text differently.
    return rows.map((row) => row.category as string).sort(byCodePoint)
  }

  /**
   * The distinct tags of visible projects, in code-point order. `tags` holds a comma-separated
   * list (`travel,summer`); each element is trimmed and empty ones are ignored. The lists are
   * read whole and split here: a tag is an element of a list, which neither dialect indexes.
   */
  async listTags(): Promise<string[]> {
    const rows = await this.#visibleColumn('tags')
    return [...new Set(rows.flatMap((row) => splitTags(row.tags as string)))].sort(byCodePoint)
  }

  /**
   * Visible projects carrying `tag` as one element of their `tags` list (not as part of a longer
   * tag: `sun` does not find `sunset`), most recently updated first. The database narrows to lists
   * containing the text (`tags` `contains`), the exact element match is made here.
   */
  async findByTag(tag: string): Promise<ProjectState[]> {
    if (typeof tag !== 'string' || tag.trim() === '' || tag.includes(',') || tag.length > 1000) {
      throw new ValidationError(
        'project_states.findByTag expects one tag: a non-blank string without commas, at most 1000 characters',
        'tags',
      )
    }
    const wanted = tag.trim()
    const candidates = await this.find({ tags: { contains: wanted } }, { orderBy: { updatedAt: 'desc' } })
    return candidates.filter((project) => splitTags(project.tags ?? '').includes(wanted))
  }

  /** Distinct non-null values of one column over the visible projects. */
  async #visibleColumn(column: 'category' | 'tags'): Promise<Row[]> {
    const no = this.session.dialect.encode('bool', false)
    const found = this.session.rows((db) =>
      db
        .selectFrom('project_states')
        .select(column)
        .distinct()
        .where('is_deleted', '=', no)
        .where(column, 'is not', null)
        .compile(),
    )
    return Array.isArray(found) ? found : await found
  }

  /** Projects with `status` not updated for `olderThanMs` milliseconds, oldest first. */
  async getOldByStatus(status: ProjectState['status'], olderThanMs: number): Promise<ProjectState[]> {
    return this.find({ status, updatedAt: { lt: cutoff(olderThanMs) } }, { orderBy: { updatedAt: 'asc' } })
  }

  /**
   * Temporary assets created more than `olderThanMs` ago: files a finished or abandoned render
   * left behind, candidates for clean-up. Assets of a project still running (`InProgress`) are
   * never returned: its pipeline may still be using them, however old they are.
   */
  async getOrphanedAssets(olderThanMs: number): Promise<AssetState[]> {
    const before = cutoff(olderThanMs)
    const dialect = this.session.dialect
    const rows = await this.session.read((db) =>
      db
        .selectFrom('asset_states')
        .selectAll()
        .where('is_temporary', '=', dialect.encode('bool', true))
        .where('created_at', '<', dialect.encode('timestamp', before))
        // As every read: assets of a soft-deleted project are hidden with it.
        .where((eb) =>
          eb.exists(
            eb
              .selectFrom('project_states')
              .select('project_states.id')
              .whereRef('project_states.id', '=', 'asset_states.project_id')
              .where('project_states.status', '<>', 'InProgress')
              .where('project_states.is_deleted', '=', dialect.encode('bool', false)),
          ),
        )
        .orderBy('created_at', 'asc')
        .orderBy('id', 'asc')
        .execute(),
    )
    return rows.map((row) => this.children.assets.fromRow(row))
  }

  /**
   * Sets the status (and error message); a terminal status (Completed, Failed, Cancelled) sets
   * `completedAt`, a non-terminal one clears it. A missing project is a NotFoundError.
   */
  async updateStatus(
    id: string,
    status: ProjectState['status'],
    errorMessage?: string | null,
  ): Promise<ProjectState> {
    const { key } = validateUpdate(this.table, { id, rowVersion: 1, status, errorMessage })
    return this.session.write(async (tx) => {
      const row = await this.currentRow(tx, key)
      this.assertWritable(row, key, null)
      const changes: Record<string, unknown> = { status, completedAt: TERMINAL.has(status) ? tx.now : null }
      if (errorMessage !== undefined) changes.errorMessage = errorMessage
      return this.updateIn(tx, key, Number(row.row_version), changes)
    })
  }

  /**
   * Updates the project; recorded as `ProjectUpdate` when the unit tracks this project (`uow.trackActions`).
   * @internal
   */
  override async updateIn(
    tx: TxContext,
    key: unknown,
    rowVersion: number | null,
    changes: Record<string, unknown>,
  ): Promise<ProjectState> {
    if (!tx.tracking) return super.updateIn(tx, key, rowVersion, changes)
    const row = await this.currentRow(tx, key)
    const updated = await super.updateIn(tx, key, rowVersion, changes)
    if (row) await trackEdit(tx, updated.id, projectUpdateAction(this.table, this.fromRow(row), updated))
    return updated
  }

  /** Before a project is purged: its versions give up their blob references. */
  protected override async beforePurge(tx: TxContext, row: Row): Promise<void> {
    const versions = await tx.db
      .selectFrom('project_versions')
      .selectAll()
      .where('project_id', '=', row.id)
      .where('is_deleted', '=', this.session.dialect.encode('bool', false))
      .execute()
    await adjustReferences(tx, this.session, versions.flatMap(versionHashes), -1)
  }

  /** The project's history and that of every child row, and its undo/redo log, are erased too. */
  protected override async eraseHistory(tx: TxContext, key: unknown): Promise<void> {
    await super.eraseHistory(tx, key)
    for (const child of this.childTables) {
      await tx.db
        .deleteFrom('audit_entries')
        .where('table_name', '=', child.name)
        .where('row_id', 'in', childIds(tx, child, key))
        .execute()
    }
    await this.eraseActionLog(tx, key)
  }

  /**
   * Deletes the undo/redo actions that name the project, with their own audit entries: those of
   * its histories (`project_id`), and any other action whose affected ids or payloads name the
   * project or one of its rows (scenes, assets, checkpoints, versions), since payloads hold
   * titles and scripts. Runs before the rows cascade away, while their ids can still be read.
   */
  private async eraseActionLog(tx: TxContext, key: unknown): Promise<void> {
    const named = this.childTables.reduce(
      (ids, child) => ids.unionAll(childIds(tx, child, key)),
      tx.db.selectNoFrom(sql<string>`cast(${key} as text)`.as('id')),
    )
    // Ids are lower-case UUIDs without LIKE wildcards; a caller may have recorded them in upper case.
    const mentions = (column: string) =>
      sql<boolean>`lower(${sql.ref(`action_logs.${column}`)}) like '%' || ${sql.ref('named.id')} || '%'`
    const actions = tx.db
      .selectFrom('action_logs')
      .select(sql<string>`cast(action_logs.id as text)`.as('id'))
      .where((eb) =>
        eb.or([
          eb('action_logs.project_id', '=', key),
          eb.exists(
            eb
              .selectFrom(named.as('named'))
              .select(sql.lit(1).as('one'))
              .where((inner) =>
                inner.or([
                  mentions('affected_resource_ids'),
                  mentions('payload_json'),
                  mentions('inverse_payload_json'),
                ]),
              ),
          ),
        ]),
      )
    const ids = (await actions.execute()).map((row) => row.id)
    for (let at = 0; at < ids.length; at += ERASE_BATCH) {
      const batch = ids.slice(at, at + ERASE_BATCH)
      await tx.db
        .deleteFrom('audit_entries')
        .where('table_name', '=', 'action_logs')
        .where('row_id', 'in', batch)
        .execute()
      await tx.db.deleteFrom('action_logs').where('id', 'in', batch).execute()
    }
  }
}

/** The elements of a comma-separated tag list, trimmed, without empty ones. */
function splitTags(tags: string): string[] {
  return tags
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')
}

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** Ids per statement when erasing a list of rows (well below both databases' parameter limits). */
const ERASE_BATCH = 500

/** `select cast(<key> as text) as id from <child> where <project column> = key`. */
function childIds(tx: TxContext, child: TableDef, key: unknown) {
  const { column } = projectOwnershipOf(child)!
  const primaryKey = child.columns[child.primaryKey]!.column
  return tx.db
    .selectFrom(child.name)
    .select(sql<string>`cast(${sql.ref(primaryKey)} as text)`.as('id'))
    .where(column, '=', key)
}

function cutoff(olderThanMs: number): Date {
  if (!Number.isFinite(olderThanMs) || olderThanMs < 0) {
    throw new ValidationError('olderThanMs must be a non-negative number of milliseconds', 'olderThanMs')
  }
  return new Date(Date.now() - olderThanMs)
}
