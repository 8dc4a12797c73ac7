import { describeError } from '../cli/output.js'
import { ConcurrencyError, NotFoundError, ValidationError } from '../errors.js'
import type { Repository } from '../repository/repository.js'
import type { SoftDeleteRepository } from '../repository/soft-delete-repository.js'
import type { TableDef } from '../schema/define.js'
import { html, type Html } from './html.js'
import { fields, link, page, writeForm } from './layout.js'
import { htmlResponse, redirect, type Route, type StudioContext, type StudioResponse } from './routes.js'
import { deletedBadge, DETAIL_CHARS, displayValue } from './row-view.js'
import {
  browsedTable,
  editable,
  editableFields,
  formatValue,
  OWN_PAGES,
  parseKey,
  parseValue,
  restorable,
  rowHref,
  type BrowsedTable,
} from './table-model.js'

type Row = Record<string, unknown>

/** What a row's page says above the row: a result of a write, or why it was refused. */
interface Message {
  readonly kind: 'notice' | 'error'
  readonly text: string
}

/** Text longer than this, or JSON, is edited in a text area. */
const TEXTAREA_FROM = 200

function input(def: TableDef, field: string, value: unknown): Html {
  const spec = def.columns[field]!
  const text = formatValue(value)
  const id = `field-${field}`
  const options = spec.kind === 'bool' ? ['true', 'false'] : spec.enumValues
  let control: Html
  if (options) {
    control = html`<select id="${id}" name="${field}">
      ${spec.nullable ? html`<option value="" ${text === '' ? html` selected` : ''}>(null)</option>` : null}
      ${options.map((o) => html`<option value="${o}" ${o === text ? html` selected` : ''}>${o}</option>`)}
    </select>`
  } else if (spec.kind === 'json' || (spec.kind === 'text' && (spec.maxLength ?? Infinity) > TEXTAREA_FROM)) {
    control = html`<textarea id="${id}" name="${field}" rows="3">${text}</textarea>`
  } else {
    control = html`<input id="${id}" name="${field}" type="text" value="${text}" />`
  }
  const hint = [spec.kind, spec.nullable ? 'empty = null' : null].filter(Boolean).join(', ')
  return html`<label for="${id}">${field}</label>
    <div>${control} <span class="hint">${hint}</span></div>`
}

/** The edit form: the row version it was loaded at travels with it, so a stale edit is refused. */
function editForm(ctx: StudioContext, t: BrowsedTable, row: Row): Html {
  const { def } = t
  return html`<h2>Edit</h2>
    <p class="hint">
      Saved through the library: validated, audited, and refused if the row changed since this page was loaded
      (row version ${formatValue(row.rowVersion)}).
    </p>
    <form method="post" action="${rowHref(def.name, row[def.primaryKey])}" class="edit">
      <input type="hidden" name="csrf" value="${ctx.csrf}" />
      <input type="hidden" name="rowVersion" value="${formatValue(row.rowVersion)}" />
      <div class="edit-fields">${editableFields(def).map((f) => input(def, f, row[f]))}</div>
      <button type="submit">Save</button>
    </form>`
}

async function readRow(t: BrowsedTable, key: unknown): Promise<Row> {
  const row = await t.repository.getById(key as never, { includeDeleted: true })
  if (!row) throw new NotFoundError(t.def.name, key)
  return row
}

