import type { Kysely } from 'kysely'
import { adjustReferences, versionHashes } from './blob-references.js'
import { contentHash, verifyContent } from '../domain/content-hash.js'
import { lockLiveProject } from './project-lock.js'
import { canonicalTimeline, parseTimeline, type TimelineScene } from '../domain/timeline.js'
import { IntegrityError, NotFoundError, usage, ValidationError } from '../errors.js'
import type { ContentBlob } from '../schema/content-blobs.js'
import { camelToSnake } from '../schema/define.js'
import type { ProjectState } from '../schema/project-states.js'
import {
  type ProjectVersion,
  type ProjectVersionsTable,
  type NewProjectVersion,
  type ProjectVersionUpdate,
} from '../schema/project-versions.js'
import type { SceneState } from '../schema/scene-states.js'
import type { ContentBlobsRepository } from './content-blobs-repository.js'
import type { ProjectStatesRepository } from './project-states-repository.js'
import type { ReadOptions } from './read-repository.js'
import { SoftDeleteRepository } from './soft-delete-repository.js'
import type { SceneStatesRepository } from './scene-states-repository.js'
import { rowsIn, txRows, untracked, type Row, type Session, type TxContext } from './session.js'
import { validateFieldValue, validateInsert, validateKey } from './validation.js'

/** The parts of a version: the project's four spec JSONs and its timeline of scenes. */
export type VersionPart = 'brief' | 'plan' | 'voice' | 'render' | 'timeline'

/** Where each part comes from and goes to. */
const PARTS = [
  { part: 'brief', hash: 'briefHash', spec: 'briefJson', type: 'Brief' },
  { part: 'plan', hash: 'planHash', spec: 'planSpecJson', type: 'Plan' },
  { part: 'voice', hash: 'voiceHash', spec: 'voiceSpecJson', type: 'Voice' },
  { part: 'render', hash: 'renderHash', spec: 'renderSpecJson', type: 'Render' },
  { part: 'timeline', hash: 'timelineHash', spec: null, type: 'Timeline' },
] as const satisfies readonly {
  part: VersionPart
  hash: keyof ProjectVersion
  spec: keyof ProjectState | null
  type: ContentBlob['contentType']
}[]

/** Fields of a version that describe its content; `update` refuses to change them. */
const CONTENT_FIELDS = [
  'projectId',
  'versionNumber',
  'storageSizeBytes',
  ...PARTS.map((p) => p.hash),
] as const

/** What `projectVersions.create` records besides the snapshot. */
export interface CreateVersionOptions {
  readonly type: ProjectVersion['versionType']
  readonly name?: string | null
  readonly description?: string | null
  /** What caused the snapshot, e.g. `PreScriptRegeneration`. */
  readonly trigger?: string | null
  /** Protects the version from autosave pruning. */
  readonly isMarkedImportant?: boolean
}

/** A version's snapshot, as `projectVersions.getContent` returns it (every blob hash-verified). */
export interface VersionContent {
  readonly version: ProjectVersion
  readonly brief: string | null
  readonly plan: string | null
  readonly voice: string | null
  readonly render: string | null
  /** The scenes by index; null for a version that recorded no timeline. */
  readonly timeline: TimelineScene[] | null
}

/** Which parts differ between two versions (`projectVersions.compare`). */
export interface VersionComparison {
  readonly changed: VersionPart[]
  readonly unchanged: VersionPart[]
}

/** The outcome of restoring a project to a version. */
export interface VersionRestore {
  /** The `RestorePoint` version holding the state from just before the restore. */
  readonly restorePoint: ProjectVersion
  readonly project: ProjectState
  /** The project's scenes after the restore, by index. */
  readonly scenes: SceneState[]
}

/** The storage a project's live versions use (`projectVersions.getStorageSize`). */
export interface VersionStorage {
  readonly versions: number
  /** Sum of the versions' `storageSizeBytes`: what full copies would take. */
  readonly referencedBytes: number
  /** UTF-8 bytes of the distinct blobs they reference: what is stored (blobs shared with other projects included). */
  readonly storedBytes: number
}

