/**
 * The benchmarked operations, as an application calls them through the library. Each dialect's
 * suite pairs them, by name, with a raw reference that executes the same statements.
 */
import type { AuraDatabase } from '../src/index.js'
import { TEMPLATE_TAGS, type DatasetIndex } from './dataset.js'
import type { OperationFn } from './harness.js'

/**
 * The plain-Kysely peer of an operation: what an application that uses Kysely directly (no
 * Aura Data) runs for it, on its own Kysely instance and connection.
 */
export interface PeerOperation {
  readonly fn: OperationFn
  /**
   * `statements`: the library's statements, built with Kysely's query builder and compiled on
   * every call (checked identical to the raw reference's); `job`: the same job done the way a
   * Kysely application does it (e.g. the scenes as one multi-row insert, no audit rows), so its
   * statements are reported, not compared.
   */
  readonly compare: 'statements' | 'job'
}

/** An operation with its sides. */
export interface BenchOperation {
  readonly name: string
  /** Which spec target applies: ≥ 0.9× raw for reads, ≥ 0.85× for writes. */
  readonly kind: 'read' | 'write'
  readonly library: OperationFn
  readonly raw: OperationFn
  /** The plain-Kysely peer, where there is one. */
  readonly kysely?: PeerOperation
  /** Calls available per side (operations that use up their targets). */
  readonly maxCalls?: number
  /** The spec's absolute p99 target for this operation on the full data set, in microseconds. */
  readonly p99TargetUs?: number
}

/** What the library side of an operation works on. */
export interface SuiteContext {
  readonly db: AuraDatabase
  readonly index: DatasetIndex
  /** The library's restore targets, prepared by {@link prepareRestoreTargets}. */
  readonly restoreTargets: readonly RestoreTarget[]
}

/** A project with two versions that differ in the brief and in one scene's script. */
export interface RestoreTarget {
  readonly projectId: string
  readonly versionIds: readonly [string, string]
}

/**
 * Gives each project two versions to switch between (setup, not measured; through the library
 * for both sides): a snapshot of the project as generated, then one after an edit of its brief
 * and of its first scene. The project is left in the second state, so that every restore
 * rewrites the brief, one scene and their audit rows.
 */
export async function prepareRestoreTargets(
  db: AuraDatabase,
  projectIds: readonly string[],
): Promise<RestoreTarget[]> {
  const targets: RestoreTarget[] = []
  for (const projectId of projectIds) {
    const first = await db.projectVersions.create(projectId, { type: 'Manual', name: 'As generated' })
    const project = (await db.projectStates.getById(projectId))!
    await db.projectStates.update({
      id: projectId,
      rowVersion: project.rowVersion,
      briefJson: '{"topic":"edited by the benchmark"}',
    })
    const [scene] = await db.sceneStates.find({ projectId }, { orderBy: { sceneIndex: 'asc' }, limit: 1 })
    await db.sceneStates.update({ id: scene!.id, rowVersion: scene!.rowVersion, scriptText: sceneText(99) })
    const second = await db.projectVersions.create(projectId, { type: 'Manual', name: 'Edited' })
    targets.push({ projectId, versionIds: [first.id, second.id] })
  }
  return targets
}

/**
 * Takes a first snapshot of each project (setup, through the library), so that their content is
 * stored before the measurement: every measured snapshot then finds all its blobs, on both
 * sides alike, as autosaves of a project that has not changed do. (Which of a first snapshot's
 * blobs are new depends on what other projects stored before, so the two sides' first calls
 * would differ.)
 */
export async function prepareVersionTargets(db: AuraDatabase, projectIds: readonly string[]): Promise<void> {
  for (const projectId of projectIds) await db.projectVersions.create(projectId, { type: 'Manual' })
}

/** The restore of call `i`: the targets in turn, each alternating between its two versions. */
export function restoreOf(
  i: number,
  targets: readonly RestoreTarget[],
): { projectId: string; versionId: string } {
  const target = targets[i % targets.length]!
  return { projectId: target.projectId, versionId: target.versionIds[Math.floor(i / targets.length) % 2]! }
}

/** The template search of call `i`: a text (one word, or two with a prefix) and two tags. */
export function templateSearchOf(i: number): { text: string; tags: string[] } {
  return {
    text: TEMPLATE_SEARCH_TEXTS[i % TEMPLATE_SEARCH_TEXTS.length]!,
    tags: [TEMPLATE_TAGS[i % TEMPLATE_TAGS.length]!, TEMPLATE_TAGS[(i + 7) % TEMPLATE_TAGS.length]!],
  }
}

const TEMPLATE_SEARCH_TEXTS = ['video', 'launch prod', 'story', 'camera light', 'brand', 'tutor']

