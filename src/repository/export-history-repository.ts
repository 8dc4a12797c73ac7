import { sql } from 'kysely'
import { NotFoundError, ValidationError } from '../errors.js'
import {
  EXPORT_STATUSES,
  exportHistoryTable,
  type ExportHistoryEntry,
  type ExportHistoryTable,
  type NewExportHistoryEntry,
  type ExportHistoryEntryUpdate,
} from '../schema/export-history.js'
import { buildConditions, checkQuery } from './filter.js'
import { Repository } from './repository.js'
import type { Session, TxContext } from './session.js'
import { validateInsert, validateKey, validateUpdate } from './validation.js'

/** An export job's status. */
export type ExportStatus = (typeof EXPORT_STATUSES)[number]

/** What `exportHistory.enqueue` needs to know about a new export job. */
export interface ExportRequest {
  readonly inputFile: string
  readonly outputFile: string
  readonly presetName: string
  readonly platform?: string | null
  readonly resolution?: string | null
  readonly codec?: string | null
}

/** The outcome `exportHistory.complete` records. */
export interface ExportResult {
  readonly fileSize: number
  readonly durationSeconds: number
}

/** Criteria and paging of `exportHistory.query`. */
export interface ExportQuery {
  /** One status or several. */
  readonly status?: ExportStatus | readonly ExportStatus[]
  /** Created at or after this instant. */
  readonly from?: Date
  /** Created before this instant. */
  readonly to?: Date
  /** Page size, 1 to 1000; 50 when omitted. */
  readonly limit?: number
  /** Rows to skip (for the next pages); 0 when omitted. */
  readonly offset?: number
}

/** The statuses a job may move to from each status; an absent entry means none (finished). */
const TRANSITIONS: Readonly<Record<ExportStatus, readonly ExportStatus[]>> = {
  Queued: ['InProgress', 'Cancelled'],
  InProgress: ['Completed', 'Failed', 'Cancelled'],
  // A running export of the .NET app (imported); it finishes like one of ours.
  Processing: ['Completed', 'Failed', 'Cancelled'],
  Completed: [],
  Failed: [],
  Cancelled: [],
}

/** Completed, Failed and Cancelled: the statuses `prune` may delete. */
export const FINISHED_EXPORT_STATUSES: readonly ExportStatus[] = ['Completed', 'Failed', 'Cancelled']

const MAX_LIMIT = 1000
const ERROR_MESSAGE_MAX = exportHistoryTable.columns.errorMessage.maxLength ?? 1000

/**
 * The repository of `export_history`: the queue, progress and outcome of export jobs.
 *
 * A job moves only along the legal transitions: Queued → InProgress → Completed, Failed or
 * Cancelled, and Queued → Cancelled. Any other move is a ValidationError naming both statuses;
 * each move reads the job and writes it with its row version in one transaction, so of two
 * concurrent moves one wins and the other fails (ConcurrencyError) without writing.
 *
 * @example
 * const job = await db.exportHistory.enqueue({ inputFile: 'a.mp4', outputFile: 'out/a.mp4', presetName: 'YouTube 1080p' })
 * await db.exportHistory.start(job.id)
 * await db.exportHistory.progress(job.id, 40)
 * await db.exportHistory.complete(job.id, { fileSize: 52_428_800, durationSeconds: 120 })
 */
export class ExportHistoryRepository extends Repository<
  ExportHistoryTable,
  ExportHistoryEntry,
  NewExportHistoryEntry,
  ExportHistoryEntryUpdate