/** Options of `projectVersions.pruneAutosaves`. */
export interface PruneAutosavesOptions {
  /** How many of the newest autosaves to keep. */
  readonly keep: number
  /** Only autosaves created before this instant are pruned (all older than the kept ones by default). */
  readonly olderThan?: Date
}

/**
 * The repository of `project_versions`: content-addressed, deduplicated snapshots of a project.
 *
 * Reference counting: every live (not soft-deleted) version row holds one reference per hash
 * column it fills. Inserting a version takes them, soft-deleting releases them, restoring a
 * soft-deleted version takes them back, purging a live version releases them (purging a project
 * does the same for its versions). `contentBlobs.collectGarbage()` then removes what nothing
 * references.
 *
 * `restore(id)` is the generic undelete of a soft-deleted version; `revertTo(projectId,
 * versionId)` takes the project back to a version.
 */
export class ProjectVersionsRepository extends SoftDeleteRepository<
  ProjectVersionsTable,
  ProjectVersion,
  NewProjectVersion,
  ProjectVersionUpdate
> {
  constructor(
    table: ProjectVersionsTable,
    session: Session,
    private readonly deps: {
      readonly blobs: ContentBlobsRepository
      readonly scenes: SceneStatesRepository
      readonly projects: ProjectStatesRepository
    },
  ) {
    super(table, session)
  }

  /**
   * Snapshots the project into a new version, in one transaction:
   * 1. locks the project (concurrent creates take turns; a missing or deleted project is a NotFoundError);
   * 2. stores its four spec JSONs and its timeline (canonical JSON of its scenes, see
   *    `canonicalTimeline`) as content blobs: content already stored is reused, not copied;
   * 3. numbers the version max + 1 over all its versions, soft-deleted ones included;
   * 4. inserts the version row with the hashes, taking one reference per hash.
   *
   * @example
   * const v = await db.projectVersions.create(projectId, { type: 'Manual', name: 'Before review' })
   */
  async create(projectId: string, options: CreateVersionOptions): Promise<ProjectVersion> {
    const meta = this.versionMeta(projectId, options)
    return this.session.write((tx) => this.createIn(tx, projectId.toLowerCase(), meta))
  }

  /**
   * {@link create} inside `tx`, with validated metadata.
   * @internal
   */
  async createIn(tx: TxContext, projectId: string, meta: Record<string, unknown>): Promise<ProjectVersion> {
    const project = this.deps.projects.fromRow(await lockLiveProject(tx, this.session, projectId))
    const scenes = await this.deps.scenes.scenesIn(tx, projectId)
    const contents = PARTS.map((p) => ({
      ...p,
      content: p.spec === null ? canonicalTimeline(scenes) : project[p.spec],
    }))
    // Columns in PARTS order whatever the content: one insert shape, one cached statement.
    const hashes: Record<string, string | null> = Object.fromEntries(PARTS.map((p) => [p.hash, null]))
    let storageSizeBytes = 0
    // In hash order, so that two transactions storing overlapping content lock blobs alike.
    const toStore = contents
      .filter((c): c is typeof c & { content: string } => c.content !== null)
      .map((c) => ({ ...c, key: contentHash(c.content) }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    for (const c of toStore) {
      const stored = await this.deps.blobs.storeIn(tx, c.type, c.content, c.key)
      hashes[c.hash] = stored.hash
      storageSizeBytes += stored.sizeBytes
    }
    const maxQuery = this.session.cache.compile('project_versions:max-number', [projectId], (v) =>
      tx.db
        .selectFrom('project_versions')
        .select((eb) => eb.fn.max('version_number').as('n'))
        .where('project_id', '=', v(0)),
    )
    const max = (await txRows(tx, maxQuery))[0]
    return this.insertIn(tx, {
      ...meta,
      projectId,
      versionNumber: Number(max?.n ?? 0) + 1,
      ...hashes,
      storageSizeBytes,
    })
  }

  /**
   * Undoes the soft delete of version `id`, as `restore` does on every soft-delete table. To take
   * a project back to a version, see {@link revertTo}.
   */
  override async restore(id: string): Promise<ProjectVersion> {
    // Before revertTo had its own name, restore(projectId, versionId) took a project back to a
    // version; a JavaScript caller still passing two arguments must not undo a soft delete.
    if (arguments.length > 1) throw usage.versionRestoreRenamed()
    return super.restore(id)
  }

  /**
   * Takes project `projectId` back to version `versionId`, in one transaction:
   * 1. reads and verifies the version's content (IntegrityError before anything is written);
   * 2. creates a `RestorePoint` version of the current state;
   * 3. writes the version's four specs into the project (an audited update);
   * 4. makes the scenes match its timeline: scenes it does not have are deleted, the others are
   *    updated in place or re-inserted with their ids (audited).
   *
   * @example
   * const { restorePoint } = await db.projectVersions.revertTo(projectId, v3.id)
   */
  async revertTo(projectId: string, versionId: string): Promise<VersionRestore> {
    validateFieldValue(this.table, 'projectId', projectId)
    const vid = validateKey(this.table, versionId) as string
    const pid = projectId.toLowerCase()
    return this.session.write(async (outer) => {
      const tx = untracked(outer)
      const dialect = this.session.dialect
      await lockLiveProject(tx, this.session, pid)
      const row = await this.currentRow(tx, vid)
      if (!row || dialect.decode('bool', row.is_deleted) || String(row.project_id).toLowerCase() !== pid) {
        throw new NotFoundError(this.table.name, vid)
      }
      const version = this.fromRow(row)
      const content = await this.readContent(tx.db, version)
      const restorePoint = await this.createIn(tx, pid, {
        versionType: 'RestorePoint',
        name: `Before restoring version ${version.versionNumber}`,
        trigger: 'Restore',
      })
      const project = await this.deps.projects.updateIn(tx, pid, null, {
        briefJson: content.brief,
        planSpecJson: content.plan,
        voiceSpecJson: content.voice,
        renderSpecJson: content.render,
      })
      const scenes =
        content.timeline === null
          ? await this.deps.scenes.scenesIn(tx, pid)
          : await this.deps.scenes.arrangeIn(tx, pid, content.timeline)
      return { restorePoint, project, scenes }
    })
  }

  /**
   * The version's snapshot: the four specs as stored and the timeline parsed. Every blob is
   * verified against its hash; a mismatch is an IntegrityError. A missing (or soft-deleted,
   * unless `includeDeleted`) version is a NotFoundError.
   */
  async getContent(versionId: string, options: ReadOptions = {}): Promise<VersionContent> {
    const version = await this.getById(versionId, options)
    if (!version) throw new NotFoundError(this.table.name, versionId)
    return this.session.read(async (db) => {
      try {
        return await this.readContent(db, version)
      } catch (error) {
        // A version purged between the two reads takes its blobs with it: not a damaged database.
        if (error instanceof IntegrityError && !(await this.getById(version.id, { includeDeleted: true }))) {
          throw new NotFoundError(this.table.name, versionId)
        }
        throw error
      }
    })
  }

  /** Which parts differ between two versions (by hash; no content is read). */
  async compare(versionId1: string, versionId2: string): Promise<VersionComparison> {
    const [a, b] = await Promise.all([
      this.getById(versionId1, { includeDeleted: true }),
      this.getById(versionId2, { includeDeleted: true }),
    ])
    if (!a) throw new NotFoundError(this.table.name, versionId1)
    if (!b) throw new NotFoundError(this.table.name, versionId2)
    const changed: VersionPart[] = []
    const unchanged: VersionPart[] = []
    for (const p of PARTS) (a[p.hash] === b[p.hash] ? unchanged : changed).push(p.part)
    return { changed, unchanged }
  }

  /** How much storage the project's live versions use. */
  async getStorageSize(projectId: string): Promise<VersionStorage> {
    validateFieldValue(this.table, 'projectId', projectId)
    const pid = projectId.toLowerCase()
    const no = this.session.dialect.encode('bool', false)
    return this.session.read(async (db) => {
      const totals = await db
        .selectFrom('project_versions')
        .select((eb) => [eb.fn.countAll().as('n'), eb.fn.sum('storage_size_bytes').as('bytes')])
        .where('project_id', '=', pid)
        .where('is_deleted', '=', no)
        .executeTakeFirst()
      const stored = await db
        .selectFrom('content_blobs')
        .select((eb) => eb.fn.sum('size_bytes').as('bytes'))
        .where((eb) =>
          eb.exists(
            eb
              .selectFrom('project_versions')
              .select(eb.lit(1).as('one'))
              .where('project_versions.project_id', '=', pid)
              .where('project_versions.is_deleted', '=', no)
              .where((v) =>
                v.or(
                  PARTS.map((p) =>
                    v(`project_versions.${camelToSnake(p.hash)}`, '=', v.ref('content_blobs.content_hash')),
                  ),
                ),
              ),
          ),
        )
        .executeTakeFirst()
      return {
        versions: Number(totals?.n ?? 0),
        referencedBytes: Number(totals?.bytes ?? 0),
        storedBytes: Number(stored?.bytes ?? 0),
      }
    })
  }

  /** The project's live autosaves created before `olderThan` and not marked important, oldest first. */
  async getOldAutosaves(projectId: string, olderThan: Date): Promise<ProjectVersion[]> {
    return this.find(
      { projectId, versionType: 'Autosave', isMarkedImportant: false, createdAt: { lt: olderThan } },
      { orderBy: { createdAt: 'asc', versionNumber: 'asc' } },
    )
  }

  /**
   * Purges the project's autosaves except the newest `keep`, those marked important and (with
   * `olderThan`) those created since; one transaction, releasing their blob references. The
   * project's highest-numbered version is never pruned, so that its number is not handed out
   * again. Returns how many versions were purged.
   */
  async pruneAutosaves(projectId: string, options: PruneAutosavesOptions): Promise<number> {
    validateFieldValue(this.table, 'projectId', projectId)
    const keep = options?.keep
    if (typeof keep !== 'number' || !Number.isInteger(keep) || keep < 0) {
      throw new ValidationError('pruneAutosaves: keep must be a non-negative integer', 'keep')
    }
    const olderThan = options.olderThan
    if (olderThan !== undefined && (!(olderThan instanceof Date) || Number.isNaN(olderThan.getTime()))) {
      throw new ValidationError('pruneAutosaves: olderThan must be a valid Date', 'olderThan')
    }
    const pid = projectId.toLowerCase()
    return this.session.write(async (tx) => {
      const dialect = this.session.dialect
      await lockLiveProject(tx, this.session, pid)
      const max = await tx.db
        .selectFrom('project_versions')
        .select((eb) => eb.fn.max('version_number').as('n'))
        .where('project_id', '=', pid)
        .executeTakeFirst()
      const autosaves = (
        await tx.db
          .selectFrom('project_versions')
          .selectAll()
          .where('project_id', '=', pid)
          .where('version_type', '=', 'Autosave')
          .where('is_deleted', '=', dialect.encode('bool', false))
          .orderBy('version_number', 'desc')
          .execute()
      ).map((r) => this.fromRow(r))
      const victims = autosaves
        .slice(keep)
        .filter(
          (v) =>
            !v.isMarkedImportant &&
            v.versionNumber !== Number(max?.n) &&
            (olderThan === undefined || v.createdAt.getTime() < olderThan.getTime()),
        )
      for (const v of victims) await this.purgeIn(tx, v.id)
      return victims.length
    })
  }

  /**
   * Changes of a version's name, description, trigger, type or importance. Its content, project
   * and number are immutable (ValidationError, nothing written): a different snapshot is a new
   * version.
   * @internal
   */
  override async updateIn(
    tx: TxContext,
    key: unknown,
    rowVersion: number | null,
    changes: Record<string, unknown>,
  ): Promise<ProjectVersion> {
    const row = await this.currentRow(tx, key)
    if (row) {
      const current = this.fromRow(row)
      const immutable = CONTENT_FIELDS.find((f) => changes[f] !== undefined && changes[f] !== current[f])
      if (immutable) {
        throw new ValidationError(
          `project_versions.${immutable} cannot be changed: a version's content is immutable; create a new version`,
          immutable,
        )
      }
    }
    return super.updateIn(tx, key, rowVersion, changes)
  }

  /**
   * Inserts the version row and takes one reference per hash it holds.
   * @internal
   */
  override async insertIn(tx: TxContext, values: Record<string, unknown>): Promise<ProjectVersion> {
    const version = await super.insertIn(tx, values)
    await adjustReferences(tx, this.session, sortedHashes(versionHashes(toColumns(version))), 1)
    return version
  }

  /**
   * Inserts the version rows, then takes one reference per hash each holds.
   * @internal
   */
  override async insertManyIn(
    tx: TxContext,
    rows: readonly Record<string, unknown>[],
  ): Promise<ProjectVersion[]> {
    const versions = await super.insertManyIn(tx, rows)
    for (const version of versions) {
      await adjustReferences(tx, this.session, sortedHashes(versionHashes(toColumns(version))), 1)
    }
    return versions
  }

  /** A soft-deleted version gives up its references (its blobs stay: the row still points at them). */
  protected override async afterSoftDelete(tx: TxContext, row: Row): Promise<void> {
    await adjustReferences(tx, this.session, sortedHashes(versionHashes(row)), -1)
  }

  /** A restored version takes its references back. */
  protected override async afterRestore(tx: TxContext, row: Row): Promise<void> {
    await adjustReferences(tx, this.session, sortedHashes(versionHashes(row)), 1)
  }

  /** A purged live version gives up its references (a soft-deleted one already did). */
  protected override async beforePurge(tx: TxContext, row: Row): Promise<void> {
    if (this.session.dialect.decode('bool', row.is_deleted)) return
    await adjustReferences(tx, this.session, sortedHashes(versionHashes(row)), -1)
  }

  private versionMeta(projectId: string, options: CreateVersionOptions): Record<string, unknown> {
    validateFieldValue(this.table, 'projectId', projectId)
    if (typeof options !== 'object' || options === null || options.type === undefined) {
      throw new ValidationError(
        'projectVersions.create needs { type: Manual | Autosave | RestorePoint }',
        'type',
      )
    }
    const values = validateInsert(this.table, {
      projectId,
      versionNumber: 1,
      versionType: options.type,
      name: options.name,
      description: options.description,
      trigger: options.trigger,
      isMarkedImportant: options.isMarkedImportant,
    })
    delete values.projectId
    delete values.versionNumber
    return values
  }

  /** The version's content, every blob verified. */
  private async readContent(db: Kysely<any>, version: ProjectVersion): Promise<VersionContent> {
    const wanted = [...new Set(PARTS.map((p) => version[p.hash]).filter((h): h is string => h !== null))]
    let rows: Row[] = []
    if (wanted.length > 0) {
      const query = this.session.cache.compile(`content_blobs:content-in:${wanted.length}`, wanted, (v) =>
        db
          .selectFrom('content_blobs')
          .select(['content_hash', 'content'])
          .where(
            'content_hash',
            'in',
            wanted.map((_, i) => v(i)),
          ),
      )
      rows = await rowsIn(this.session.dialect, db, query)
    }
    const found = new Map<string, string>()
    for (const r of rows) {
      verifyContent(r.content_hash as string, r.content as string)
      found.set(r.content_hash as string, r.content as string)
    }
    const get = (hash: string | null): string | null => {
      if (hash === null) return null
      const content = found.get(hash)
      if (content === undefined) {
        throw new IntegrityError(
          `content_blobs ${hash}, referenced by project_versions ${version.id}, is missing`,
        )
      }
      return content
    }
    const timeline = get(version.timelineHash)
    return {
      version,
      brief: get(version.briefHash),
      plan: get(version.planHash),
      voice: get(version.voiceHash),
      render: get(version.renderHash),
      timeline: timeline === null ? null : parseTimeline(version.timelineHash!, timeline),
    }
  }
}

function sortedHashes(hashes: string[]): string[] {
  return hashes.sort()
}

/** The hash columns of a version entity, keyed like a row. */
function toColumns(version: ProjectVersion): Row {
  return Object.fromEntries(PARTS.map((p) => [camelToSnake(p.hash), version[p.hash]]))
}
