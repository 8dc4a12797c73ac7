import { ValidationError } from '../errors.js'
import type { Where } from '../repository/filter.js'
import type { ActionLog } from '../schema/action-logs.js'
import { html } from './html.js'
import { jsonBlock, link, page, table, when, writeForm } from './layout.js'
import { htmlResponse, redirect, type Route, type StudioRequest } from './routes.js'

/** Actions shown per history (newest first). */
const SHOWN = 200

/** The (project, user) history a write form names. */
function history(req: StudioRequest): { projectId: string; userId: string } {
  const projectId = req.form.get('project') ?? ''
  const userId = req.form.get('user') ?? ''
  if (!projectId || !userId) throw new ValidationError('undo/redo needs a project and a user')
  return { projectId, userId }
}

function outcome(projectId: string, userId: string, done: ActionLog | null, verb: 'undo' | 'redo') {
  return redirect(
    link('/history', {
      project: projectId,
      user: userId,
      done: done
        ? `${verb === 'undo' ? 'Undone' : 'Redone'}: ${done.actionType} #${done.sequence}`
        : `Nothing to ${verb}.`,
    }),
  )
}

export const historyRoutes: readonly Route[] = [
  {
    method: 'GET',
    path: /^\/history$/,
    async handle(ctx, req) {
      const projectId = req.query.get('project') ?? ''
      const userId = req.query.get('user') ?? ''
      const done = req.query.get('done')
      const where: Where<ActionLog> = {}
      if (projectId) where.projectId = projectId
      if (userId) where.userId = userId
      const actions = await ctx.db.actionLogs.find(where, {
        orderBy: { timestamp: 'desc', sequence: 'desc' },
        limit: SHOWN,
      })
      const rows = actions.map((a) => [
        a.sequence,
        when(a.timestamp),
        html`<a href="${link('/history', { project: a.projectId, user: a.userId })}">${a.userId}</a>`,
        a.projectId ? html`<a href="/projects/${a.projectId}">${a.projectId.slice(0, 8)}</a>` : '—',
        a.actionType,
        a.description,
        html`<span class="action-status ${a.status}">${a.status}</span>`,
        a.undoneAt ? `${when(a.undoneAt)} by ${a.undoneByUserId ?? '—'}` : '—',
        html`<details>
          <summary>payload</summary>
          ${jsonBlock(a.payloadJson)}
          <p>inverse</p>
          ${jsonBlock(a.inversePayloadJson)}
        </details>`,
      ])
      const controls =
        projectId && userId
          ? html`<p class="controls">
              History of <strong>${userId}</strong> on this project:
              ${writeForm(ctx, '/history/undo', 'Undo', { project: projectId, user: userId })}
              ${writeForm(ctx, '/history/redo', 'Redo', { project: projectId, user: userId })}
            </p>`
          : ctx.write
            ? html`<p class="hint">
                Pick a user of a project (a link in the table) to undo or redo their actions.
              </p>`
            : null
      const body = html`<form method="get" action="/history" class="filters">
          <label>Project id <input name="project" value="${projectId}" maxlength="36" /></label>
          <label>User <input name="user" value="${userId}" maxlength="200" /></label>
          <button type="submit">Filter</button>
        </form>
        ${done ? html`<p class="notice">${done}</p>` : null} ${controls}
        ${table(['#', 'When (UTC)', 'User', 'Project', 'Type', 'Description', 'Status', 'Undone', 'Payload'], rows, 'No actions recorded.')}`
      return htmlResponse(page(ctx, 'Undo/redo history', body))
    },
  },
  {
    method: 'POST',
    path: /^\/history\/undo$/,
    writes: true,
    async handle(ctx, req) {
      const { projectId, userId } = history(req)
      return outcome(projectId, userId, await ctx.db.actionLogs.undo(projectId, userId), 'undo')
    },
  },
  {
    method: 'POST',
    path: /^\/history\/redo$/,
    writes: true,
    async handle(ctx, req) {
      const { projectId, userId } = history(req)
      return outcome(projectId, userId, await ctx.db.actionLogs.redo(projectId, userId), 'redo')
    },
  },
]
