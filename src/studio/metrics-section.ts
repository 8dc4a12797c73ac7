import type { AuraDatabase } from '../database.js'
import { html } from './html.js'
import { fields, table } from './layout.js'

/** Statement shapes shown: the most time-consuming first. */
const SHOWN = 15

function ms(value: number): string {
  return value < 10 ? value.toFixed(2) : value.toFixed(0)
}

/**
 * The studio process's own `db.metrics()`: its PostgreSQL connections and the statements it ran,
 * as they are when the page is loaded (reload for fresh figures). SQL with placeholders only:
 * the metrics never hold a bound value.
 */
export function metricsSection(db: AuraDatabase) {
  const { connections, statements } = db.metrics()
  return html`${
    connections
      ? fields([
          ['Connections open', `${connections.open} of ${connections.max} (${connections.idle} idle)`],
          ['Waiting for a connection', connections.waiting],
          ['Connections made', connections.opened],
          ['Connections lost', connections.lost],
          ['Deadlines missed', connections.deadlines],
          ['Commits of unknown outcome', connections.commitsUnknown],
        ])
      : null
  }
  ${table(
    ['Statement', 'Runs', 'Errors', 'p50 ms', 'p99 ms', 'Total ms'],
    (statements ?? [])
      .slice(0, SHOWN)
      .map((s) => [
        html`<code>${s.sql.length > 200 ? `${s.sql.slice(0, 200)}…` : s.sql}</code>`,
        s.count,
        s.errors,
        ms(s.p50Ms),
        ms(s.p99Ms),
        ms(s.totalMs),
      ]),
    statements === null ? 'Statement timings are not collected for this database.' : 'No statement yet.',
  )}`
}
