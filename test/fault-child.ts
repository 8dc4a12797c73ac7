/**
 * A separate process for the fault tests (run with `node --import tsx`), using only the public
 * API. Every line it prints is one event, so that the parent knows exactly what was acknowledged:
 *
 * - `writer URL TAG FROM COUNT`: commits the numbered transactions FROM, FROM+1, … (COUNT of
 *   them, or until killed when COUNT is 0). Transaction n adds the project titled `TAG:n` and its
 *   10 scenes; `n` is printed after `db.transaction` returned. With `AURA_FAULT_WAIT_GO=1` it
 *   prints `ready` and starts at the line `go` on stdin; with `AURA_FAULT_HOLD_FIRST_MS=ms` its
 *   first transaction prints `holding` after its first write and keeps the write lock `ms`
 *   longer. It stops when stdin closes. Any error: printed as `error {json}`, exit code 1.
 * - `churn URL`: adds projects with 10 scenes and rewrites all 10 scenes of an existing project
 *   to a new generation, in one transaction each, alternately, until stdin closes. Prints the
 *   number of transactions committed so far after each one.
 * - `reader URL ROUNDS`: ROUNDS times, reads the projects and then each one's scenes, printing
 *   `violation {json}` for a project without exactly 10 scenes or with scenes of more than one
 *   generation (a torn transaction), then `round r`. Exits 0 after ROUNDS rounds.
 * - `commands URL`: opens (and migrates) the database, prints `ready`, then obeys stdin lines:
 *   `write K` (K numbered transactions, stopping at the first error), `attempt K` (K numbered
 *   transactions, each tried whatever became of the previous one), `backup DIR KEEP`, `close`. Prints
 *   `ok n` per acknowledged transaction, `failed n {json}` per failed one, `backup {json}` or
 *   `backup-failed {json}`, and `done` after each command.
 * - `inspect URL`: prints one JSON line: the numbers of the projects `commands` wrote, the
 *   projects whose scene count is not 10, and the failed checks of `verifyDatabase`.
 */
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { AuraDataError, openDatabase, verifyDatabase, type AuraDatabase } from '../src/index.js'

/** Scenes per project: the unit whose atomicity the tests check. */
const SCENES = 10

const [mode, url, ...args] = process.argv.slice(2)
if (!mode || !url) throw new Error('usage: fault-child.ts MODE URL …')

/** An error as the parent needs it: its class, whether it is typed, its code; never a stack. */
function describeError(error: unknown): Record<string, unknown> {
  const e = error as { name?: unknown; code?: unknown; message?: unknown; cause?: { code?: unknown } }
  return {
    name: e?.name,
    aura: error instanceof AuraDataError,
    code: e?.code,
    message: e?.message,
    causeCode: e?.cause?.code,
  }
}

function print(line: string): void {
  // On Linux a write to a pipe is synchronous: once this returns, the parent can read the line.
  process.stdout.write(`${line}\n`)
}

/** Project `TAG:n` and its 10 scenes, in one unit of work. */
async function addNumbered(db: AuraDatabase, tag: string, n: number, holdMs = 0): Promise<string> {
  return db.transaction(async (uow) => {
    const project = await uow.projectStates.add({ title: `${tag}:${n}` })
    if (holdMs > 0) {
      // The write lock is taken (BEGIN IMMEDIATE, and a row written): another process has to
      // wait for it while this one lets the event loop run on.
      print('holding')
      await sleep(holdMs)
    }
    await uow.sceneStates.addRange(
      Array.from({ length: SCENES }, (_, sceneIndex) => ({
        projectId: project.id,
        sceneIndex,
        scriptText: 'generation 0',
      })),
    )
    return project.id
  })
}

/**
 * Whether stdin has been closed, so far: a loop that checks it stops when its test says so, or
 * when the test runner died (then the pipe closes too) and it would otherwise run forever.
 */
function stdinClosed(): () => boolean {
  let closed = false
  process.stdin.on('end', () => (closed = true)).resume()
  return () => closed
}

/**
 * Lets the event loop run once. On SQLite every query of the library completes synchronously,
 * so a loop of transactions is one chain of microtasks that never lets stdin's `end` through.
 */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** Lines of stdin, one at a time; null once stdin is closed. */
