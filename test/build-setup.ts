import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const ROOT = join(import.meta.dirname, '..')

/**
 * Whether some `src/**\/*.ts` or `migrations/*.ts` has no compiled `dist/…/*.js` as new as
 * itself, or the CommonJS build or the CLI bundle is older than the ESM build.
 */
function buildIsStale(): boolean {
  const stale = (dir: string) =>
    readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      .some((file) => {
        const js = join(ROOT, 'dist', dir, file.replace(/\.ts$/, '.js'))
        return !existsSync(js) || statSync(js).mtimeMs < statSync(join(ROOT, dir, file)).mtimeMs
      })
  const olderThanEsm = (file: string) =>
    !existsSync(file) || statSync(file).mtimeMs < statSync(join(ROOT, 'dist', 'src', 'index.js')).mtimeMs
  return (
    stale('src') ||
    stale('migrations') ||
    olderThanEsm(join(ROOT, 'dist', 'cjs', 'index.js')) ||
    olderThanEsm(join(ROOT, 'dist', 'cli', 'aura-db.mjs'))
  )
}

/**
 * CLI tests run the real built bin (`bin/aura-db.js` → `dist/cli/aura-db.mjs`, bundled from `dist/src`). This builds once per test run,
 * and only when a source file is newer than its build (`npm test` has just built).
 * Type errors are the type-check step's to report; here they only warn, as long as tsc emitted.
 */
export default function setup(): void {
  if (!buildIsStale()) return
  const started = Date.now()
  const tsc = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  )
  if (tsc.status !== 0)
    console.warn(`tsc reported errors (the type-check step fails on them):\n${tsc.stdout.slice(0, 2000)}`)
  const cjs = spawnSync(process.execPath, [join(ROOT, 'scripts/build-cjs.mjs')], {
    cwd: ROOT,
    encoding: 'utf8',
  })
  if (cjs.status !== 0) throw new Error(`The CommonJS build failed:\n${cjs.stdout}${cjs.stderr}`)
  const main = join(ROOT, 'dist/src/cli/main.js')
  if (!existsSync(main) || statSync(main).mtimeMs < started - 1000) {
    throw new Error(`The build produced no CLI:\n${tsc.stdout}${tsc.stderr}`)
  }
  const cli = spawnSync(process.execPath, [join(ROOT, 'scripts/build-cli.mjs')], {
    cwd: ROOT,
    encoding: 'utf8',
  })
  if (cli.status !== 0) throw new Error(`The CLI bundle failed:\n${cli.stdout}${cli.stderr}`)
}
