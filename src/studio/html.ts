/**
 * The one way the studio writes HTML: every interpolated value is escaped unless it is already
 * {@link Html} built by this module. Stored data (titles, scripts, audit values) can therefore
 * never become markup, whatever it contains.
 */

/** A piece of markup that is safe to insert as is: built only by {@link html}. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text
  }
}

/** What a template may interpolate: values are escaped, arrays joined, null/undefined/false dropped. */
export type HtmlValue =
  Html | string | number | bigint | boolean | null | undefined | Date | readonly HtmlValue[]

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/**
 * Escapes text for an HTML text node or a quoted attribute value: `& < > " '`. Other characters
 * need no escaping in those two places (the studio never writes unquoted attributes, nor text
 * inside `<script>` or `<style>`).
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!)
}

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.text
  if (value === null || value === undefined || value === false) return ''
  if (Array.isArray(value)) return value.map(render).join('')
  if (value instanceof Date) return escapeHtml(value.toISOString())
  return escapeHtml(String(value))
}

/**
 * A template tag for markup: the literal parts are trusted (they are in the source), every
 * interpolation is escaped.
 * With it, `<td>${project.title}</td>` renders a title `<script>` as the text `&lt;script&gt;`.
 */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): Html {
  let out = strings[0]!
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!
  return new Html(out)
}
