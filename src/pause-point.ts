import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

/** The places a fault test can stop a process at (see {@link pausePoint}). */
export type PausePoint =
  /** Backup: the copy is in its temporary file (full size), not yet verified or published. */
  | 'backup:written'
  /** Restore: the backup is about to replace the database (SQLite: just before the rename; PostgreSQL: inside the transaction, its data loaded, not committed). */
  | 'restore:swap'
  /** Restore: the database was replaced and released; its verification has not started. */
  | 'restore:verify'

/**
 * **Test-only.** A named step at which a fault test can hold a process, to kill it there
 * (SIGKILL mid-swap) or to change the database under it before it goes on.
 *
 * Inert unless the environment variable `AURA_TEST_PAUSE_AT` names this point; then the process
 * creates `$AURA_TEST_PAUSE_DIR/paused` (holding its pid) and waits until
 * `$AURA_TEST_PAUSE_DIR/resume` exists. Otherwise the cost is one environment lookup at a step
 * that runs once per restore. Not part of the public API; applications never set these variables.
 */
export async function pausePoint(point: PausePoint): Promise<void> {
  if (process.env.AURA_TEST_PAUSE_AT !== point) return
  const dir = process.env.AURA_TEST_PAUSE_DIR
  if (!dir) throw new Error(`AURA_TEST_PAUSE_AT=${point} needs AURA_TEST_PAUSE_DIR`)
  writeFileSync(join(dir, 'paused'), String(process.pid))
  while (!existsSync(join(dir, 'resume'))) await sleep(10)
}
