/**
 * A separate process for the backup fault tests (run with `node --import tsx`):
 * - `writer URL`: commits numbered transactions 1, 2, 3, … until killed; each one inserts the
 *   audit entry `row_id = n` and the configuration `n.<n>` together; prints `n` after each commit.
 * - `holder URL`: opens the database, reads from it, prints `ready` and keeps it open.
 * - `stalled-backup URL DIR`: starts `db.backup()` and, at its first progress report, prints
 *   `copying` and blocks (so that it can be killed in the middle of the backup).
 * - `slow-restore URL DIR FILE`: restores FILE; once the backup is staged beside the database and
 *   the database held, prints `held`, waits 1.5 s, swaps it in and prints `restored`.
 * - `restore URL DIR FILE`: restores the backup FILE of DIR over the database (yes: true) and
 *   prints `restored` or `restore-failed <message>`; with AURA_TEST_PAUSE_AT it stops at that
 *   step of the restore (src/pause-point.ts), to be killed there.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { openDatabase, restoreDatabase } from '../src/index.js'

const [mode, url, dir, file] = process.argv.slice(2)
if (!mode || !url)
  throw new Error('usage: backup-child.ts writer|holder|stalled-backup|slow-restore|restore URL [DIR] [FILE]')

if (mode === 'restore') {
  try {
    await restoreDatabase({ url, file: file!, ...(dir ? { dir } : {}), yes: true })
    process.stdout.write('restored\n')
  } catch (error) {
    process.stdout.write(`restore-failed ${(error as Error).message}\n`)
  }
  process.exit(0)
}

if (mode === 'slow-restore') {
  // Opens nothing itself: a restore refuses a database that is open.
  await restoreDatabase({
    url,
    dir: dir!,
    file: file!,
    async confirm() {
      process.stdout.write('held\n')
      await sleep(1_500)
      return true
    },
  })
  process.stdout.write('restored\n')
  process.exit(0)
}

const db = await openDatabase({ url })

if (mode === 'writer') {
  const timestamp = db.dialect.encode('timestamp', new Date())
  for (let n = 1; ; n++) {
    await db.dialect.kysely.transaction().execute(async (trx) => {
      await trx
        .insertInto('audit_entries')
        .values({ occurred_at: timestamp, table_name: 'numbered', row_id: String(n), action: 'insert' })
        .execute()
      await trx
        .insertInto('configurations')
        .values({ key: `n.${n}`, value: String(n), category: 'numbered' })
        .execute()
    })
    process.stdout.write(`${n}\n`)
  }
} else if (mode === 'holder') {
  await db.status()
  process.stdout.write('ready\n')
  // The timer keeps `db` reachable: once nothing refers to it, the garbage collector closes its
  // better-sqlite3 handle, and the lock this mode exists to hold goes with it.
  setInterval(() => db.dialect.location, 60_000)
} else if (mode === 'stalled-backup') {
  let stalled = false
  await db.backup({
    ...(dir ? { dir } : {}),
    onProgress() {
      if (stalled) return
      stalled = true
      process.stdout.write('copying\n')
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000)
    },
  })
  process.stdout.write('finished\n')
} else {
  throw new Error(`unknown mode ${mode}`)
}
