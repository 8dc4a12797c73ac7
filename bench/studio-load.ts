/**
 * How fast the studio's pages load on a large SQLite database (100,000 projects with 10 scenes
 * each, from the benchmark's data set): `npm run build && node dist/bench/studio-load.js FILE`.
 * Builds FILE when it does not exist, serves it with the studio in this process, and prints the
 * median and p95 of each page's server time as a browser would see it (request to last byte).
 * Not part of `npm run bench` or the test suite: a measurement, not a timed test.
 */
import { existsSync } from 'node:fs'
import { request } from 'node:http'
import { performance } from 'node:perf_hooks'
import { openDatabase } from '../src/index.js'
import { startStudio } from '../src/studio/server.js'
import { generateDataset, Random } from './dataset.js'
import { quantile } from './harness.js'
import { buildSqliteDatabase } from './sqlite-suite.js'

const PROJECTS = 100_000
const RUNS = 40

function get(url: URL, cookie: string): Promise<{ status: number; body: string; cookie?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: cookie ? { Cookie: cookie } : {} }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          body,
          ...(res.headers['set-cookie'] ? { cookie: res.headers['set-cookie'][0]!.split(';')[0]! } : {}),
        }),
      )
    })
    req.on('error', reject)
    req.end()
  })
}

const file = process.argv[2]
if (!file) throw new Error('usage: node dist/bench/studio-load.js FILE')
const dataset = generateDataset({
  projects: PROJECTS,
  scenesPerProject: 10,
  exports: 0,
  templates: 0,
  spareProjects: 0,
})
if (!existsSync(file)) {
  const started = performance.now()
  await buildSqliteDatabase(file, dataset.tables)
  console.log(`built ${file} in ${((performance.now() - started) / 1000).toFixed(1)} s`)
}
const db = await openDatabase({ url: `sqlite:${file}` })
const studio = await startStudio({
  db,
  port: 0,
  write: false,
  backupDir: `${file}-backups`,
  verifyArgs: ['--db', `sqlite:${file}`],
})
const base = new URL(studio.url)
const { cookie } = await get(base, '')
if (!cookie) throw new Error('no session cookie')

async function measure(name: string, paths: () => string): Promise<void> {
  const times: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const path = paths()
    const started = performance.now()
    const res = await get(new URL(path, base), cookie!)
    times.push(performance.now() - started)
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`)
  }
  times.sort((a, b) => a - b)
  console.log(
    `${name.padEnd(44)} median ${quantile(times, 0.5).toFixed(1)} ms  p95 ${quantile(times, 0.95).toFixed(1)} ms`,
  )
}

const random = new Random(7)
const ids = dataset.index.projectIds
await measure('project page (random project, 10 scenes)', () => `/projects/${random.pick(ids)}`)
await measure('versions page (random project)', () => `/projects/${random.pick(ids)}/versions`)
await measure('projects list, first page', () => '/projects')
await measure('projects list, status filter', () => `/projects?status=${random.pick(['Draft', 'Failed'])}`)
await measure('projects list, title search', () => `/projects?q=${random.pick(['launch', 'calm video'])}`)
// Deep pages: follow "next" from the first page, as a reader paging through would.
let path = '/projects'
const deep: string[] = []
for (let i = 0; i < 200; i++) {
  const res = await get(new URL(path, base), cookie)
  const next = /<a href="([^"]+)" rel="next">/.exec(res.body)
  if (!next) break
  path = next[1]!.replace(/&amp;/g, '&')
  deep.push(path)
}
let page = deep.length - RUNS
await measure(`projects list, pages ${deep.length - RUNS + 1}-${deep.length} (keyset)`, () => deep[page++]!)
await measure('audit trail, first page', () => '/audit')
await studio.close()
await db.close()
