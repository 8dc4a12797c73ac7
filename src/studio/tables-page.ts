import { ValidationError } from '../errors.js'
import type { TableDef } from '../schema/define.js'
import { html, type Html } from './html.js'
import { link, page, table } from './layout.js'
import { htmlResponse, redirect, type Route, type StudioContext } from './routes.js'
import { CELL_CHARS, deletedBadge, displayValue } from './row-view.js'
import {
  browsedTable,
  browsedTables,
  checkedField,
  formatValue,
  OWN_PAGES,
  parseValue,
  rowHref,
  type BrowsedTable,
} from './table-model.js'

/** Rows per page. */
const ROWS_PER_PAGE = 50

/**
 * The deepest row a page may start at. Sorting by any column means OFFSET paging, whose cost
 * grows with the offset; past this a filter or the other sort direction finds a row faster.
 */
const MAX_OFFSET = 5_000

/** The filter operators offered, as the library's filter language names them. */
const OPERATORS = {
  eq: 'equals',
  ne: 'is not',
  contains: 'contains',
  startsWith: 'starts with',
  gt: 'greater than',
  lt: 'less than',
} as const
type FilterOperator = keyof typeof OPERATORS

/** The browsing state of a table's page, from its query string. */
interface Browse {
  readonly sort: string
  readonly dir: 'asc' | 'desc'
  readonly col: string
  readonly op: FilterOperator
  readonly val: string
  readonly page: number
  readonly deleted: boolean
}

/**
 * Reads the query string against the table's definition: a column name is accepted only when
 * it is a field of the table (ValidationError otherwise), and a value only as the column's type.
 */
function browseOf(def: TableDef, query: URLSearchParams): Browse {
  const sort = query.get('sort') || defaultSort(def)
  checkedField(def, sort, 'sort')
  const dir = query.get('dir') ?? 'asc'
  if (dir !== 'asc' && dir !== 'desc') throw new ValidationError('dir: "asc" or "desc"', 'dir')
  const col = query.get('col') ?? ''
  if (col) checkedField(def, col, 'filter')
  const op = query.get('op') || 'eq'
  if (!Object.hasOwn(OPERATORS, op)) {
    throw new ValidationError(`op: one of ${Object.keys(OPERATORS).join(', ')}`, 'op')
  }
  const pageText = query.get('page') ?? '1'
  const pageNumber = Number(pageText)
  if (!/^\d{1,6}$/.test(pageText) || pageNumber < 1)
    throw new ValidationError('page: a whole number from 1', 'page')
  if ((pageNumber - 1) * ROWS_PER_PAGE > MAX_OFFSET) {
    throw new ValidationError(
      `page: the list stops at row ${MAX_OFFSET.toLocaleString('en-US')}; narrow it with a filter, or sort the other way.`,
      'page',
    )
  }
  return {
    sort,
    dir,
    col,
    op: op as FilterOperator,
    val: query.get('val') ?? '',
    page: pageNumber,
    deleted: query.get('deleted') === '1',
  }
}

/**
 * Rows are listed in the order they were added unless a column is clicked: `createdAt` where the
 * table has it, else the key. On SQLite, ordering by a random (UUID) key walks its index and
 * reads the rows in random order; with a filter on a column without an index that took up to
 * 330 ms on 100,000 projects, against 35 ms in insertion order (which follows the table's own).
 */
function defaultSort(def: TableDef): string {
  return def.fields.includes('createdAt') ? 'createdAt' : def.primaryKey
}

/** The filter in the library's language; the value is bound as a parameter by the repository. */
function whereOf(def: TableDef, browse: Browse): Record<string, unknown> {
  if (!browse.col) return {}
  const text = browse.op === 'contains' || browse.op === 'startsWith'
  const value = text ? browse.val : parseValue(def, browse.col, browse.val)
  return { [browse.col]: browse.op === 'eq' ? value : { [browse.op]: value } }
}

/** Whether the table has rows that reads hide: its own soft-deleted ones, or those of deleted projects. */
function hidesRows(def: TableDef): boolean {
  return def.features.softDelete || def.columns.projectId?.references?.table === 'project_states'
}

function queryOf(browse: Browse, changes: Partial<Browse> = {}) {
  const b = { ...browse, ...changes }
  return {
    sort: b.sort,
    dir: b.dir,
    col: b.col,
    op: b.col ? b.op : '',
    val: b.col ? b.val : '',
    deleted: b.deleted ? '1' : '',
    page: b.page > 1 ? b.page : '',
  }
}

function filterForm(def: TableDef, browse: Browse): Html {
  const option = (value: string, label: string, selected: string) =>
    html`<option value="${value}" ${value === selected ? html` selected` : ''}>${label}</option>`
  return html`<form method="get" action="/tables/${def.name}" class="filters">
    <input type="hidden" name="sort" value="${browse.sort}" />
    <input type="hidden" name="dir" value="${browse.dir}" />
    <label
      >Column
      <select name="col">
        ${option('', '(no filter)', browse.col)} ${def.fields.map((f) => option(f, f, browse.col))}
      </select></label
    >
    <label
      >Operator
      <select name="op">
        ${Object.entries(OPERATORS).map(([op, label]) => option(op, label, browse.op))}
      </select></label
    >
    <label>Value <input type="text" name="val" value="${browse.val}" maxlength="500" /></label>
    ${
      hidesRows(def)
        ? html`<label class="check"
            ><input type="checkbox" name="deleted" value="1" ${browse.deleted ? html`checked` : ''} /> Show
            deleted</label
          >`
        : null
    }
    <button type="submit">Filter</button>
  </form>`
}

