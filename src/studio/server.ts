import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { describeError } from '../cli/output.js'
import type { AuraDatabase } from '../database.js'
import {
  AuraDataError,
  BusyError,
  ConcurrencyError,
  NotFoundError,
  usage,
  UsageError,
  ValidationError,
} from '../errors.js'
import { packageRoot } from '../paths.js'
import { auditRoutes } from './audit-page.js'
import { BackupJob } from './backup-job.js'
import { VerifyJob } from './verify-job.js'
import { configurationRoutes } from './configuration-page.js'
import { erRoutes } from './er-page.js'
import { healthRoutes } from './health-page.js'
import { historyRoutes } from './history-page.js'
import { html } from './html.js'
import { page } from './layout.js'
import { projectRoutes } from './project-page.js'
import { projectsRoutes } from './projects-page.js'
import { rowRoutes } from './row-page.js'
import { tablesRoutes } from './tables-page.js'
import type { Route, StudioContext, StudioResponse } from './routes.js'
import { addressedToStudio, cookieValue, randomSecret, secretMatches, SECURITY_HEADERS } from './security.js'
import { versionsRoutes } from './versions-page.js'

/** The only address the studio listens on: it is a tool for the person at this machine. */
export const STUDIO_HOST = '127.0.0.1'

/** Largest request body accepted (the write forms send a few short fields). */
const MAX_BODY_BYTES = 64 * 1024

const ROUTES: readonly Route[] = [
  ...projectsRoutes,
  ...projectRoutes,
  ...tablesRoutes,
  ...rowRoutes,
  ...versionsRoutes,
  ...auditRoutes,
  ...historyRoutes,
  ...configurationRoutes,
  ...healthRoutes,
  ...erRoutes,
]

/** The studio's own files, served from the package's assets/ (no CDN): path → file, type. */
const STATIC_FILES: Readonly<Record<string, readonly [string, string]>> = {
  '/static/studio.css': ['studio.css', 'text/css; charset=utf-8'],
  '/static/studio.js': ['studio.js', 'text/javascript; charset=utf-8'],
  '/static/favicon.svg': ['favicon.svg', 'image/svg+xml'],
  // Browsers ask for it on their own, before they read the page's icon link.
  '/favicon.ico': ['favicon.svg', 'image/svg+xml'],
}

/** Options of {@link startStudio}. */
export interface StudioOptions {
  /** The open database the studio shows (the caller closes it after the studio). */
  readonly db: AuraDatabase
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  readonly port: number
  /** Enables the write actions: restore a version, undo/redo, take a backup, restore a deleted row, edit a row. */
  readonly write: boolean
  /** Where backups are listed and taken. */
  readonly backupDir: string
  /**
   * The global options of `aura-db` that name the same database, migrations and schema
   * (`['--db', url, …]`): the health page's verify runs `aura-db verify` with them in a child process.
   */
  readonly verifyArgs: readonly string[]
}

/** A running studio. */
export interface Studio {
  /** The URL to open, with the run's access token. */
  readonly url: string
  /** Stops accepting requests, waits for a running backup, closes the server (not the database). */
  close(): Promise<void>
}

/**
 * Serves Aura Studio for one open database on 127.0.0.1:
 * 1. every request must be addressed to the bound address (`Host`, and `Origin` when sent);
 * 2. it must carry the run's random token: in the URL once (it is then kept in an HttpOnly,
 *    SameSite=Strict cookie, and the browser is sent to the same page without it), else 401;
 * 3. a write action (POST) is refused unless the studio runs with `write`, and needs the run's
 *    CSRF token; it goes through the library (validation, audit, concurrency checks);
 * 4. every response carries a strict Content-Security-Policy and no CORS headers; every value
 *    on a page is HTML-escaped (src/studio/html.ts).
 * `aura-db studio` starts it; the tests start it with `port: 0` and read `url`.
 */
