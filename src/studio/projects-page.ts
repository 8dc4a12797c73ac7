import { sql } from 'kysely'
import { ValidationError } from '../errors.js'
import { PROJECT_STATUSES, type ProjectState } from '../schema/project-states.js'
import { html, type Html } from './html.js'
import { link, page, table, when } from './layout.js'
import { htmlResponse, type Route, type StudioContext } from './routes.js'

/** Projects per page. */
export const PAGE_SIZE = 50

/** A position in the list: the last project shown (the list runs newest update first). */
interface Cursor {
  readonly updatedAt: Date
  readonly id: string
}

/** The filters of the list, from the query string. */
interface ProjectFilter {
  readonly search: string
  readonly status: string
  readonly category: string
  /** Include soft-deleted projects (marked as deleted). */
  readonly deleted: boolean
}

/** `updatedAt~id` of the last project of a page. */
function encodeCursor(project: ProjectState): string {
  return `${project.updatedAt.toISOString()}~${project.id}`
}

function decodeCursor(text: string | null): Cursor | null {
  if (!text) return null
  const [iso, id] = text.split('~')
  const updatedAt = new Date(iso ?? '')
  if (!id || Number.isNaN(updatedAt.getTime())) throw new ValidationError('after: not a position in the list')
  return { updatedAt, id }
}

/** `%`, `_` and the escape character itself are literal in a search. */
function likePattern(search: string): string {
  return `%${search.toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`
}

/**
 * One page of visible projects, most recently updated first, with keyset paging: the page after
 * `cursor` is `(updated_at, id) < cursor` in that order, so every page costs the same however
 * deep it is (an OFFSET would read and discard all the rows before it). The status filter uses
 * the (status, updated_at) index, the plain list the updated_at one.
 */
async function listProjects(
  ctx: StudioContext,
  filter: ProjectFilter,
  cursor: Cursor | null,
): Promise<{ projects: (ProjectState & { category: string | null })[]; more: boolean }> {
  const { dialect } = ctx.db
  await ctx.db.ready()
  let query = dialect.kysely.selectFrom('project_states').selectAll('project_states')
  if (!filter.deleted) {
    query = query.where(
      dialect.notDeletedCondition('project_states.is_deleted', dialect.encode('bool', false)),
    )
  }
  if (filter.status) query = query.where('status', '=', filter.status)
  if (filter.category && ctx.projectCategory) query = query.where('category', '=', filter.category)
  if (filter.search) {
    query = query.where(sql<boolean>`lower(title) like ${likePattern(filter.search)} escape '\\'`)
  }
  if (cursor) {
    const at = dialect.encode('timestamp', cursor.updatedAt)
    // `updated_at <= ?` is the index range that lets the database seek to the position; the OR
    // alone (a common keyset spelling) made SQLite walk the index from the top, so a page deep
    // in the list cost as much as all the pages before it.
    query = query
      .where('updated_at', '<=', at)
      .where((eb) => eb.or([eb('updated_at', '<', at), eb('id', '<', cursor.id.toLowerCase())]))
  }
  const rows = await libraryErrors(ctx, () =>
    query
      .orderBy('updated_at', 'desc')
      .orderBy('id', 'desc')
      .limit(PAGE_SIZE + 1)
      .execute(),
  )
  const projects = rows.slice(0, PAGE_SIZE).map((row) => ({
    ...ctx.db.projectStates.fromRow(row),
    category: ctx.projectCategory ? ((row.category as string | null) ?? null) : null,
  }))
  return { projects, more: rows.length > PAGE_SIZE }
}

/**
 * Runs a query of this page's own (its title search ignores case, which the library's
 * `contains` does not, and its keyset condition is shaped for the index) with the library's
 * error mapping: a failure reaches the page as a typed error, never as the driver's text.
 */
async function libraryErrors<T>(ctx: StudioContext, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (error) {
    throw ctx.db.dialect.mapError(error)
  }
}

/** The categories in use, for the filter (only where the column exists). */
async function categories(ctx: StudioContext): Promise<string[]> {
  if (!ctx.projectCategory) return []
  const rows = await libraryErrors(ctx, () =>
    ctx.db.dialect.kysely
      .selectFrom('project_states')
      .select('category')
      .distinct()
      .where('category', 'is not', null)
      .orderBy('category')
      .limit(200)
      .execute(),
  )
  return rows.map((row) => String(row.category))
}

function filterForm(ctx: StudioContext, filter: ProjectFilter, known: readonly string[]): Html {
  const option = (value: string, label: string, selected: string) =>
    html`<option value="${value}" ${value === selected ? html` selected` : ''}>${label}</option>`
  return html`<form method="get" action="/projects" class="filters">
    <label>Search titles <input type="search" name="q" value="${filter.search}" maxlength="500" /></label>
    <label
      >Status
      <select name="status">
        ${option('', 'any', filter.status)}${PROJECT_STATUSES.map((s) => option(s, s, filter.status))}
      </select></label
    >
    ${
      ctx.projectCategory
        ? html`<label
            >Category
            <select name="category">
              ${option('', 'any', filter.category)}${known.map((c) => option(c, c, filter.category))}
            </select></label
          >`
        : null
    }
    <label class="check"
      ><input type="checkbox" name="deleted" value="1" ${filter.deleted ? html`checked` : ''} /> Show
      deleted</label
    >
    <button type="submit">Filter</button>
  </form>`
}

export const projectsRoutes: readonly Route[] = [
  {
    method: 'GET',
    path: /^\/projects$/,
    async handle(ctx, req) {
      const filter: ProjectFilter = {
        search: req.query.get('q')?.trim() ?? '',
        status: req.query.get('status') ?? '',
        category: req.query.get('category') ?? '',
        deleted: req.query.get('deleted') === '1',
      }
      if (filter.status && !(PROJECT_STATUSES as readonly string[]).includes(filter.status)) {
        throw new ValidationError(`status: one of ${PROJECT_STATUSES.join(', ')}`)
      }
      const cursor = decodeCursor(req.query.get('after'))
      const [{ projects, more }, known] = await Promise.all([
        listProjects(ctx, filter, cursor),
        categories(ctx),
      ])
      const header = [
        'Title',
        'Status',
        ...(ctx.projectCategory ? ['Category'] : []),
        'Stage',
        'Progress',
        'Updated (UTC)',
        'By',
      ]
      const rows = projects.map((p) => [
        html`<a href="/projects/${p.id}" class="project-link">${p.title}</a>
          ${p.isDeleted ? html`<span class="badge deleted">deleted</span>` : null}`,
        html`<span class="status ${p.status}">${p.status}</span>`,
        ...(ctx.projectCategory ? [p.category] : []),
        p.currentStage ?? '—',
        `${p.progressPercent}%`,
        when(p.updatedAt),
        p.modifiedBy ?? '—',
      ])
      const last = projects.at(-1)
      const query = {
        q: filter.search,
        status: filter.status,
        category: filter.category,
        deleted: filter.deleted ? '1' : '',
      }
      const body = html`${filterForm(ctx, filter, known)} ${table(header, rows, 'No projects match.')}
        <p class="paging">
          ${cursor ? html`<a href="${link('/projects', query)}">« First page</a>` : null}
          ${more && last ? html`<a href="${link('/projects', { ...query, after: encodeCursor(last) })}" rel="next">Next page »</a>` : null}
        </p>`
      return htmlResponse(page(ctx, 'Projects', body))
    },
  },
]
