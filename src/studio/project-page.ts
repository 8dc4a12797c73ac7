import { NotFoundError } from '../errors.js'
import type { ProjectState } from '../schema/project-states.js'
import { html } from './html.js'
import { bytes, fields, jsonBlock, link, page, table, when, writeForm } from './layout.js'
import { htmlResponse, redirect, type Route, type StudioContext, type StudioResponse } from './routes.js'

/** The spec JSONs of a project, as the page labels them. */
const SPECS = [
  ['Brief', 'briefJson'],
  ['Plan', 'planSpecJson'],
  ['Voice', 'voiceSpecJson'],
  ['Render', 'renderSpecJson'],
] as const

/**
 * The page of a soft-deleted project: that it is deleted, by whom and when, and (under
 * `--write`) the library's restore. Its scenes and versions come back with it.
 */
function deletedProjectPage(ctx: StudioContext, project: ProjectState): StudioResponse {
  const body = html`<div class="deleted-note" role="status">
      <span class="badge deleted">deleted</span> This project was deleted ${when(project.deletedAt)} UTC by
      ${project.deletedBy ?? '—'}. The application no longer sees it, nor its scenes, assets and versions.
      ${writeForm(ctx, `/projects/${project.id}/restore`, 'Restore project', {}, `Restore “${project.title}”?`)}
    </div>
    <p class="links">
      <a href="${link('/audit', { table: 'project_states', row: project.id })}"
        >Audit trail of this project</a
      >
      <a href="/tables/project_states/rows/${project.id}">All its columns</a>
    </p>
    ${fields([
      ['Id', html`<code>${project.id}</code>`],
      ['Status', project.status],
      ['Description', project.description ?? '—'],
      ['Updated (UTC)', `${when(project.updatedAt)} by ${project.modifiedBy ?? '—'}`],
      ['Row version', project.rowVersion],
    ])}`
  return htmlResponse(page(ctx, project.title, body))
}

export const projectRoutes: readonly Route[] = [
  {
    method: 'POST',
    path: /^\/projects\/([^/]+)\/restore$/,
    writes: true,
    async handle(ctx, req) {
      const id = req.params[0]!
      // The library's restore: the row and its audit entry in one transaction.
      await ctx.db.projectStates.restore(id)
      return redirect(`/projects/${id}?restored=1`)
    },
  },
  {
    method: 'GET',
    path: /^\/projects\/([^/]+)$/,
    async handle(ctx, req) {
      const id = req.params[0]!
      const project = await ctx.db.projectStates.getWithDetails(id)
      if (!project) {
        const deleted = await ctx.db.projectStates.getById(id, { includeDeleted: true })
        if (deleted) return deletedProjectPage(ctx, deleted)
        throw new NotFoundError('project_states', id)
      }
      const body = html`${req.query.has('restored') ? html`<p class="notice">Restored: the project is visible again.</p>` : null}
        <p class="links">
          <a href="/projects/${project.id}/versions">Versions</a>
          <a href="${link('/audit', { table: 'project_states', row: project.id })}"
            >Audit trail of this project</a
          >
          <a href="${link('/history', { project: project.id })}">Undo/redo history</a>
          <a href="/tables/project_states/rows/${project.id}">All columns${ctx.write ? ' (edit)' : ''}</a>
        </p>
        ${fields([
          ['Id', html`<code>${project.id}</code>`],
          ['Status', html`<span class="status ${project.status}">${project.status}</span>`],
          ['Description', project.description ?? '—'],
          ['Wizard step', project.currentWizardStep],
          ['Stage', project.currentStage ?? '—'],
          ['Progress', `${project.progressPercent}%`],
          ['Job', project.jobId ?? '—'],
          ['Error', project.errorMessage ?? '—'],
          ['Created (UTC)', `${when(project.createdAt)} by ${project.createdBy ?? '—'}`],
          ['Updated (UTC)', `${when(project.updatedAt)} by ${project.modifiedBy ?? '—'}`],
          ['Completed (UTC)', when(project.completedAt)],
          ['Row version', project.rowVersion],
        ])}
        <h2>Scenes (${project.scenes.length})</h2>
        ${table(
          ['#', 'Script', 'Duration', 'Done', 'Audio', 'Image', 'Updated (UTC)'],
          project.scenes.map((s) => [
            s.sceneIndex,
            html`<div class="script">${s.scriptText}</div>`,
            `${s.durationSeconds} s`,
            s.isCompleted ? 'yes' : 'no',
            s.audioFilePath ?? '—',
            s.imageFilePath ?? '—',
            when(s.updatedAt),
          ]),
          'No scenes.',
        )}
        <h2>Specs</h2>
        <div class="specs">
          ${SPECS.map(
            ([label, field]) =>
              html`<section>
                <h3>${label}</h3>
                ${jsonBlock(project[field])}
              </section>`,
          )}
        </div>
        <h2>Assets (${project.assets.length})</h2>
        ${table(
          ['Type', 'File', 'Size', 'MIME', 'Temporary', 'Created (UTC)'],
          project.assets.map((a) => [
            a.assetType,
            a.filePath,
            bytes(a.fileSizeBytes),
            a.mimeType ?? '—',
            a.isTemporary ? 'yes' : 'no',
            when(a.createdAt),
          ]),
          'No assets.',
        )}
        <h2>Render checkpoints (${project.checkpoints.length})</h2>
        ${table(
          ['Stage', 'Time (UTC)', 'Scenes', 'Valid', 'Output', 'Data'],
          project.checkpoints.map((c) => [
            c.stageName,
            when(c.checkpointTime),
            `${c.completedScenes}/${c.totalScenes}`,
            c.isValid ? 'yes' : 'no',
            c.outputFilePath ?? '—',
            jsonBlock(c.checkpointData),
          ]),
          'No checkpoints.',
        )}`
      return htmlResponse(page(ctx, project.title, body))
    },
  },
]
