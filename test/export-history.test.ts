import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import {
  ConcurrencyError,
  NotFoundError,
  ValidationError,
  type AuraDatabase,
  type ExportHistoryEntry,
  type ExportStatus,
} from '../src/index.js'
import { libraryDialects as dialects } from './dialects.js'
import { useMigratedDatabase } from './helpers.js'

const request = (presetName: string) => ({
  inputFile: '/tmp/in.mp4',
  outputFile: `/out/${presetName}.mp4`,
  presetName,
  platform: 'YouTube',
  resolution: '1920x1080',
  codec: 'h264',
})

/** A job brought to `status` along legal transitions. */
async function jobIn(
  db: AuraDatabase,
  status: ExportStatus,
  preset = `job-${status}`,
): Promise<ExportHistoryEntry> {
  const job = await db.exportHistory.enqueue(request(preset))
  if (status === 'Queued') return job
  // Only the .NET app's exports are Processing (imported rows); none of the library's calls moves there.
  if (status === 'Processing') {
    const imported = await db.exportHistory.add({ ...request(`${preset}-app`), status: 'Processing' })
    return imported
  }
  if (status === 'Cancelled') return db.exportHistory.cancel(job.id)
  await db.exportHistory.start(job.id)
  if (status === 'Completed')
    return db.exportHistory.complete(job.id, { fileSize: 1000, durationSeconds: 12.5 })
  if (status === 'Failed') return db.exportHistory.fail(job.id, 'encoder crashed')
  return (await db.exportHistory.getById(job.id))!
}

const move: Record<ExportStatus, (db: AuraDatabase, id: string) => Promise<unknown>> = {
  Queued: () => Promise.resolve(),
  Processing: () => Promise.resolve(),
  InProgress: (db, id) => db.exportHistory.start(id),
  Completed: (db, id) => db.exportHistory.complete(id, { fileSize: 1, durationSeconds: 1 }),
  Failed: (db, id) => db.exportHistory.fail(id, 'boom'),
  Cancelled: (db, id) => db.exportHistory.cancel(id),
}