export async function startStudio(options: StudioOptions): Promise<Studio> {
  const { db } = options
  const token = randomSecret()
  const statics = Object.fromEntries(
    Object.entries(STATIC_FILES).map(([path, [file]]) => [
      path,
      readFileSync(join(packageRoot(), 'assets', file)),
    ]),
  )
  const projectTable = (await db.dialect.introspect()).tables.find((t) => t.name === 'project_states')
  const ctx: StudioContext = {
    db,
    write: options.write,
    csrf: randomSecret(),
    backupDir: options.backupDir,
    backups: new BackupJob(db, options.backupDir),
    verify: new VerifyJob(options.verifyArgs),
    projectCategory: projectTable?.columns.some((c) => c.name === 'category') ?? false,
  }

  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? usage.portInUse(options.port) : error),
    )
    server.listen(options.port, STUDIO_HOST, () => {
      server.removeAllListeners('error')
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  const host = `${STUDIO_HOST}:${port}`
  // Cookies are not separated by port: two studios on this machine must not share one.
  const cookie = `aura_studio_${port}`

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value)
    serve(req, res).catch((error: unknown) => {
      if (!res.headersSent) text(res, 500, `Internal error: ${describeError(error).message}`)
      else res.destroy()
    })
  })

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!addressedToStudio(req, host)) {
      text(res, 403, `Refused: this studio answers only requests addressed to http://${host}.`)
      return
    }
    const url = new URL(req.url ?? '/', `http://${host}`)
    const given = url.searchParams.get('token')
    if (given !== null && req.method === 'GET' && secretMatches(given, token)) {
      url.searchParams.delete('token')
      res.setHeader('Set-Cookie', `${cookie}=${token}; HttpOnly; SameSite=Strict; Path=/`)
      res.writeHead(303, { Location: url.pathname + url.search }).end()
      return
    }
    if (!secretMatches(cookieValue(req, cookie), token)) {
      text(res, 401, 'Unauthorized: open the URL with the token that `aura-db studio` printed.')
      return
    }
    if (url.pathname === '/') {
      res.writeHead(303, { Location: '/projects' }).end()
      return
    }
    const staticFile = STATIC_FILES[url.pathname]
    if (staticFile && req.method === 'GET') {
      // The files change only with the package: a page need not fetch them again on every visit.
      res.setHeader('Cache-Control', 'private, max-age=600')
      res.writeHead(200, { 'Content-Type': staticFile[1] }).end(statics[url.pathname])
      return
    }
    const match = findRoute(req.method ?? 'GET', url.pathname)
    if (match === 'method') {
      text(res, 405, 'Method not allowed.')
      return
    }
    if (!match) {
      respond(res, errorPage(404, 'Not found', `There is no page ${url.pathname}.`))
      return
    }
    let form = new URLSearchParams()
    if (req.method === 'POST') {
      try {
        form = await readForm(req)
      } catch (error) {
        respond(res, await errorResponse(error))
        return
      }
    }
    if (match.route.writes) {
      if (!ctx.write) {
        respond(
          res,
          errorPage(403, 'Read-only', 'This studio is read-only. Restart it with `aura-db studio --write`.'),
        )
        return
      }
      if (!secretMatches(form.get('csrf'), ctx.csrf)) {
        respond(res, errorPage(403, 'Refused', 'The form is missing this run’s CSRF token. Reload the page.'))
        return
      }
    }
    let response: StudioResponse
    try {
      response = await match.route.handle(ctx, { params: match.params, query: url.searchParams, form })
    } catch (error) {
      response = await errorResponse(error)
    }
    respond(res, response)
  }

  function respond(res: ServerResponse, response: StudioResponse): void {
    switch (response.kind) {
      case 'html':
        res.writeHead(response.status ?? 200, {
          'Content-Type': 'text/html; charset=utf-8',
          ...(response.refresh ? { Refresh: `1; url=${response.refresh}` } : {}),
        })
        res.end(response.body.text)
        return
      case 'json':
        res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' })
        res.end(JSON.stringify(response.body))
        return
      case 'redirect':
        res.writeHead(303, { Location: response.location }).end()
    }
  }

  function errorPage(status: number, title: string, message: string): StudioResponse {
    return { kind: 'html', status, body: page(ctx, title, html`<p class="error">${message}</p>`) }
  }

  async function errorResponse(error: unknown): Promise<StudioResponse> {
    const { message } = describeError(error)
    if (error instanceof NotFoundError) return errorPage(404, 'Not found', message)
    if (error instanceof ValidationError || error instanceof UsageError)
      return errorPage(400, 'Refused', message)
    if (error instanceof ConcurrencyError) return errorPage(409, 'Changed meanwhile', message)
    if (error instanceof BusyError) return errorPage(503, 'Busy', message)
    // What the studio cannot explain goes to its terminal in full; the page says what to do.
    process.stderr.write(`studio: ${message}\n`)
    const changed = await schemaChangedUnderStudio()
    if (changed) return errorPage(503, 'The database changed', changed)
    if (error instanceof AuraDataError)
      return errorPage(500, 'Error', `The database could not answer this page: ${message}`)
    return errorPage(
      500,
      'Error',
      'The studio could not draw this page (an internal error; its terminal shows the details). Other pages still work.',
    )
  }

  /**
   * After a rollback or a restore under a running studio, its queries meet tables that are not
   * there: say that, not the database's text. Null when the migrations are as they were.
   */
  async function schemaChangedUnderStudio(): Promise<string | null> {
    const status = await db.status().catch(() => null)
    if (status === null || (status.pending.length === 0 && status.drift.length === 0)) return null
    return (
      `The database's schema changed while this studio was running (a rollback or a restore): ` +
      `${status.pending.length} migration(s) pending, ${status.drift.length} drifted. ` +
      'Run `aura-db migrate` (or restore the backup you meant), then reload.'
    )
  }

  return {
    url: `http://${host}/?token=${token}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      await ctx.backups.settle()
    },
  }
}

function findRoute(method: string, path: string): { route: Route; params: string[] } | 'method' | null {
  let otherMethod = false
  for (const route of ROUTES) {
    const match = route.path.exec(path)
    if (!match) continue
    if (route.method !== method) {
      otherMethod = true
      continue
    }
    // Parameters are ids, used as they appear in the path: the library validates them.
    return { route, params: match.slice(1) }
  }
  return otherMethod ? 'method' : null
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`${body}\n`)
}

/** The url-encoded form of a POST, at most {@link MAX_BODY_BYTES}. */
async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) throw new ValidationError('The request body is too large.')
    chunks.push(chunk)
  }
  const type = req.headers['content-type'] ?? ''
  if (!type.startsWith('application/x-www-form-urlencoded')) return new URLSearchParams()
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
}
