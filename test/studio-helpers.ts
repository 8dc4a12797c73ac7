import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll } from 'vitest'
import type { AuraDatabase } from '../src/index.js'
import { startCli } from './cli-helpers.js'

/** Debian's Chromium, which the browser tests drive (never a downloaded browser). */
export const CHROMIUM = '/usr/bin/chromium'

/**
 * Whether the browser tests can run. Without Chromium they are skipped, loudly; with
 * AURA_REQUIRE_BROWSER=1 (CI) a missing Chromium is a failure.
 */
export function browserAvailable(skipped: string): boolean {
  if (existsSync(CHROMIUM)) return true
  const message = `Chromium is not installed at ${CHROMIUM}`
  if (process.env.AURA_REQUIRE_BROWSER === '1') throw new Error(`${message} (AURA_REQUIRE_BROWSER=1)`)
  const bar = '!'.repeat(78)
  console.warn(
    `\n${bar}\n!! ${message}: SKIPPED: ${skipped.toUpperCase()}.\n!! apt-get install chromium\n${bar}\n`,
  )
  return false
}

/**
 * One headless Chromium for a test file: launched before its tests and closed after them, when
 * {@link browserAvailable}. `browser()` is only called by tests that are skipped without one.
 */
export function useChromium(skipped: string): { readonly available: boolean; browser(): Browser } {
  const available = browserAvailable(skipped)
  let launched: Browser | undefined
  beforeAll(async () => {
    if (!available) return
    launched = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-background-networking'],
    })
  })
  afterAll(async () => {
    await launched?.close()
  })
  return { available, browser: () => launched! }
}

/** A secret key for one test file: the test's handle and the studio process share it. */
export function testSecretKey(): string {
  return randomBytes(32).toString('base64')
}

/** A studio started through the real CLI. */
export interface RunningStudio {
  /** The printed URL, with the token. */
  readonly url: string
  /** `http://127.0.0.1:<port>` */
  readonly origin: string
  readonly host: string
  readonly token: string
  readonly child: ChildProcess
  stop(): Promise<void>
}

/** Runs `aura-db --db URL studio --port 0 …args` and waits for the URL it prints. */
export async function startStudioCli(
  dbUrl: string,
  args: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<RunningStudio> {
  const child = startCli(['--db', dbUrl, 'studio', '--port', '0', ...args], env)
  let stdout = ''
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  // No time bound: a studio starting slowly on a loaded machine is not a failure.
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      const match = /^(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m.exec(stdout)
      if (match) resolve(match[1]!)
    })
    child.on('exit', (code) => reject(new Error(`studio exited with ${code}:\n${stdout}${stderr}`)))
  })
  const parsed = new URL(url)
  return {
    url,
    origin: parsed.origin,
    host: parsed.host,
    token: parsed.searchParams.get('token')!,
    child,
    async stop() {
      if (child.exitCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    },
  }
}

/** An HTTP response as the security tests look at it. */
export interface HttpResponse {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: string
}

/**
 * One raw HTTP request to the studio (node:http, so that `Host` and `Origin` can be anything).
 * `cookie` is sent as the studio's cookie; headers default to those a browser on the page sends.
 */
export function studioRequest(
  studio: RunningStudio,
  path: string,
  options: {
    method?: string
    headers?: Record<string, string>
    cookie?: string | null
    form?: Record<string, string>
  } = {},
): Promise<HttpResponse> {
  const body = options.form ? new URLSearchParams(options.form).toString() : undefined
  const headers: Record<string, string> = { Host: studio.host, ...options.headers }
  if (options.cookie) headers.Cookie = options.cookie
  if (body !== undefined) headers['Content-Type'] = 'application/x-www-form-urlencoded'
  const { port } = new URL(studio.origin)
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: Number(port), path, method: options.method ?? 'GET', headers },
      (res) => {
        let text = ''
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

/** Opens the tokened URL and returns the cookie the studio sets (what a browser then sends). */
export async function studioCookie(studio: RunningStudio): Promise<string> {
  const res = await studioRequest(studio, `/?token=${studio.token}`)
  const setCookie = res.headers['set-cookie']
  const first = Array.isArray(setCookie) ? setCookie[0] : setCookie
  if (res.status !== 303 || !first) throw new Error(`no cookie for the token (status ${res.status})`)
  return first.split(';')[0]!
}

/** What the studio tests put in a database. */
export interface StudioData {
  readonly projectId: string
  /** A stored title that is markup: it must show as text. */
  readonly scriptTitle: string
  readonly scriptProjectId: string
  readonly v1: string
  readonly v2: string
  /** A sensitive setting's plaintext, which no response may contain. */
  readonly secretValue: string
}

export const SCRIPT_TITLE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2">'

/**
 * A project with scenes, an asset, a checkpoint, two versions with different briefs and
 * timelines, a tracked edit (undo history), a project whose title is markup, and a sensitive
 * setting. Written as actor `alice`.
 */
export async function fillStudioData(db: AuraDatabase): Promise<StudioData> {
  const project = await db.projectStates.add({
    title: 'Launch video',
    description: 'The spring launch',
    briefJson: JSON.stringify({ topic: 'Spring launch', tone: 'calm', keyPoints: ['price', 'colours'] }),
    renderSpecJson: JSON.stringify({ resolution: '1920x1080', fps: 30 }),
  })
  await db.sceneStates.add({
    projectId: project.id,
    sceneIndex: 0,
    scriptText: 'Opening shot of the product',
  })
  await db.sceneStates.add({ projectId: project.id, sceneIndex: 1, scriptText: 'The price reveal' })
  await db.assetStates.add({ projectId: project.id, assetType: 'Image', filePath: '/media/cover.png' })
  await db.renderCheckpoints.add({
    projectId: project.id,
    stageName: 'Script',
    totalScenes: 2,
    completedScenes: 1,
    checkpointData: JSON.stringify({ step: 'draft', scenesDone: [0] }),
  })
  const v1 = await db.projectVersions.create(project.id, { type: 'Manual', name: 'First cut' })
  const current = (await db.projectStates.getById(project.id))!
  await db.transaction(
    async (uow) => {
      uow.trackActions({ projectId: project.id, userId: 'alice' })
      await uow.projectStates.update({
        id: project.id,
        rowVersion: current.rowVersion,
        briefJson: JSON.stringify({ topic: 'Summer launch', tone: 'bold', keyPoints: ['price', 'colours'] }),
      })
    },
    { actor: 'alice' },
  )
  const scene = (await db.sceneStates.find({ projectId: project.id, sceneIndex: 1 }))[0]!
  await db.sceneStates.update({ id: scene.id, rowVersion: scene.rowVersion, scriptText: 'The price drop' })
  const v2 = await db.projectVersions.create(project.id, { type: 'Manual', name: 'Second cut' })
  // Added, then renamed: the rename's audit entry records the markup as a value.
  const added = await db.projectStates.add({ title: 'Renamed project' })
  const scripted = await db.projectStates.update({
    id: added.id,
    rowVersion: added.rowVersion,
    title: SCRIPT_TITLE,
    description: SCRIPT_TITLE,
  })
  const secretValue = `sk-live-${randomBytes(12).toString('hex')}`
  await db.configurations.set('studio.test.apiKey', secretValue, { category: 'Secrets', isSensitive: true })
  return {
    projectId: project.id,
    scriptTitle: SCRIPT_TITLE,
    scriptProjectId: scripted.id,
    v1: v1.id,
    v2: v2.id,
    secretValue,
  }
}
