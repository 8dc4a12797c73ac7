import { diffLines, diffWordsWithSpace } from 'diff'
import { html, type Html } from './html.js'

/** Unchanged lines kept on each side of a change; longer unchanged runs are folded. */
const CONTEXT_LINES = 3

/**
 * A line diff of two texts as a `<pre>`: removed lines marked `-`, added `+`, long unchanged
 * runs folded to their first and last lines.
 */
export function lineDiff(before: string, after: string): Html {
  const lines: Html[] = []
  for (const change of diffLines(before, after)) {
    const text = change.value.endsWith('\n') ? change.value.slice(0, -1) : change.value
    const parts = text.split('\n')
    if (change.added || change.removed) {
      const kind = change.added ? 'added' : 'removed'
      const sign = change.added ? '+' : '-'
      for (const line of parts) lines.push(html`<span class="${kind}">${sign} ${line}</span>`)
      continue
    }
    const folded =
      parts.length > 2 * CONTEXT_LINES + 1
        ? [...parts.slice(0, CONTEXT_LINES), null, ...parts.slice(-CONTEXT_LINES)]
        : parts
    for (const line of folded) {
      lines.push(
        line === null
          ? html`<span class="fold"> … ${parts.length - 2 * CONTEXT_LINES} unchanged lines …</span>`
          : html`<span> ${line}</span>`,
      )
    }
  }
  // One block-level span per line (studio.css): no newline between them.
  return html`<pre class="diff">${lines}</pre>`
}

/** A word diff of two short values, inline: removed words struck through, added ones marked. */
export function wordDiff(before: string, after: string): Html {
  return html`<span class="word-diff"
    >${diffWordsWithSpace(before, after).map((change) =>
      change.added
        ? html`<ins>${change.value}</ins>`
        : change.removed
          ? html`<del>${change.value}</del>`
          : change.value,
    )}</span
  >`
}
