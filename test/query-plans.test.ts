import Database from 'better-sqlite3'
import pg from 'pg'
import { beforeAll, describe, expect, it } from 'vitest'
import { capturePostgres, captureSqlite, type ExecutedStatement } from '../bench/sql-capture.js'
import type { AuraDatabase } from '../src/index.js'
import { dialects, type TestDatabase, type TestDialect } from './dialects.js'
import { useMigratedDatabase } from './helpers.js'

/**
 * The hot queries reach their rows through their indexes. Each test runs one call of the public
 * API, records the statement the library sent to the driver (bench/sql-capture.ts), and asks the
 * database how it would run exactly that statement with exactly those parameters:
 *
 * - SQLite: `EXPLAIN QUERY PLAN`. Without ANALYZE statistics SQLite's planner decides by the
 *   shape of the query and the indexes alone, so an empty table gives the production plan.
 * - PostgreSQL: `EXPLAIN (FORMAT JSON)` after `SET enable_seqscan = off` and
 *   `SET enable_sort = off` on the test's own connection (never the library's). On a few rows the
 *   planner rightly prefers reading the whole table, so the plan would say nothing about the
 *   indexes; with both switched off it takes an index (and an index order) whenever one *can*
 *   serve the query, and falls back to a sequential scan or a sort only when none can. That makes
 *   "the query could use the index" observable without loading a realistic data set, and it is
 *   exactly what a dropped index or a column wrapped in a function takes away.
 *
 * Each expectation names the index, so a plan that silently moves to another index fails too.
 */

interface Plan {
  /**
   * SQLite: the `detail` lines. PostgreSQL: one line per node,
   * `<Node Type> [<relation>] [<index>] [| <index condition>]`.
   */
  readonly lines: readonly string[]
}

async function explain(d: TestDialect, target: TestDatabase, statement: ExecutedStatement): Promise<Plan> {
  if (d.name === 'sqlite') {
    const handle = new Database(target.file!, { readonly: true, fileMustExist: true })
    try {
      const rows = handle.prepare(`explain query plan ${statement.sql}`).all(...statement.values) as {
        detail: string
      }[]
      return { lines: rows.map((r) => r.detail) }
    } finally {
      handle.close()
    }
  }
  const client = new pg.Client({ connectionString: target.url })
  await client.connect()
  try {
    await client.query('set enable_seqscan = off')
    await client.query('set enable_sort = off')
    const { rows } = await client.query(`explain (format json) ${statement.sql}`, [...statement.values])
    const lines: string[] = []
    const walk = (node: Record<string, unknown>) => {
      const parts = [node['Node Type'], node['Relation Name'], node['Index Name']].filter(Boolean)
      const condition = node['Index Cond']
      lines.push(parts.join(' ') + (condition ? ` | ${String(condition)}` : ''))
      for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child)
    }
    walk((rows[0]['QUERY PLAN'] as { Plan: Record<string, unknown> }[])[0]!.Plan)
    return { lines }
  } finally {
    await client.end()
  }
}

