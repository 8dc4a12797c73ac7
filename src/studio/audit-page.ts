import { ValidationError } from '../errors.js'
import type { Where } from '../repository/filter.js'
import type { AuditEntry } from '../schema/audit-entries.js'
import { wordDiff } from './diff-view.js'
import { html, type Html } from './html.js'
import { link, page, table, when } from './layout.js'
import { htmlResponse, type Route } from './routes.js'

/** Entries per page. */
const PAGE_SIZE = 100

/** A value of an audit entry as text: strings as they are, anything else as JSON. */
function valueText(value: unknown): string {
  if (value === null || value === undefined) return '∅'
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/** Whether a parsed `changes_json` is the field → [before, after] pairs of an update. */
function isFieldChanges(parsed: unknown): parsed is Record<string, [unknown, unknown]> {
  return (
    typeof parsed === 'object' &&
    parsed !== null &&
    !Array.isArray(parsed) &&
    Object.values(parsed).every((pair) => Array.isArray(pair) && pair.length === 2)
  )
}

/**
 * What an entry changed: one row per field with the value before, after, and a word diff of the
 * two. Inserts, deletes and restores record no values. Other entries (an EF import records its
 * source and row counts) are shown as the document they are.
 */
function changes(entry: AuditEntry): Html {
  if (entry.changesJson === null) return html`<span class="empty">—</span>`
  let parsed: unknown
  try {
    parsed = JSON.parse(entry.changesJson)
  } catch {
    return html`<pre>${entry.changesJson}</pre>`
  }
  if (!isFieldChanges(parsed)) return html`<pre class="details">${JSON.stringify(parsed, null, 2)}</pre>`
  return html`<table class="changes">
    <thead>
      <tr>
        <th>Field</th>
        <th>Before</th>
        <th>After</th>
        <th>Diff</th>
      </tr>
    </thead>
    <tbody>
      ${Object.entries(parsed).map(([field, [before, after]]) => {
        const from = valueText(before)
        const to = valueText(after)
        return html`<tr>
          <td>${field}</td>
          <td class="before">${from}</td>
          <td class="after">${to}</td>
          <td>${wordDiff(from, to)}</td>
        </tr>`
      })}
    </tbody>
  </table>`
}

export const auditRoutes: readonly Route[] = [
  {
    method: 'GET',
    path: /^\/audit$/,
    async handle(ctx, req) {
      const tableName = req.query.get('table') ?? ''
      const rowId = req.query.get('row') ?? ''
      const actor = req.query.get('actor') ?? ''
      const beforeText = req.query.get('before')
      const before = beforeText ? Number(beforeText) : null
      if (before !== null && !Number.isSafeInteger(before))
        throw new ValidationError('before: not an entry id')
      const where: Where<AuditEntry> = {}
      if (tableName) where.tableName = tableName
      if (rowId) where.rowId = rowId
      if (actor) where.actor = actor
      // Newest first, paged by id: the (table_name, row_id) and (actor) indexes narrow, the key orders.
      if (before !== null) where.id = { lt: before }
      const entries = await ctx.db.auditEntries.find(where, { orderBy: { id: 'desc' }, limit: PAGE_SIZE + 1 })
      const shown = entries.slice(0, PAGE_SIZE)
      const rows = shown.map((e) => [
        e.id,
        when(e.occurredAt),
        e.actor ? html`<a href="${link('/audit', { actor: e.actor })}">${e.actor}</a>` : '—',
        html`<a href="${link('/audit', { table: e.tableName })}">${e.tableName}</a>`,
        html`<a href="${link('/audit', { table: e.tableName, row: e.rowId })}"><code>${e.rowId}</code></a>`,
        html`<span class="action ${e.action}">${e.action}</span>`,
        changes(e),
      ])
      const filters = { table: tableName, row: rowId, actor }
      const body = html`<form method="get" action="/audit" class="filters">
          <label>Table <input name="table" value="${tableName}" maxlength="100" /></label>
          <label>Row id <input name="row" value="${rowId}" maxlength="200" /></label>
          <label>Actor <input name="actor" value="${actor}" maxlength="200" /></label>
          <button type="submit">Filter</button>
          ${tableName || rowId || actor ? html`<a href="/audit">Clear</a>` : null}
        </form>
        ${table(['#', 'When (UTC)', 'Actor', 'Table', 'Row', 'Action', 'Changes'], rows, 'No audit entries match.')}
        <p class="paging">
          ${before !== null ? html`<a href="${link('/audit', filters)}">« Newest</a>` : null}
          ${entries.length > PAGE_SIZE ? html`<a href="${link('/audit', { ...filters, before: shown.at(-1)!.id })}" rel="next">Older »</a>` : null}
        </p>`
      return htmlResponse(page(ctx, 'Audit trail', body))
    },
  },
]