function stdinLines(): () => Promise<string | null> {
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
  return async () => {
    const next = await lines.next()
    return next.done ? null : (next.value as string)
  }
}

const db = await openDatabase({ url, actor: 'fault-child', migrate: mode === 'commands' })
try {
  if (mode === 'writer') {
    const [tag = 'w', from = '1', count = '0'] = args
    if (process.env.AURA_FAULT_WAIT_GO === '1') {
      const next = stdinLines()
      print('ready')
      if ((await next()) !== 'go') throw new Error('expected "go" on stdin')
    }
    const stopped = stdinClosed()
    const holdFirstMs = Number(process.env.AURA_FAULT_HOLD_FIRST_MS ?? 0)
    const last = Number(count) > 0 ? Number(from) + Number(count) - 1 : Infinity
    for (let n = Number(from); n <= last && !stopped(); n++) {
      await addNumbered(db, tag, n, n === Number(from) ? holdFirstMs : 0)
      print(String(n))
      await nextTurn()
    }
  } else if (mode === 'churn') {
    const stopped = stdinClosed()
    const projects: string[] = []
    for (let n = 1; !stopped(); n++) {
      if (n % 2 === 1 || projects.length === 0) {
        projects.push(await addNumbered(db, 'churn', n))
      } else {
        const projectId = projects[n % projects.length]!
        await db.transaction(async (uow) => {
          const scenes = await uow.sceneStates.find({ projectId })
          for (const scene of scenes) {
            await uow.sceneStates.update({ ...scene, scriptText: `generation ${n}` })
          }
        })
      }
      print(String(n))
      await nextTurn()
    }
  } else if (mode === 'reader') {
    const rounds = Number(args[0] ?? 100)
    for (let round = 1; round <= rounds; round++) {
      for (const project of await db.projectStates.getAll()) {
        const scenes = await db.sceneStates.find({ projectId: project.id })
        const generations = new Set(scenes.map((s) => s.scriptText))
        if (scenes.length !== SCENES || generations.size !== 1) {
          print(
            `violation ${JSON.stringify({ project: project.title, scenes: scenes.length, generations: [...generations] })}`,
          )
        }
      }
      print(`round ${round}`)
    }
  } else if (mode === 'commands') {
    const next = stdinLines()
    let n = 0
    print('ready')
    for (let line = await next(); line !== null && line !== 'close'; line = await next()) {
      const [command, ...rest] = line.split(' ')
      if (command === 'write' || command === 'attempt') {
        for (let i = 0; i < Number(rest[0]); i++) {
          n++
          try {
            await addNumbered(db, 'disk', n)
            print(`ok ${n}`)
          } catch (error) {
            print(`failed ${n} ${JSON.stringify(describeError(error))}`)
            if (command === 'write') break
          }
        }
      } else if (command === 'backup') {
        try {
          const result = await db.backup({ dir: rest[0]!, keep: Number(rest[1]) })
          print(`backup ${JSON.stringify(result)}`)
        } catch (error) {
          print(`backup-failed ${JSON.stringify(describeError(error))}`)
        }
      } else throw new Error(`unknown command ${line}`)
      print('done')
    }
  } else if (mode === 'inspect') {
    const projects = await db.projectStates.getAll()
    const numbers = projects
      .filter((p) => p.title.startsWith('disk:'))
      .map((p) => Number(p.title.slice('disk:'.length)))
      .sort((a, b) => a - b)
    const torn: string[] = []
    for (const project of projects) {
      if ((await db.sceneStates.count({ projectId: project.id })) !== SCENES) torn.push(project.title)
    }
    const report = await verifyDatabase(db)
    print(JSON.stringify({ numbers, torn, failedChecks: report.checks.filter((c) => !c.ok) }))
  } else {
    throw new Error(`unknown mode ${mode}`)
  }
} catch (error) {
  print(`error ${JSON.stringify(describeError(error))}`)
  process.exitCode = 1
} finally {
  await db.close()
  // An open stdin would keep the process alive after its work is done.
  process.stdin.destroy()
}