> {
  constructor(table: ExportHistoryTable, session: Session) {
    super(table, session)
  }

  /** Records a new job, `Queued` at 0 %. */
  async enqueue(request: ExportRequest): Promise<ExportHistoryEntry> {
    if (typeof request !== 'object' || request === null) {
      throw new ValidationError('export_history.enqueue expects { inputFile, outputFile, presetName }')
    }
    const values = validateInsert(this.table, {
      inputFile: request.inputFile,
      outputFile: request.outputFile,
      presetName: request.presetName,
      platform: request.platform ?? null,
      resolution: request.resolution ?? null,
      codec: request.codec ?? null,
      status: 'Queued',
      progress: 0,
    })
    return this.write((tx) => this.insertIn(tx, values))
  }

  /** Queued → InProgress; sets `startedAt`. */
  async start(id: string): Promise<ExportHistoryEntry> {
    return this.#move(id, 'InProgress', (tx) => ({ startedAt: tx.now }))
  }

  /** Records progress (0 to 100) of a job in progress. */
  async progress(id: string, percent: number): Promise<ExportHistoryEntry> {
    if (typeof percent !== 'number' || !Number.isFinite(percent) || percent < 0 || percent > 100) {
      throw new ValidationError('export_history.progress must be a number from 0 to 100', 'progress')
    }
    const key = validateKey(this.table, id)
    return this.session.write(async (tx) => {
      const job = await this.#read(tx, key)
      if (job.status !== 'InProgress' && job.status !== 'Processing') {
        throw new ValidationError(
          `export_history ${String(key)} is ${job.status}: progress can only be recorded while InProgress`,
          'status',
        )
      }
      return this.updateIn(tx, key, job.rowVersion, { progress: percent })
    })
  }

  /** InProgress → Completed at 100 %; records the file size and duration, sets `completedAt`. */
  async complete(id: string, result: ExportResult): Promise<ExportHistoryEntry> {
    if (typeof result !== 'object' || result === null) {
      throw new ValidationError('export_history.complete expects { fileSize, durationSeconds }')
    }
    if (result.fileSize === undefined || result.durationSeconds === undefined) {
      throw new ValidationError('export_history.complete needs fileSize and durationSeconds')
    }
    const { changes: outcome } = validateUpdate(this.table, {
      id,
      rowVersion: 1,
      fileSize: result.fileSize,
      durationSeconds: result.durationSeconds,
    })
    return this.#move(id, 'Completed', (tx) => ({
      progress: 100,
      completedAt: tx.now,
      fileSize: outcome.fileSize,
      durationSeconds: outcome.durationSeconds,
    }))
  }

  /**
   * InProgress → Failed with the error message (longer than 1000 characters: cut, ending in
   * "…", so a long tool output never stops a failure from being recorded); sets `completedAt`.
   */
  async fail(id: string, message: string): Promise<ExportHistoryEntry> {
    if (typeof message !== 'string' || message.trim() === '') {
      throw new ValidationError('export_history.fail needs the error message', 'errorMessage')
    }
    const errorMessage =
      [...message].length > ERROR_MESSAGE_MAX
        ? `${[...message].slice(0, ERROR_MESSAGE_MAX - 1).join('')}…`
        : message
    validateUpdate(this.table, { id, rowVersion: 1, errorMessage })
    return this.#move(id, 'Failed', (tx) => ({ errorMessage, completedAt: tx.now }))
  }

  /** Queued or InProgress → Cancelled; sets `completedAt`. */
  async cancel(id: string): Promise<ExportHistoryEntry> {
    return this.#move(id, 'Cancelled', (tx) => ({ completedAt: tx.now }))
  }

  /**
   * Jobs matching the criteria, newest first (by `createdAt`, then id), one page at a time.
   *
   * @example
   * const page2 = await db.exportHistory.query({ status: 'Completed', limit: 20, offset: 20 })
   */
  async query(criteria: ExportQuery = {}): Promise<ExportHistoryEntry[]> {
    if (typeof criteria !== 'object' || criteria === null) {
      throw new ValidationError('export_history.query expects an object of criteria')
    }
    const limit = criteria.limit ?? 50
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new ValidationError(
        `export_history.query limit must be an integer from 1 to ${MAX_LIMIT}`,
        'limit',
      )
    }
    const offset = criteria.offset ?? 0
    if (!Number.isInteger(offset) || offset < 0) {
      throw new ValidationError(
        'export_history.query offset must be a whole number of rows, 0 or more',
        'offset',
      )
    }
    const statuses: readonly unknown[] | null =
      criteria.status === undefined
        ? null
        : Array.isArray(criteria.status)
          ? criteria.status
          : [criteria.status]
    for (const status of statuses ?? []) {
      if (!EXPORT_STATUSES.includes(status as ExportStatus)) {
        throw new ValidationError(
          `export_history.query status must be one of ${EXPORT_STATUSES.join(', ')}`,
          'status',
        )
      }
    }
    const createdAt: Record<string, Date> = {}
    if (criteria.from !== undefined) createdAt.gte = criteria.from
    if (criteria.to !== undefined) createdAt.lt = criteria.to
    const where: Record<string, unknown> = {}
    if (Object.keys(createdAt).length > 0) where.createdAt = createdAt
    const page = { orderBy: { createdAt: 'desc', id: 'desc' }, limit, offset } as const
    const distinct = statuses === null ? [] : [...new Set(statuses as ExportStatus[])]
    if (distinct.length < 2) {
      return this.find(statuses === null ? where : { status: { in: distinct }, ...where }, page)
    }
    return this.#newestOfEach(distinct, where, limit, offset)
  }

  /**
   * The page of several statuses, merged from one branch per status: each branch reads its
   * status newest first from (status, created_at, id) and stops after `limit + offset` rows, so
   * the page costs at most that many rows per status. `status IN (…)` with the same order made
   * both SQLite and PostgreSQL read the whole window of every status and sort it.
   */
  async #newestOfEach(
    statuses: readonly ExportStatus[],
    where: Record<string, unknown>,
    limit: number,
    offset: number,
  ): Promise<ExportHistoryEntry[]> {
    const dialect = this.session.dialect
    const depth = limit + offset
    const branches = statuses.map((status) =>
      checkQuery(
        this.table,
        dialect,
        { status, ...where },
        { orderBy: { createdAt: 'desc', id: 'desc' }, limit: depth },
      ),
    )
    // Each branch's values, then the offset; a branch's limit is a literal in its SQL.
    const values = [...branches.flatMap((b) => b.values), offset]
    const found = this.session.rows((db) =>
      this.session.cache.compile(
        `export_history:newest-of-each:${statuses.length}:${branches[0]!.shape}:${depth}:${limit}`,
        values,
        (v) => {
          let first = 0
          const selects = branches.map((checked, i) => {
            const base = first
            first += checked.values.length
            let branch = db
              .selectFrom(this.table.name)
              .selectAll(this.table.name)
              .where((eb) =>
                eb.and(
                  buildConditions(eb, dialect, checked, (at) => v(base + at), this.table.name).expressions,
                ),
              )
            for (const o of checked.order)
              branch = branch.orderBy(`${this.table.name}.${o.column}`, o.direction)
            // SQLite allows ORDER BY and LIMIT only on the last SELECT of a compound: each branch is a subquery.
            return db.selectFrom(branch.limit(sql.lit(depth)).as(`s${i}`)).selectAll()
          })
          let q = selects[0]!
          for (const next of selects.slice(1)) q = q.unionAll(next)
          return q
            .orderBy('created_at', 'desc')
            .orderBy('id', 'desc')
            .limit(sql.lit(limit))
            .offset(v(values.length - 1) as number)
        },
      ),
    )
    const rows = await found
    return rows.map((row) => this.fromRow(row))
  }

  /**
   * Deletes jobs that ended (or, for jobs without an end, were created) before `olderThan`: by
   * default the finished ones (Completed, Failed, Cancelled), or those of `statuses`, any status
   * (a queue stuck for months, the .NET app's abandoned `Processing` rows). The age is
   * `completedAt`, else `createdAt`. One transaction, one audit entry per deleted row. Returns
   * how many.
   *
   * @example
   * const day = 24 * 60 * 60 * 1000
   * await db.exportHistory.prune(new Date(Date.now() - 30 * day))
   * await db.exportHistory.prune(new Date(Date.now() - 365 * day), { statuses: ['Queued', 'Processing'] })
   */
  async prune(olderThan: Date, options: { statuses?: readonly ExportStatus[] } = {}): Promise<number> {
    if (!(olderThan instanceof Date) || Number.isNaN(olderThan.getTime())) {
      throw new ValidationError('export_history.prune needs a valid Date (olderThan)', 'olderThan')
    }
    const statuses = options.statuses ?? FINISHED_EXPORT_STATUSES
    if (
      !Array.isArray(statuses) ||
      statuses.length === 0 ||
      statuses.some((s) => !EXPORT_STATUSES.includes(s as ExportStatus))
    ) {
      throw new ValidationError(
        `export_history.prune statuses must be a non-empty list of ${EXPORT_STATUSES.join(', ')}`,
        'statuses',
      )
    }
    const cutoff = this.session.dialect.encode('timestamp', olderThan)
    return this.session.write(async (tx) => {
      const rows = await tx.db
        .selectFrom(this.table.name)
        .select(['id', 'row_version'])
        .where('status', 'in', [...statuses])
        .where((eb) =>
          eb.or([
            eb('completed_at', '<', cutoff),
            eb.and([eb('completed_at', 'is', null), eb('created_at', '<', cutoff)]),
          ]),
        )
        .execute()
      for (const row of rows) await this.deleteIn(tx, row.id, Number(row.row_version))
      return rows.length
    })
  }

  async #read(tx: TxContext, key: unknown): Promise<ExportHistoryEntry> {
    const row = await this.currentRow(tx, key)
    if (!row) throw new NotFoundError(this.table.name, key)
    return this.fromRow(row)
  }

  #move(
    id: string,
    to: ExportStatus,
    changes: (tx: TxContext) => Record<string, unknown>,
  ): Promise<ExportHistoryEntry> {
    const key = validateKey(this.table, id)
    return this.session.write(async (tx) => {
      const job = await this.#read(tx, key)
      const from = job.status as ExportStatus
      if (!TRANSITIONS[from].includes(to)) {
        const allowed = TRANSITIONS[from]
        throw new ValidationError(
          `export_history ${String(key)} cannot go from ${from} to ${to} ` +
            `(from ${from}: ${allowed.length ? allowed.join(' or ') : 'none, it is finished'})`,
          'status',
        )
      }
      return this.updateIn(tx, key, job.rowVersion, { status: to, ...changes(tx) })
    })
  }
}