/** A row's page: every column (long text cut), links, the restore and edit forms under `--write`. */
async function rowPage(
  ctx: StudioContext,
  t: BrowsedTable,
  key: unknown,
  message: Message | null,
  status = 200,
): Promise<StudioResponse> {
  const { def } = t
  const row = await readRow(t, key)
  const deleted = row.isDeleted === true
  const href = rowHref(def.name, key)
  const body = html`<p class="links">
      <a href="/tables/${def.name}">All rows of ${def.name}</a>
      <a href="${link('/audit', { table: def.name, row: formatValue(key) })}">Audit trail of this row</a>
      ${def.name === 'project_states' ? html`<a href="/projects/${formatValue(key)}">Project page</a>` : null}
    </p>
    ${message ? html`<p class="${message.kind}" role="${message.kind === 'error' ? 'alert' : 'status'}">${message.text}</p>` : null}
    ${
      deleted
        ? html`<div class="deleted-note">
            ${deletedBadge(row)} This row was
            deleted${row.deletedBy ? ` by ${formatValue(row.deletedBy)}` : ''}; the application no longer sees
            it. ${restorable(t) ? writeForm(ctx, `${href}/restore`, 'Restore') : null}
          </div>`
        : null
    }
    ${fields(def.fields.map((f) => [f, displayValue(def, f, row[f], DETAIL_CHARS)] as const))}
    ${
      !ctx.write || deleted
        ? null
        : editable(t)
          ? editForm(ctx, t, row)
          : html`<p class="hint">
              ${def.name} rows are not edited here: the table has no row version, so a concurrent change could
              not be detected.
            </p>`
    }`
  return htmlResponse(page(ctx, `${def.name} ${formatValue(key)}`, body), status)
}

/** The table and key of a row route, or a redirect to the table's own page. */
function target(ctx: StudioContext, params: readonly string[]): { t: BrowsedTable; key: unknown } {
  const t = browsedTable(ctx, params[0]!)
  if (OWN_PAGES[t.def.name])
    throw new ValidationError(`${t.def.name} has its own page: ${OWN_PAGES[t.def.name]}`)
  return { t, key: parseKey(t.def, params[1]!) }
}

export const rowRoutes: readonly Route[] = [
  {
    method: 'GET',
    path: /^\/tables\/([^/]+)\/rows\/([^/]+)$/,
    async handle(ctx, req) {
      const t = browsedTable(ctx, req.params[0]!)
      const own = OWN_PAGES[t.def.name]
      if (own) return redirect(own)
      const key = parseKey(t.def, req.params[1]!)
      const notice = req.query.has('saved')
        ? 'Saved.'
        : req.query.has('restored')
          ? 'Restored: the row is visible again.'
          : null
      return rowPage(ctx, t, key, notice ? { kind: 'notice', text: notice } : null)
    },
  },
  {
    method: 'POST',
    path: /^\/tables\/([^/]+)\/rows\/([^/]+)$/,
    writes: true,
    async handle(ctx, req) {
      const { t, key } = target(ctx, req.params)
      const { def } = t
      if (!editable(t)) {
        throw new ValidationError(`${def.name} rows cannot be edited here: the table has no row version.`)
      }
      const versionText = req.form.get('rowVersion') ?? ''
      if (!/^\d+$/.test(versionText)) throw new ValidationError('rowVersion: missing; reload the page.')
      const changes: Row = {}
      try {
        for (const field of editableFields(def)) {
          const value = req.form.get(field)
          if (value !== null) changes[field] = parseValue(def, field, value)
        }
        const repository = t.repository as unknown as Repository<TableDef, Row>
        await repository.update({
          ...changes,
          [def.primaryKey]: key,
          rowVersion: Number(versionText),
        } as never)
      } catch (error) {
        // Shown on the row's page, as it is now: what was refused and what the row holds.
        if (!(error instanceof ConcurrencyError || error instanceof ValidationError)) throw error
        const text = `Not saved: ${describeError(error).message}`
        return rowPage(ctx, t, key, { kind: 'error', text }, error instanceof ConcurrencyError ? 409 : 400)
      }
      return redirect(`${rowHref(def.name, key)}?saved=1`)
    },
  },
  {
    method: 'POST',
    path: /^\/tables\/([^/]+)\/rows\/([^/]+)\/restore$/,
    writes: true,
    async handle(ctx, req) {
      const { t, key } = target(ctx, req.params)
      if (!restorable(t))
        throw new ValidationError(`${t.def.name} rows are not soft-deleted; nothing to restore.`)
      await (t.repository as unknown as SoftDeleteRepository<TableDef, Row>).restore(key as never)
      return redirect(`${rowHref(t.def.name, key)}?restored=1`)
    },
  },
]
