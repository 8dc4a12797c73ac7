import type { TableDef } from '../schema/define.js'
import { MASK } from './configuration-page.js'
import { html, type Html, type HtmlValue } from './html.js'
import { when } from './layout.js'
import { rowHref } from './table-model.js'

/** Characters of a long text shown in a list cell; the row's page shows more. */
export const CELL_CHARS = 80
/** Characters of a long text shown on a row's page (a content blob may be megabytes). */
export const DETAIL_CHARS = 2000

/**
 * A stored value for reading: sensitive ones masked, timestamps in UTC, booleans as yes/no, long
 * text cut at `max` characters (saying how long it is), and a foreign key as a link to the row
 * it names (a project to its own page).
 */
export function displayValue(def: TableDef, field: string, value: unknown, max: number): HtmlValue {
  const spec = def.columns[field]!
  if (spec.sensitive && value !== null) return html`<span class="masked">${MASK}</span>`
  if (value === null || value === undefined) return html`<span class="empty">—</span>`
  if (value instanceof Date) return when(value)
  if (typeof value === 'boolean') return value ? 'yes' : 'no'
  const text = String(value)
  const shown =
    text.length > max
      ? html`<span class="long">${text.slice(0, max)}…</span>
          <span class="hint">(${text.length.toLocaleString('en-US')} characters)</span>`
      : text
  const target = spec.references
  if (!target) return shown
  const href =
    target.table === 'project_states' ? `/projects/${encodeURIComponent(text)}` : rowHref(target.table, value)
  return html`<a href="${href}">${shown}</a>`
}

/** The mark of a soft-deleted row. */
export function deletedBadge(row: Record<string, unknown>): Html | null {
  return row.isDeleted === true ? html`<span class="badge deleted">deleted</span>` : null
}