/** The one statement of `call` that reads `table` with a plain SELECT (the query under test). */
async function statementOf(
  d: TestDialect,
  db: AuraDatabase,
  table: string,
  call: () => Promise<unknown>,
): Promise<ExecutedStatement> {
  let seen: ExecutedStatement[]
  if (d.name === 'sqlite') {
    const probe = new Database(':memory:')
    try {
      seen = await captureSqlite(probe, call)
    } finally {
      probe.close()
    }
  } else {
    seen = await capturePostgres(call)
  }
  const reads = seen.filter(
    // `select "<table>"."<column>", …`: the library names its columns (or `.*` for a few reads).
    (s) => s.sql.startsWith(`select "${table}".`) || s.sql.startsWith('select count'),
  )
  expect(reads.map((s) => s.sql)).toHaveLength(1)
  return reads[0]!
}

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: query plans of the hot queries`, () => {
    const ctx = useMigratedDatabase(d)
    let projectId: string

    beforeAll(async () => {
      if (!d.available) return
      const { db } = ctx
      await db.seed()
      const p = await db.projectStates.add({ title: 'Planned', status: 'InProgress' })
      projectId = p.id
      await db.sceneStates.add({ projectId, sceneIndex: 0, scriptText: 'one' })
      await db.exportHistory.enqueue({ inputFile: 'a.mp4', outputFile: 'b.mp4', presetName: 'p' })
    })

    const plan = async (table: string, call: () => Promise<unknown>) =>
      explain(d, ctx.target, await statementOf(d, ctx.db, table, call))

    /**
     * Asserts that `table` is reached through one of `indexes` and never scanned whole; with
     * `ordered`, that the index also gives the ORDER BY (at most the last tie-breaker term is
     * sorted: SQLite's "LAST TERM OF ORDER BY", PostgreSQL's Incremental Sort over the index).
     */
    function expectIndexed(result: Plan, table: string, indexes: readonly string[], ordered: boolean) {
      const shown = result.lines.join('\n')
      if (d.name === 'sqlite') {
        const access = result.lines.filter((l) => new RegExp(`^(SEARCH|SCAN) ${table}\\b`).test(l))
        expect(access, shown).toHaveLength(1)
        expect(access[0], shown).toMatch(
          new RegExp(`^SEARCH ${table} USING (INDEX|COVERING INDEX) (${indexes.join('|')}) \\(`),
        )
        if (ordered) expect(shown).not.toMatch(/USE TEMP B-TREE FOR ORDER BY/)
      } else {
        expect(shown).not.toMatch(new RegExp(`^Seq Scan ${table}$`, 'm'))
        // The index must narrow the rows (an index condition), not only be read in order.
        const access = result.lines.filter(
          (l) =>
            (/^Index( Only)? Scan /.test(l) && l.includes(` ${table} `)) ||
            l.startsWith('Bitmap Index Scan '),
        )
        expect(access, shown).toHaveLength(1)
        const [node, condition] = access[0]!.split(' | ')
        expect(indexes, shown).toContain(node!.split(' ').at(-1))
        expect(condition, shown).toBeTruthy()
        if (ordered) expect(shown).not.toMatch(/^Sort$/m)
      }
    }

    it('project by id: the primary key', async () => {
      const { db } = ctx
      const result = await plan('project_states', () => db.projectStates.getById(projectId))
      expectIndexed(
        result,
        'project_states',
        [d.name === 'sqlite' ? 'sqlite_autoindex_project_states_1' : 'project_states_pkey'],
        false,
      )
    })

    it('status page (a page of one status, newest update first): the status and updated_at index, in its order', async () => {
      const { db } = ctx
      const result = await plan('project_states', () =>
        db.projectStates.find({ status: 'InProgress' }, { orderBy: { updatedAt: 'desc' }, limit: 50 }),
      )
      // The partial index of live projects (QueryPlansAtScale) serves it in its order.
      expectIndexed(result, 'project_states', ['ix_project_states_live_status_updated_at_id'], true)
    })

    it('count by status: an index on status', async () => {
      const { db } = ctx
      const result = await plan('project_states', () => db.projectStates.count({ status: 'InProgress' }))
      expectIndexed(
        result,
        'project_states',
        [
          'ix_project_states_status',
          'ix_project_states_status_updated_at',
          'ix_project_states_live_status_updated_at_id',
          // CatchUpProjectStates' (status, category): status leads it, so it serves the count too.
          'ix_project_states_status_category',
        ],
        false,
      )
    })

    it('scenes of a project in order: the unique (project_id, scene_index) index, in its order; the parent by key', async () => {
      const { db } = ctx
      const result = await plan('scene_states', () =>
        db.sceneStates.find({ projectId }, { orderBy: { sceneIndex: 'asc' } }),
      )
      expectIndexed(result, 'scene_states', ['ux_scene_states_project_id_scene_index'], true)
      if (d.name === 'sqlite') {
        expect(result.lines).toContain(
          'SEARCH parent EXISTS USING INDEX sqlite_autoindex_project_states_1 (id=?)',
        )
      } else {
        expect(result.lines).toContainEqual(
          expect.stringMatching(/^Index Scan project_states project_states_pkey \| /),
        )
      }
    })

    it('template search: the full-text index (SQLite FTS5, PostgreSQL GIN), templates by rowid', async () => {
      const { db } = ctx
      const result = await plan('templates', () =>
        db.templates.search({ text: 'tutorial', tags: ['education'], limit: 50 }),
      )
      if (d.name === 'sqlite') {
        expect(result.lines).toContain('SEARCH templates USING INTEGER PRIMARY KEY (rowid=?)')
        expect(
          result.lines.filter((l) => /^SCAN templates_fts VIRTUAL TABLE INDEX \d+:M/.test(l)),
        ).toHaveLength(1)
      } else {
        expectIndexed(result, 'templates', ['ix_templates_search'], false)
      }
    })

    it('export history query (a status, a time range, newest first): an index serves it', async () => {
      const { db } = ctx
      const result = await plan('export_history', () =>
        // One status: with several, the query reads each status on its own and merges them (one
        // statement per status), whose plans test/query-plans-scale.test.ts checks.
        db.exportHistory.query({
          status: 'Completed',
          from: new Date(Date.now() - 86_400_000),
          to: new Date(),
          limit: 50,
        }),
      )
      // Any of the three indexes serves it: (status, created_at[, id]) narrow by both criteria,
      // (created_at) reads them in order and checks the status. A wrapped column or a dropped
      // index leaves a full scan, which fails here.
      expectIndexed(
        result,
        'export_history',
        [
          'ix_export_history_status_created_at_id',
          'ix_export_history_status_created_at',
          'ix_export_history_created_at',
        ],
        false,
      )
    })
  })
}
