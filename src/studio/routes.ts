import type { AuraDatabase } from '../database.js'
import type { BackupJob } from './backup-job.js'
import type { Html } from './html.js'
import type { VerifyJob } from './verify-job.js'

/** What every page handler works with: the database and the run's settings. */
export interface StudioContext {
  readonly db: AuraDatabase
  /** `--write`: the write actions are offered and accepted. */
  readonly write: boolean
  /** The run's CSRF token, put in every write form. */
  readonly csrf: string
  /** Where backups are listed and taken. */
  readonly backupDir: string
  readonly backups: BackupJob
  /** The verification run in a child process, reported on the health page. */
  readonly verify: VerifyJob
  /** Whether the live `project_states` has a `category` column (added by a later migration). */
  readonly projectCategory: boolean
}

/** A request as a handler sees it: path parameters, query, and the form of a POST. */
export interface StudioRequest {
  readonly params: readonly string[]
  readonly query: URLSearchParams
  readonly form: URLSearchParams
}

/** What a handler answers: a page, a JSON document, or a redirect after a write. */
export type StudioResponse =
  | {
      readonly kind: 'html'
      readonly status?: number
      readonly body: Html
      /** Where the browser goes after a second (`Refresh` header): a page of a job still running. */
      readonly refresh?: string
    }
  | { readonly kind: 'json'; readonly body: unknown }
  | { readonly kind: 'redirect'; readonly location: string }

/** One route: method, path pattern (groups are the parameters), handler, and whether it writes. */
export interface Route {
  readonly method: 'GET' | 'POST'
  readonly path: RegExp
  /** A write action: refused unless the studio runs with `--write`. */
  readonly writes?: boolean
  handle(ctx: StudioContext, req: StudioRequest): Promise<StudioResponse>
}

/** A page response. */
export function htmlResponse(body: Html, status = 200): StudioResponse {
  return { kind: 'html', status, body }
}

/** A redirect (303: the browser follows with GET, so reloading does not repeat a write). */
export function redirect(location: string): StudioResponse {
  return { kind: 'redirect', location }
}
