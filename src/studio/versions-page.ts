import { NotFoundError, ValidationError } from '../errors.js'
import type { VersionContent, VersionPart } from '../repository/project-versions-repository.js'
import type { ProjectVersion } from '../schema/project-versions.js'
import { lineDiff } from './diff-view.js'
import { html, type Html } from './html.js'
import { bytes, link, page, prettyJson, table, when, writeForm } from './layout.js'
import { htmlResponse, redirect, type Route, type StudioContext } from './routes.js'

const PARTS: readonly VersionPart[] = ['brief', 'plan', 'voice', 'render', 'timeline']

/** A part of a version as text to diff: specs pretty-printed, the timeline as indented JSON. */
function partText(content: VersionContent, part: VersionPart): string {
  if (part === 'timeline') return content.timeline === null ? '' : JSON.stringify(content.timeline, null, 2)
  return prettyJson(content[part]) ?? ''
}

function label(v: ProjectVersion): string {
  return `v${v.versionNumber}${v.name ? ` “${v.name}”` : ''}`
}

/** The diff of two versions, part by part; unchanged parts (same hash) are only named. */
async function comparison(ctx: StudioContext, a: ProjectVersion, b: ProjectVersion): Promise<Html> {
  const [{ changed }, left, right] = await Promise.all([
    ctx.db.projectVersions.compare(a.id, b.id),
    ctx.db.projectVersions.getContent(a.id),
    ctx.db.projectVersions.getContent(b.id),
  ])
  return html`<section class="comparison">
    <h2>${label(a)} → ${label(b)}</h2>
    ${PARTS.map((part) =>
      changed.includes(part)
        ? html`<section class="part changed" data-part="${part}">
            <h3>${part}: changed</h3>
            ${lineDiff(partText(left, part), partText(right, part))}
          </section>`
        : html`<section class="part unchanged" data-part="${part}"><h3>${part}: unchanged</h3></section>`,
    )}
  </section>`
}

export const versionsRoutes: readonly Route[] = [
  {
    method: 'GET',
    path: /^\/projects\/([^/]+)\/versions$/,
    async handle(ctx, req) {
      const id = req.params[0]!
      const project = await ctx.db.projectStates.getById(id)
      if (!project) throw new NotFoundError('project_states', id)
      const versions = await ctx.db.projectVersions.find(
        { projectId: project.id },
        { orderBy: { versionNumber: 'desc' } },
      )
      const pick = (name: 'a' | 'b') => {
        const wanted = req.query.get(name)
        if (!wanted) return null
        const found = versions.find((v) => v.id === wanted.toLowerCase())
        if (!found) throw new ValidationError(`${name}: not a version of this project`)
        return found
      }
      const a = pick('a')
      const b = pick('b')
      const restoredId = req.query.get('restored')?.toLowerCase()
      const restored = versions.find((v) => v.id === restoredId) ?? null
      const radio = (name: 'a' | 'b', v: ProjectVersion, checked: ProjectVersion | null) =>
        html`<input
          type="radio"
          form="compare"
          name="${name}"
          value="${v.id}"
          aria-label="${name === 'a' ? 'from' : 'to'} ${label(v)}"
          ${checked?.id === v.id ? html` checked` : ''}
        />`
      // Without a choice, the newest version against the one before it.
      const from = a ?? versions[1] ?? null
      const to = b ?? versions[0] ?? null
      const rows = versions.map((v) => [
        radio('a', v, from),
        radio('b', v, to),
        html`<strong>v${v.versionNumber}</strong>`,
        v.name ?? '—',
        v.versionType,
        v.trigger ?? '—',
        `${when(v.createdAt)} by ${v.createdBy ?? '—'}`,
        bytes(v.storageSizeBytes),
        v.isMarkedImportant ? 'yes' : '',
        writeForm(
          ctx,
          `/projects/${project.id}/versions/${v.id}/restore`,
          'Restore',
          {},
          `Restore “${project.title}” to version ${v.versionNumber}? The current state is kept as a restore point.`,
        ),
      ])
      const body = html`<p class="links">
          <a href="/projects/${project.id}">« ${project.title}</a>
          <a href="${link('/audit', { table: 'project_versions' })}">Audit trail of versions</a>
        </p>
        ${restored ? html`<p class="notice">Restored to ${label(restored)}; the state before is kept as a restore point.</p>` : null}
        ${table(['From', 'To', 'Version', 'Name', 'Type', 'Trigger', 'Created (UTC)', 'Size', 'Important', ctx.write ? 'Restore' : ''], rows, 'No versions yet.')}
        ${versions.length >= 2 ? html`<form id="compare" method="get" action="/projects/${project.id}/versions"><button type="submit">Compare</button></form>` : null}
        ${a && b ? await comparison(ctx, a, b) : null}`
      return htmlResponse(page(ctx, `Versions of ${project.title}`, body))
    },
  },
  {
    method: 'POST',
    path: /^\/projects\/([^/]+)\/versions\/([^/]+)\/restore$/,
    writes: true,
    async handle(ctx, req) {
      const [projectId, versionId] = req.params as [string, string]
      const { restorePoint } = await ctx.db.projectVersions.revertTo(projectId, versionId)
      return redirect(
        link(`/projects/${projectId.toLowerCase()}/versions`, {
          restored: versionId,
          a: restorePoint.id,
          b: versionId,
        }),
      )
    },
  },
]