/** A column header that sorts by it (ascending first, then the other way). */
function sortHeader(def: TableDef, browse: Browse, field: string): Html {
  const active = browse.sort === field
  const dir = active && browse.dir === 'asc' ? 'desc' : 'asc'
  const arrow = active ? (browse.dir === 'asc' ? ' ▲' : ' ▼') : ''
  return html`<a
    href="${link(`/tables/${def.name}`, queryOf(browse, { sort: field, dir, page: 1 }))}"
    class="sort"
    >${field}${arrow}</a
  >`
}

async function tablePage(ctx: StudioContext, t: BrowsedTable, query: URLSearchParams): Promise<Html> {
  const { def } = t
  const browse = browseOf(def, query)
  const orderBy = { [browse.sort]: browse.dir }
  // One row more than a page says whether there is a next page, without counting the table.
  const rows = await t.repository.find(whereOf(def, browse), {
    orderBy,
    limit: ROWS_PER_PAGE + 1,
    offset: (browse.page - 1) * ROWS_PER_PAGE,
    includeDeleted: browse.deleted,
  })
  const shown = rows.slice(0, ROWS_PER_PAGE)
  const first = (browse.page - 1) * ROWS_PER_PAGE
  const headerCells = def.fields.map((f) => sortHeader(def, browse, f))
  const body = html`<p class="links">
      <a href="/tables">All tables</a>
      <a href="${link('/audit', { table: def.name })}">Audit trail of this table</a>
      <span class="hint">${t.origin} table · key ${def.primaryKey}</span>
    </p>
    ${filterForm(def, browse)}
    ${
      shown.length === 0
        ? html`<p class="empty">No rows match.</p>`
        : html`<div class="scroll">
            <table class="rows">
              <thead>
                <tr>
                  ${headerCells.map((h) => html`<th>${h}</th>`)}
                </tr>
              </thead>
              <tbody>
                ${shown.map(
                  (row) =>
                    html`<tr class="${row.isDeleted === true ? 'deleted' : ''}">
                      ${def.fields.map((f) =>
                        f === def.primaryKey
                          ? html`<td>
                              <a href="${rowHref(def.name, row[f])}" class="row-link"
                                >${formatValue(row[f])}</a
                              >
                              ${deletedBadge(row)}
                            </td>`
                          : html`<td>${displayValue(def, f, row[f], CELL_CHARS)}</td>`,
                      )}
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
    }
    <p class="paging">
      ${shown.length > 0 ? html`<span class="hint">Rows ${first + 1}–${first + shown.length}</span>` : null}
      ${browse.page > 1 ? html`<a href="${link(`/tables/${def.name}`, queryOf(browse, { page: browse.page - 1 }))}" rel="prev">« Previous page</a>` : null}
      ${rows.length > ROWS_PER_PAGE && first + ROWS_PER_PAGE <= MAX_OFFSET ? html`<a href="${link(`/tables/${def.name}`, queryOf(browse, { page: browse.page + 1 }))}" rel="next">Next page »</a>` : null}
    </p>`
  return page(ctx, def.name, body)
}

function featuresOf(def: TableDef): string {
  const f = def.features
  const list = [
    f.audit === true ? 'audit' : f.audit ? 'timestamps' : null,
    f.rowVersion ? 'row version' : null,
    f.softDelete ? 'soft delete' : null,
  ]
  return list.filter(Boolean).join(', ') || '—'
}

export const tablesRoutes: readonly Route[] = [
  {
    method: 'GET',
    path: /^\/tables$/,
    async handle(ctx) {
      const tables = browsedTables(ctx)
      const rows = tables.map(({ def, origin }) => [
        html`<a href="${OWN_PAGES[def.name] ?? `/tables/${def.name}`}" class="table-link">${def.name}</a>`,
        html`<span class="origin ${origin}">${origin}</span>`,
        def.fields.length,
        def.primaryKey,
        featuresOf(def),
      ])
      const body = html`<p class="hint">
          Every table of the schema the library uses, your application's own and extended ones included. Rows
          are read through the library's repositories.
        </p>
        ${
          tables.some((t) => t.origin !== 'built-in')
            ? null
            : html`<p class="hint">
                Your application's tables and columns are listed when the studio is started with its schema
                module (<code>--schema</code>, <code>AURA_SCHEMA</code> or <code>schema</code> in
                <code>aura.config.json</code>).
              </p>`
        }
        ${table(['Table', 'Origin', 'Columns', 'Key', 'Features'], rows)}`
      return htmlResponse(page(ctx, 'Tables', body))
    },
  },
  {
    method: 'GET',
    path: /^\/tables\/([^/]+)$/,
    async handle(ctx, req) {
      const t = browsedTable(ctx, req.params[0]!)
      const own = OWN_PAGES[t.def.name]
      if (own) return redirect(own)
      return htmlResponse(await tablePage(ctx, t, req.query))
    },
  },
]