/** The export-history query of call `i`: finished jobs of a 90-day window, newest first. */
export function exportQueryOf(i: number): { status: ['Completed', 'Failed']; from: Date; to: Date } {
  const day = 24 * 3600 * 1000
  const from = Date.parse('2023-01-01T00:00:00.000Z') + pick(i, 640) * day
  return { status: ['Completed', 'Failed'], from: new Date(from), to: new Date(from + 90 * day) }
}

/** The spec's ratio targets (quality.md). */
export const RATIO_TARGETS = { read: 0.9, write: 0.85 } as const

/** Statuses the status benchmarks cycle through. */
export const PROJECT_STATUSES = ['Draft', 'InProgress', 'Completed', 'Failed', 'Cancelled'] as const

/** The script of the s-th scene a write benchmark adds (the same text on both sides). */
export function sceneText(s: number): string {
  return `Scene ${s}: the narrator introduces the product, the camera follows the light across the desk.`
}

/** The i-th target of a list of `n`: a fixed stride through it, so that targets spread over the table. */
export function pick(i: number, n: number): number {
  return (i * 7919) % n
}

/**
 * The library side of every operation the current API offers. Call 0 of each side is the
 * capture call that checks the SQL; measured calls start at 1.
 */
export function libraryOperations(context: SuiteContext): Omit<BenchOperation, 'raw'>[] {
  const { db, index, restoreTargets } = context
  const { projectIds, updateTargets, deleteTargets, versionTargets } = index
  const versions = new Map<string, number>()
  const operations: Omit<BenchOperation, 'raw'>[] = [
    {
      name: 'project by id',
      kind: 'read',
      p99TargetUs: 100,
      library: (i) => db.projectStates.getById(projectIds[pick(i, projectIds.length)]!),
    },
    {
      name: 'projects by status (page of 50)',
      kind: 'read',
      p99TargetUs: 500,
      library: (i) =>
        db.projectStates.find(
          { status: PROJECT_STATUSES[i % PROJECT_STATUSES.length]! },
          { orderBy: { updatedAt: 'desc' }, limit: 50 },
        ),
    },
    {
      name: 'scenes of a project',
      kind: 'read',
      p99TargetUs: 250,
      library: (i) =>
        db.sceneStates.find(
          { projectId: projectIds[pick(i, projectIds.length)]! },
          { orderBy: { sceneIndex: 'asc' } },
        ),
    },
    {
      name: 'count by status',
      kind: 'read',
      library: (i) => db.projectStates.count({ status: PROJECT_STATUSES[i % PROJECT_STATUSES.length]! }),
    },
    {
      name: 'add project + 10 scenes',
      kind: 'write',
      library: (i) =>
        db.transaction(async (uow) => {
          const project = await uow.projectStates.add({
            title: `Library project ${i}`,
            description: 'Added by the benchmark',
            status: 'Draft',
            briefJson: '{"topic":"benchmark"}',
          })
          await uow.sceneStates.addRange(
            Array.from({ length: 10 }, (_, s) => ({
              projectId: project.id,
              sceneIndex: s,
              scriptText: sceneText(s),
            })),
          )
        }),
    },
    {
      name: 'update with version check',
      kind: 'write',
      library: async (i) => {
        const id = updateTargets.library[i % updateTargets.library.length]!
        const updated = await db.projectStates.update({
          id,
          rowVersion: versions.get(id) ?? 1,
          title: `Library edit ${i}`,
        })
        versions.set(id, updated.rowVersion)
      },
    },
    {
      name: 'create version',
      kind: 'write',
      library: (i) =>
        db.projectVersions.create(versionTargets.library[i % versionTargets.library.length]!, {
          type: 'Autosave',
        }),
    },
    {
      name: 'restore version',
      kind: 'write',
      library: (i) => {
        const { projectId, versionId } = restoreOf(i, restoreTargets)
        return db.projectVersions.revertTo(projectId, versionId)
      },
    },
    {
      name: 'template search',
      kind: 'read',
      p99TargetUs: 1_000,
      library: (i) => db.templates.search({ ...templateSearchOf(i), limit: 50 }),
    },
    {
      name: 'export history query',
      kind: 'read',
      p99TargetUs: 750,
      library: (i) => db.exportHistory.query({ ...exportQueryOf(i), limit: 50 }),
    },
    {
      name: 'soft delete with version check',
      kind: 'write',
      maxCalls: Math.min(deleteTargets.library.length, deleteTargets.raw.length, deleteTargets.kysely.length),
      library: (i) => db.projectStates.delete({ id: deleteTargets.library[i]!, rowVersion: 1 }),
    },
  ]
  return operations
}
