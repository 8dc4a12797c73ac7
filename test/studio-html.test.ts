import { describe, expect, it } from 'vitest'
import { escapeHtml, html } from '../src/studio/html.js'

// The studio's one escaping helper: no database involved, so no dialect loop.
describe('studio: HTML escaping', () => {
  it('escapes the five characters that matter in text and quoted attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    )
    expect(escapeHtml('plain text, ünïcödé — 100%')).toBe('plain text, ünïcödé — 100%')
  })

  it('escapes every interpolated value of a template, in text and in attributes', () => {
    const title = '<script>alert(1)</script>'
    const attribute = '" onmouseover="alert(1)'
    expect(html`<td title="${attribute}">${title}</td>`.text).toBe(
      '<td title="&quot; onmouseover=&quot;alert(1)">&lt;script&gt;alert(1)&lt;/script&gt;</td>',
    )
  })

  it('keeps markup built by html`` as is, escapes arrays element by element, drops null and false', () => {
    const cells = ['<b>', html`<i>${'<u>'}</i>`]
    expect(html`<p>${cells}${null}${undefined}${false}${0}</p>`.text).toBe(
      '<p>&lt;b&gt;<i>&lt;u&gt;</i>0</p>',
    )
  })

  it('does not treat a string that looks like markup as markup, whatever its origin', () => {
    const stored = { toString: () => '<img src=x onerror=alert(1)>' }
    expect(html`${String(stored)}`.text).toBe('&lt;img src=x onerror=alert(1)&gt;')
  })
})
