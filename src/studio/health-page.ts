import { basename } from 'node:path'
import { listBackups } from '../operations/backup-files.js'
import { html } from './html.js'
import { age, bytes, fields, page, table, when, writeForm } from './layout.js'
import { metricsSection } from './metrics-section.js'
import { htmlResponse, redirect, type Route, type StudioContext } from './routes.js'

function ok(value: boolean) {
  return value ? html`<span class="ok">ok</span>` : html`<span class="failed">FAILED</span>`
}

/** A backup's verification in the words of `aura-db backups`. */
function yesNo(value: boolean) {
  return value ? html`<span class="ok">yes</span>` : html`<span class="failed">no</span>`
}

/**
 * Verification runs when asked for, in a child process (see {@link VerifyJob}): the page shows
 * that it runs, reloads itself until it is done, then shows the report.
 */
function verifySection(ctx: StudioContext) {
  const job = ctx.verify.state
  const button = html`<form method="get" action="/health">
    <input type="hidden" name="verify" value="1" /><button type="submit">Run verify</button>
  </form>`
  switch (job.state) {
    case 'idle':
      return button
    case 'running':
      return html`<p id="verify-state" data-state="running">
        Verifying since ${when(job.startedAt)} (UTC); the other pages keep working. This page reloads until it
        is done.
      </p>`
    case 'failed':
      return html`<p id="verify-state" data-state="failed" class="failed">Verify failed: ${job.message}</p>
        ${button}`
    case 'done':
      return html`<p id="verify-state" data-state="done">
          Overall: ${ok(job.ok)} (finished ${when(job.finishedAt)} UTC)
        </p>
        ${table(
          ['Check', 'Result', 'Detail'],
          job.checks.map((c) => [c.name, ok(c.ok), c.detail]),
        )}
        ${button}`
  }
}

function backupProgress(ctx: StudioContext) {
  const job = ctx.backups.state
  const status =
    job.state === 'running'
      ? `${job.phase} ${job.done}/${job.total || '?'}`
      : job.state === 'done'
        ? `Done: ${basename(job.file)} (${bytes(job.sizeBytes)})`
        : job.state === 'failed'
          ? `Failed: ${job.message}`
          : ''
  return html`<div id="backup-progress" data-state="${job.state}">
    <progress
      max="${job.state === 'running' ? job.total || 1 : 1}"
      value="${job.state === 'running' ? job.done : job.state === 'done' ? 1 : 0}"
    ></progress>
    <span class="backup-status">${status}</span>
  </div>`
}

export const healthRoutes: readonly Route[] = [
  {
    method: 'GET',
    path: /^\/health$/,
    async handle(ctx, req) {
      if (req.query.get('verify') === '1') ctx.verify.start()
      const status = await ctx.db.status()
      // Only this database's: other databases may keep their backups in the same directory.
      const database = ctx.db.dialect.backups().sourceIdentity()
      const backups = listBackups(ctx.backupDir, { of: database })
      const body = html`<h2>Migrations</h2>
        ${fields([
          ['Dialect', status.dialect],
          ['Database', status.database],
          ['Current', status.current ?? '(none)'],
          ['Pending', status.pending.length ? status.pending.join(', ') : 'none'],
          [
            'Drift',
            status.drift.length
              ? html`<span class="failed">${status.drift.length} migration(s)</span>`
              : 'none',
          ],
        ])}
        ${table(
          ['Migration', 'Set', 'Applied (UTC)', 'Checksum', 'ms'],
          status.applied.map((m) => [
            m.name,
            m.set,
            when(m.appliedAt),
            html`<code>${m.checksum.slice(0, 16)}</code>`,
            m.executionMs,
          ]),
          'No migration applied.',
        )}
        ${
          status.drift.length
            ? table(
                ['Drifted migration', 'Set', 'Problem', 'Recorded', 'File now'],
                status.drift.map((d) => [d.name, d.set, d.problem, d.expected, d.actual ?? '(missing)']),
              )
            : null
        }
        <h2>Verify</h2>
        ${verifySection(ctx)}
        <h2>This studio's database use</h2>
        ${metricsSection(ctx.db)}
        <h2>Backups</h2>
        <p>Backups of <code>${database}</code> in <code>${ctx.backupDir}</code></p>
        ${writeForm(ctx, '/health/backup', 'Take a backup')} ${backupProgress(ctx)}
        ${table(
          ['File', 'Created (UTC)', 'Age', 'Size', 'Verified', 'Kind', 'Migration'],
          backups.map((b) => [
            basename(b.file),
            when(b.createdAt),
            age(b.createdAt),
            bytes(b.sizeBytes),
            yesNo(b.verified),
            // The words of `aura-db backups`.
            b.kind,
            b.manifest?.migration ?? '—',
          ]),
          'No backups yet.',
        )}`
      const response = htmlResponse(page(ctx, 'Health', body))
      // Reloads itself while verify runs (no script needed: the CSP allows none inline).
      return ctx.verify.state.state === 'running' ? { ...response, refresh: '/health' } : response
    },
  },
  {
    method: 'POST',
    path: /^\/health\/backup$/,
    writes: true,
    async handle(ctx) {
      // Not awaited: the page shows its progress (studio.js polls /api/backup) and the outcome.
      void ctx.backups.start()
      return redirect('/health')
    },
  },
  {
    method: 'GET',
    path: /^\/api\/backup$/,
    async handle(ctx) {
      return { kind: 'json', body: ctx.backups.state }
    },
  },
]