const LEGAL: Record<ExportStatus, readonly ExportStatus[]> = {
  Queued: ['InProgress', 'Cancelled'],
  InProgress: ['Completed', 'Failed', 'Cancelled'],
  Processing: ['Completed', 'Failed', 'Cancelled'],
  Completed: [],
  Failed: [],
  Cancelled: [],
}

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: export history`, () => {
    const ctx = useMigratedDatabase(d)

    it('runs a job through its lifecycle, setting the timestamps', async () => {
      const { db } = ctx
      const queued = await db.exportHistory.enqueue(request('lifecycle'))
      expect(queued).toMatchObject({ status: 'Queued', progress: 0, startedAt: null, completedAt: null })
      const started = await db.exportHistory.start(queued.id)
      expect(started.status).toBe('InProgress')
      expect(started.startedAt).toBeInstanceOf(Date)
      expect((await db.exportHistory.progress(queued.id, 42.5)).progress).toBe(42.5)
      const done = await db.exportHistory.complete(queued.id, { fileSize: 52_428_800, durationSeconds: 120 })
      expect(done).toMatchObject({
        status: 'Completed',
        progress: 100,
        fileSize: 52_428_800,
        durationSeconds: 120,
      })
      expect(done.completedAt!.getTime()).toBeGreaterThanOrEqual(started.startedAt!.getTime())
      expect(done.rowVersion).toBe(4)

      const failed = await jobIn(db, 'Failed', 'lifecycle-failed')
      expect(failed).toMatchObject({ status: 'Failed', errorMessage: 'encoder crashed' })
      expect(failed.completedAt).toBeInstanceOf(Date)
      const cancelledEarly = await jobIn(db, 'Cancelled', 'lifecycle-cancel')
      expect(cancelledEarly).toMatchObject({ status: 'Cancelled', startedAt: null })
      expect(cancelledEarly.completedAt).toBeInstanceOf(Date)
      const running = await jobIn(db, 'InProgress', 'lifecycle-running')
      expect((await db.exportHistory.cancel(running.id)).status).toBe('Cancelled')

      // A very long failure message (tool output) is kept, cut to the column's 1000 characters.
      const long = await jobIn(db, 'InProgress', 'lifecycle-long')
      const message = 'ffmpeg: '.padEnd(5000, 'x')
      const failedLong = await db.exportHistory.fail(long.id, message)
      expect([...failedLong.errorMessage!].length).toBe(1000)
      expect(failedLong.errorMessage!.endsWith('…')).toBe(true)
    })

    it('refuses every illegal transition with a ValidationError naming from and to, changing nothing', async () => {
      const { db } = ctx
      const statuses = Object.keys(LEGAL) as ExportStatus[]
      for (const from of statuses) {
        for (const to of statuses) {
          if (to === 'Queued' || to === 'Processing' || LEGAL[from].includes(to)) continue
          const job = await jobIn(db, from)
          const error = await move[to](db, job.id).then(
            () => null,
            (e: unknown) => e,
          )
          expect(error, `${from} → ${to}`).toBeInstanceOf(ValidationError)
          expect((error as Error).message).toContain(`from ${from} to ${to}`)
          expect(await db.exportHistory.getById(job.id)).toEqual(job)
        }
        // And each legal one works.
        for (const to of LEGAL[from]) {
          const job = await jobIn(db, from)
          await move[to](db, job.id)
          expect((await db.exportHistory.getById(job.id))!.status).toBe(to)
        }
      }
    })

    it('progress only while running, 0 to 100; unknown jobs and bad input are refused', async () => {
      const { db } = ctx
      const queued = await jobIn(db, 'Queued', 'progress-queued')
      await expect(db.exportHistory.progress(queued.id, 10)).rejects.toBeInstanceOf(ValidationError)
      const running = await jobIn(db, 'InProgress', 'progress-running')
      for (const bad of [-1, 100.5, Number.NaN, Infinity]) {
        await expect(db.exportHistory.progress(running.id, bad)).rejects.toBeInstanceOf(ValidationError)
      }
      await expect(
        db.exportHistory.complete(running.id, { fileSize: -5, durationSeconds: 1 }),
      ).rejects.toBeInstanceOf(ValidationError)
      await expect(db.exportHistory.fail(running.id, '  ')).rejects.toBeInstanceOf(ValidationError)
      expect((await db.exportHistory.getById(running.id))!.status).toBe('InProgress')
      const missing = '00000000-0000-4000-8000-000000000000'
      await expect(db.exportHistory.start(missing)).rejects.toBeInstanceOf(NotFoundError)
      await expect(db.exportHistory.start('not-a-uuid')).rejects.toBeInstanceOf(ValidationError)
      await expect(db.exportHistory.enqueue({ ...request('x'), presetName: '' })).rejects.toBeInstanceOf(
        ValidationError,
      )
    })

    it('of two concurrent starts exactly one wins', async () => {
      const { db } = ctx
      const job = await jobIn(db, 'Queued', 'race')
      const results = await Promise.allSettled([
        db.exportHistory.start(job.id),
        db.exportHistory.start(job.id),
      ])
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
      const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
      expect(
        loser.reason instanceof ValidationError || loser.reason instanceof ConcurrencyError,
        String(loser.reason),
      ).toBe(true)
      expect(await db.exportHistory.getById(job.id)).toMatchObject({ status: 'InProgress', rowVersion: 2 })
    })

    it('queries newest first, with status and time filters and stable paging', async () => {
      const { db } = ctx
      const from = new Date()
      await sleep(5)
      const statuses: ExportStatus[] = ['Queued', 'InProgress', 'Completed', 'Failed', 'Cancelled']
      const ours: string[] = []
      for (let i = 0; i < 25; i++) ours.push((await jobIn(db, statuses[i % 5]!, `page-${i}`)).id)
      await sleep(5)
      const to = new Date()

      const all = await db.exportHistory.query({ from, to, limit: 1000 })
      expect(all.map((j) => j.id).sort()).toEqual([...ours].sort())
      for (let i = 1; i < all.length; i++) {
        expect(all[i - 1]!.createdAt.getTime()).toBeGreaterThanOrEqual(all[i]!.createdAt.getTime())
      }
      const pages: ExportHistoryEntry[] = []
      for (let offset = 0; offset < 30; offset += 10) {
        const page = await db.exportHistory.query({ from, to, limit: 10, offset })
        expect(page.length).toBe(offset < 20 ? 10 : 5)
        pages.push(...page)
      }
      expect(pages.map((j) => j.id)).toEqual(all.map((j) => j.id))

      const completed = await db.exportHistory.query({ from, to, status: 'Completed', limit: 1000 })
      expect(completed).toHaveLength(5)
      expect(completed.every((j) => j.status === 'Completed')).toBe(true)
      const twoKinds = await db.exportHistory.query({
        from,
        to,
        status: ['Failed', 'Cancelled'],
        limit: 1000,
      })
      expect(twoKinds).toHaveLength(10)
      expect(await db.exportHistory.query({ from: to, limit: 10 })).toEqual([])

      for (const bad of [{ limit: 0 }, { limit: 1001 }, { offset: -1 }, { status: 'Done' as ExportStatus }]) {
        await expect(db.exportHistory.query(bad)).rejects.toBeInstanceOf(ValidationError)
      }
    })

    it('prune deletes only finished jobs older than the date, audited, and returns how many', async () => {
      const { db } = ctx
      await db.exportHistory.prune(new Date(Date.now() + 1000))
      const oldDone = await jobIn(db, 'Completed', 'prune-old-done')
      const oldFailed = await jobIn(db, 'Failed', 'prune-old-failed')
      const oldQueued = await jobIn(db, 'Queued', 'prune-old-queued')
      const oldRunning = await jobIn(db, 'InProgress', 'prune-old-running')
      await sleep(20)
      const cutoff = new Date()
      await sleep(20)
      const newDone = await jobIn(db, 'Completed', 'prune-new-done')

      expect(await db.exportHistory.prune(cutoff)).toBe(2)
      expect(await db.exportHistory.getById(oldDone.id)).toBeNull()
      expect(await db.exportHistory.getById(oldFailed.id)).toBeNull()
      for (const kept of [oldQueued, oldRunning, newDone])
        expect(await db.exportHistory.getById(kept.id)).not.toBeNull()
      const history = await db.auditEntries.history('export_history', oldDone.id)
      expect(history.at(-1)?.action).toBe('purge')
      expect(await db.exportHistory.prune(cutoff)).toBe(0)
      await expect(db.exportHistory.prune(new Date('nope'))).rejects.toBeInstanceOf(ValidationError)
    })
  })
}
