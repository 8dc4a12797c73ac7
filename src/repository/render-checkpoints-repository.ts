import { exactJson } from '../domain/exact-json.js'
import { ValidationError } from '../errors.js'
import {
  type RenderCheckpoint,
  type RenderCheckpointsTable,
  type NewRenderCheckpoint,
  type RenderCheckpointUpdate,
} from '../schema/render-checkpoints.js'
import { Repository } from './repository.js'
import type { Session } from './session.js'
import { validateInsert, validateKey } from './validation.js'

/** What `renderCheckpoints.save` records about a stage. */
export interface CheckpointProgress {
  readonly completedScenes: number
  readonly totalScenes: number
  /** Stage state to resume from: an object (serialised as JSON) or JSON text. */
  readonly data?: unknown
  readonly outputFilePath?: string | null
}

/** The repository of `render_checkpoints`: resumable render progress per project and stage. */
export class RenderCheckpointsRepository extends Repository<
  RenderCheckpointsTable,
  RenderCheckpoint,
  NewRenderCheckpoint,
  RenderCheckpointUpdate
> {
  constructor(table: RenderCheckpointsTable, session: Session) {
    super(table, session)
  }

  /**
   * Records a new checkpoint for `stage` and, in the same transaction, marks every earlier valid
   * checkpoint of the same project and stage invalid: there is always at most one to resume from.
   */
  async save(
    projectId: string,
    stage: RenderCheckpoint['stageName'],
    progress: CheckpointProgress,
  ): Promise<RenderCheckpoint> {
    const data =
      progress.data === undefined || progress.data === null
        ? null
        : typeof progress.data === 'string'
          ? progress.data
          : exactJson(progress.data, 'render_checkpoints.data', 'checkpointData')
    if (progress.completedScenes > progress.totalScenes) {
      throw new ValidationError(
        'render_checkpoints.completedScenes must not exceed totalScenes',
        'completedScenes',
      )
    }
    const values = validateInsert(this.table, {
      projectId,
      stageName: stage,
      completedScenes: progress.completedScenes,
      totalScenes: progress.totalScenes,
      checkpointData: data,
      outputFilePath: progress.outputFilePath ?? null,
      isValid: true,
    })
    return this.session.write(async (tx) => {
      const earlier = await this.selectRows(
        tx.db,
        { projectId: values.projectId, stageName: stage, isValid: true },
        {},
      )
      for (const row of earlier) {
        await this.updateIn(tx, row.id, Number(row.row_version), { isValid: false })
      }
      return this.insertIn(tx, { ...values, checkpointTime: tx.now })
    })
  }

  /** The newest valid checkpoint of the project (any stage), or null. */
  async getLatest(projectId: string): Promise<RenderCheckpoint | null> {
    validateKey(this.table, projectId)
    return this.firstOrDefault(
      { projectId, isValid: true },
      { orderBy: { checkpointTime: 'desc', createdAt: 'desc' } },
    )
  }
}
