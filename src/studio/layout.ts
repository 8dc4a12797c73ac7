import { html, type Html, type HtmlValue } from './html.js'
import type { StudioContext } from './routes.js'

const NAV = [
  ['/projects', 'Projects'],
  ['/tables', 'Tables'],
  ['/tables/templates', 'Templates'],
  ['/tables/export_history', 'Exports'],
  ['/tables/asset_states', 'Assets'],
  ['/tables/content_blobs', 'Blobs'],
  ['/audit', 'Audit trail'],
  ['/history', 'Undo/redo'],
  ['/configuration', 'Configuration'],
  ['/health', 'Health'],
  ['/er', 'ER diagram'],
] as const

/** The page shell: title, navigation, the mode (read-only or writes enabled), then `body`. */
export function page(ctx: StudioContext, title: string, body: Html): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Aura Studio</title>
        <link rel="stylesheet" href="/static/studio.css" />
        <script src="/static/studio.js" defer></script>
      </head>
      <body>
        <header>
          <strong class="brand">Aura Studio</strong>
          <nav>${NAV.map(([href, label]) => html`<a href="${href}">${label}</a>`)}</nav>
          <span class="db" title="database">${ctx.db.dialect.location}</span>
          <span class="mode ${ctx.write ? 'write' : 'read'}"
            >${ctx.write ? 'writes enabled' : 'read-only'}</span
          >
        </header>
        <main>
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html>`
}

/** A table with a header row; `empty` is shown instead when there are no rows. */
export function table(header: readonly string[], rows: readonly HtmlValue[][], empty = 'None.'): Html {
  if (rows.length === 0) return html`<p class="empty">${empty}</p>`
  return html`<table>
    <thead>
      <tr>
        ${header.map((h) => html`<th>${h}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (row) =>
          html`<tr>
            ${row.map((cell) => html`<td>${cell}</td>`)}
          </tr>`,
      )}
    </tbody>
  </table>`
}

/** `label: value` rows of one record. */
export function fields(rows: readonly (readonly [string, HtmlValue])[]): Html {
  return html`<dl class="fields">
    ${rows.map(
      ([label, value]) =>
        html`<dt>${label}</dt>
          <dd>${value}</dd>`,
    )}
  </dl>`
}

/**
 * A form that POSTs a write action with the run's CSRF token; rendered only when writes are
 * enabled. `confirm` is asked by studio.js before it is sent.
 */
export function writeForm(
  ctx: StudioContext,
  action: string,
  label: string,
  hidden: Readonly<Record<string, string>> = {},
  confirm?: string,
): Html | null {
  if (!ctx.write) return null
  return html`<form
    method="post"
    action="${action}"
    class="inline"
    ${confirm ? html` data-confirm="${confirm}"` : ''}
  >
    <input type="hidden" name="csrf" value="${ctx.csrf}" />
    ${Object.entries(hidden).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}" />`)}
    <button type="submit">${label}</button>
  </form>`
}

/** A link with query parameters (empty ones left out). */
export function link(
  path: string,
  query: Readonly<Record<string, string | number | null | undefined>>,
): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== '') params.set(key, String(value))
  }
  const text = params.toString()
  return text ? `${path}?${text}` : path
}

/** A timestamp as `yyyy-MM-dd HH:mm:ss` UTC, or an em dash. */
export function when(date: Date | null | undefined): string {
  return date ? date.toISOString().replace('T', ' ').slice(0, 19) : '—'
}

/** A byte count for people: `532 B`, `12.4 KiB`, `3.1 MiB`. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = n / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(1)} ${units[unit]}`
}

/** How long ago `date` was, roughly: `45 s`, `12 min`, `3 h`, `8 d`. */
export function age(date: Date, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - date.getTime()) / 1000))
  if (s < 90) return `${s} s`
  if (s < 90 * 60) return `${Math.round(s / 60)} min`
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h`
  return `${Math.round(s / 86400)} d`
}

/** Stored JSON pretty-printed for reading; text that is not JSON is shown as stored. */
export function prettyJson(text: string | null): string | null {
  if (text === null) return null
  try {
    return JSON.stringify(JSON.parse(text), null, 2)
  } catch {
    return text
  }
}

/** A `<pre>` of pretty-printed JSON, or an em dash. */
export function jsonBlock(text: string | null): Html {
  const pretty = prettyJson(text)
  return pretty === null ? html`<span class="empty">—</span>` : html`<pre class="json">${pretty}</pre>`
}
