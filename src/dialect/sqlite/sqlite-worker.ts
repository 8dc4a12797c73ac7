import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import type { BackupProgress } from '../dialect.js'

/** A backup's online copy from `source` into the existing empty file `file`, then rollback-journal mode. */
export interface CopyJob {
  readonly job: 'copy'
  readonly source: string
  readonly file: string
  readonly pagesPerStep: number
  readonly busyTimeoutMs: number
}

/** quick_check, tables, history and row counts of a backup file, opened read-only. */
export interface InspectJob {
  readonly job: 'inspect'
  readonly file: string
  readonly historyTable: string
}

/** What an inspect job found; `failed` names the step that threw (open, check, history). */
export type InspectFacts =
  | {
      readonly problems: string[]
      readonly migrations: string[]
      readonly rowCounts: Record<string, number>
    }
  | { readonly failed: 'open' | 'check' | 'history'; readonly message: string }

/**
 * The worker's program. It is evaluated from this string, not loaded from a file of its own: the
 * library runs from dist/src (ESM), from dist/cjs (CommonJS) and, under the tests, from its
 * TypeScript sources, and a worker file would need a path right in all three. It needs only
 * Node's own modules and the driver, whose resolved path it is given.
 */
const PROGRAM = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)

async function copy({ source, file, pagesPerStep, busyTimeoutMs }) {
  const db = new Database(source, { timeout: busyTimeoutMs, fileMustExist: true })
  try {
    // One read transaction for the whole copy: a fixed WAL snapshot (SqliteBackup's comment).
    db.exec('begin')
    db.prepare('select count(*) from sqlite_schema').get()
    const pageSize = db.pragma('page_size', { simple: true })
    const report = (done, total) =>
      parentPort.postMessage({ progress: { done, total, doneBytes: done * pageSize, totalBytes: total * pageSize } })
    const result = await db.backup(file, {
      progress({ totalPages, remainingPages }) {
        report(totalPages - remainingPages, totalPages)
        return pagesPerStep
      },
    })
    report(result.totalPages, result.totalPages)
    db.exec('commit')
  } finally {
    db.close()
  }
  const copied = new Database(file, { fileMustExist: true })
  try {
    copied.pragma('journal_mode = DELETE')
  } finally {
    copied.close()
  }
}

function inspect({ file, historyTable }) {
  let db
  try {
    db = new Database(file, { readonly: true, fileMustExist: true })
  } catch (error) {
    return { failed: 'open', message: error.message }
  }
  try {
    let problems
    try {
      problems = db.pragma('quick_check').map((row) => row.quick_check)
    } catch (error) {
      return { failed: 'check', message: error.message }
    }
    if (problems.length !== 1 || problems[0] !== 'ok') return { problems, migrations: [], rowCounts: {} }
    const tables = db
      .prepare("select name from sqlite_schema where type = 'table' and name not like 'sqlite_%' order by name")
      .pluck()
      .all()
    let migrations = []
    try {
      if (tables.includes(historyTable)) {
        migrations = db.prepare('select name from "' + historyTable + '" order by name').pluck().all()
      }
    } catch (error) {
      return { failed: 'history', message: error.message }
    }
    const rowCounts = {}
    for (const table of tables) {
      rowCounts[table] = db.prepare('select count(*) from "' + table.replaceAll('"', '""') + '"').pluck().get()
    }
    return { problems, migrations, rowCounts }
  } finally {
    db.close()
  }
}

const job = workerData.job
;(job.job === 'copy' ? copy(job) : Promise.resolve(inspect(job))).then(
  (result) => parentPort.postMessage({ result }),
  (error) => parentPort.postMessage({ error: { message: error.message, code: error.code } }),
)
`

/**
 * Runs a backup's heavy SQLite work (the online copy, the check of the copy) on a worker thread
 * of its own. Both are synchronous calls of the driver: on the application's thread, each step
 * of the copy and the whole quick_check held its event loop (0.3 s for a 390 MB database), and a
 * writer in the same process waited; on a worker they also run beside the hash of the file. A
 * driver error comes back as an Error with its message and SQLite code.
 */
export function runSqliteJob(job: CopyJob, onProgress?: (progress: BackupProgress) => void): Promise<void>
export function runSqliteJob(job: InspectJob): Promise<InspectFacts>
export function runSqliteJob(
  job: CopyJob | InspectJob,
  onProgress?: (progress: BackupProgress) => void,
): Promise<unknown> {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3')
  const worker = new Worker(PROGRAM, { eval: true, workerData: { driver, job } })
  return new Promise((resolve, reject) => {
    let settled = false
    const settle = (outcome: () => void) => {
      if (settled) return
      settled = true
      outcome()
      void worker.terminate()
    }
    worker.on(
      'message',
      (message: {
        progress?: BackupProgress
        result?: unknown
        error?: { message: string; code?: string }
      }) => {
        if (message.progress) onProgress?.(message.progress)
        else if (message.error) {
          const { message: text, code } = message.error
          settle(() => reject(Object.assign(new Error(text), code === undefined ? {} : { code })))
        } else settle(() => resolve(message.result))
      },
    )
    worker.on('error', (error) => settle(() => reject(error)))
    worker.on('exit', (code) =>
      settle(() => reject(new Error(`The SQLite backup worker stopped (exit code ${code})`))),
    )
  })
}
