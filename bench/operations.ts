/**
 * The benchmarked operations, as an application calls them through the library. Each dialect's
 * suite pairs them, by name, with a raw reference that executes the same statements.
 */
import type { AuraDatabase } from '../src/index.js'
import type { DatasetIndex } from './dataset.js'
import type { OperationFn } from './harness.js'

/** An operation with both sides. */
export interface BenchOperation {
  readonly name: string
  /** Which spec target applies: ≥ 0.9× raw for reads, ≥ 0.85× for writes. */
  readonly kind: 'read' | 'write'
  readonly library: OperationFn
  readonly raw: OperationFn
  /** Calls available per side (operations that use up their targets). */
  readonly maxCalls?: number
  /** The spec's absolute p99 target for this operation on the full data set, in microseconds. */
  readonly p99TargetUs?: number
}

/** What the library side of an operation works on. */
export interface SuiteContext {
  readonly db: AuraDatabase
  readonly index: DatasetIndex
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
  const { db, index } = context
  const { projectIds, updateTargets, deleteTargets } = index
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
          for (let s = 0; s < 10; s++) {
            await uow.sceneStates.add({ projectId: project.id, sceneIndex: s, scriptText: sceneText(s) })
          }
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
      name: 'soft delete with version check',
      kind: 'write',
      maxCalls: Math.min(deleteTargets.library.length, deleteTargets.raw.length),
      library: (i) => db.projectStates.delete({ id: deleteTargets.library[i]!, rowVersion: 1 }),
    },
  ]
  return operations
}
