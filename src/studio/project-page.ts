import { NotFoundError } from '../errors.js'
import { html } from './html.js'
import { bytes, fields, jsonBlock, link, page, table, when } from './layout.js'
import { htmlResponse, type Route } from './routes.js'

/** The spec JSONs of a project, as the page labels them. */
const SPECS = [
  ['Brief', 'briefJson'],
  ['Plan', 'planSpecJson'],
  ['Voice', 'voiceSpecJson'],
  ['Render', 'renderSpecJson'],
] as const

export const projectRoutes: readonly Route[] = [
  {
    method: 'GET',
    path: /^\/projects\/([^/]+)$/,
    async handle(ctx, req) {
      const id = req.params[0]!
      const project = await ctx.db.projectStates.getWithDetails(id)
      if (!project) throw new NotFoundError('project_states', id)
      const body = html`<p class="links">
          <a href="/projects/${project.id}/versions">Versions</a>
          <a href="${link('/audit', { table: 'project_states', row: project.id })}"
            >Audit trail of this project</a
          >
          <a href="${link('/history', { project: project.id })}">Undo/redo history</a>
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
