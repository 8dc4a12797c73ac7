import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type AuraDatabase } from '../src/index.js'
import { dialects, type TestDatabase } from './dialects.js'
import { useStudioApp } from './studio-app.js'
import { startStudioCli, useChromium, type RunningStudio } from './studio-helpers.js'

/** Where to save screenshots of the pages (set by hand to look at them; unset in CI). */
const SCREENSHOTS = process.env.AURA_STUDIO_SCREENSHOTS

const chromiumBrowser = useChromium('the studio table browser tests in Chromium (test/studio-tables.test.ts)')
const app = useStudioApp()

/** Projects beyond one page of 50: three pages. */
const PROJECTS = 120
const title = (i: number) => `Project ${String(i).padStart(3, '0')}`

for (const d of dialects) {
  describe.skipIf(!d.available || !chromiumBrowser.available)(`${d.label}: studio table browser`, () => {
    let target: TestDatabase
    let db: AuraDatabase
    let studio: RunningStudio
    let page: Page
    let deletedId: string
    let noteId: string

    const shot = async (name: string) => {
      if (SCREENSHOTS && d.name === 'sqlite') {
        await page.screenshot({ path: join(SCREENSHOTS, `studio-${name}.png`), fullPage: true })
      }
    }
    const rows = () => page.locator('table.rows tbody tr')
    const column = async (index: number) =>
      page.locator(`table.rows tbody tr td:nth-child(${index})`).allTextContents()

    beforeAll(async () => {
      target = await d.create()
      const [, notes] = app.tables
      db = await openDatabase({
        url: target.url,
        actor: 'alice',
        tables: app.tables,
        migrationsDir: app.migrationsDir,
      })
      await db.migrate()
      // Added in shuffled order, so that sorting by title is the studio's doing.
      const order = Array.from({ length: PROJECTS }, (_, i) => ((i * 7) % PROJECTS) + 1)
      const added = await db.projectStates.addRange(
        order.map((i) => ({ title: title(i), clientRef: `ref-${i}` })),
      )
      const gone = await db.projectStates.add({ title: 'Gone project' })
      await db.projectStates.delete(gone)
      deletedId = gone.id
      const note = await db.table(notes).add({ projectId: added[0]!.id, body: 'Call back on Monday' })
      noteId = note.id
      studio = await startStudioCli(target.url, ['--write', '--dir', join(target.dir, 'backups')], {
        AURA_MIGRATIONS_DIR: app.migrationsDir,
        AURA_SCHEMA: app.schemaModule,
      })
      const context = await chromiumBrowser.browser().newContext({ viewport: { width: 1400, height: 900 } })
      page = await context.newPage()
      page.on('dialog', (dialog) => void dialog.accept())
    })

    afterAll(async () => {
      await page?.context().close()
      await studio?.stop()
      await db?.close()
      await target?.drop()
    })

    it("lists every table of the schema model, the application's own and extended ones marked", async () => {
      await page.goto(studio.url)
      await page.getByRole('link', { name: 'Tables', exact: true }).click()
      await page.waitForURL('**/tables')
      const origin = (name: string) =>
        page.locator('tr', { has: page.getByRole('link', { name, exact: true }) }).locator('.origin')
      expect(await origin('client_notes').textContent()).toBe('application')
      expect(await origin('project_states').textContent()).toBe('extended')
      expect(await origin('templates').textContent()).toBe('built-in')
      expect(await page.locator('a.table-link').count()).toBe(15)
      await shot('tables')
    })

    it('pages through a table 50 rows at a time, sorted by the column clicked', async () => {
      await page.goto(`${studio.origin}/tables/project_states`)
      await page.getByRole('link', { name: 'title', exact: true }).click()
      await page.waitForURL(/sort=title&dir=asc/)
      // The extended column is a column like the others.
      expect(await page.getByRole('link', { name: 'clientRef', exact: true }).count()).toBe(1)
      const titleColumn = 2
      expect(await rows().count()).toBe(50)
      expect((await column(titleColumn)).slice(0, 2)).toEqual([title(1), title(2)])
      await page.getByRole('link', { name: 'Next page »' }).click()
      await page.waitForURL(/page=2/)
      expect((await column(titleColumn))[0]).toBe(title(51))
      expect(await page.locator('.paging .hint').textContent()).toBe('Rows 51–100')
      await page.getByRole('link', { name: 'Next page »' }).click()
      await page.waitForURL(/page=3/)
      expect(await rows().count()).toBe(PROJECTS - 100)
      expect(await page.getByRole('link', { name: 'Next page »' }).count()).toBe(0)
      await page.getByRole('link', { name: 'title ▲' }).click()
      await page.waitForURL(/dir=desc/)
      expect((await column(titleColumn)).slice(0, 2)).toEqual([title(PROJECTS), title(PROJECTS - 1)])
      await shot('table-sorted')
    })

    it('filters by a column (contains, equals), the value bound as typed', async () => {
      await page.goto(`${studio.origin}/tables/project_states?sort=title`)
      await page.getByLabel('Column').selectOption('title')
      await page.getByLabel('Operator').selectOption('contains')
      await page.getByLabel('Value').fill('ject 01')
      await page.getByRole('button', { name: 'Filter' }).click()
      await page.waitForURL(/col=title/)
      expect(await column(2)).toEqual(Array.from({ length: 10 }, (_, i) => title(10 + i)))
      await page.getByLabel('Column').selectOption('clientRef')
      await page.getByLabel('Operator').selectOption('eq')
      await page.getByLabel('Value').fill('ref-42')
      await page.getByRole('button', { name: 'Filter' }).click()
      await page.waitForURL(/val=ref-42/)
      expect(await column(2)).toEqual([title(42)])
      // A value that is no number, for a number column, is refused by name.
      await page.goto(`${studio.origin}/tables/project_states?col=progressPercent&val=lots`)
      expect(await page.locator('p.error').textContent()).toContain('"lots" is not a number')
    })

    it('opens a row: every column, and a foreign key links to the row it names', async () => {
      await page.goto(`${studio.origin}/tables/client_notes`)
      await page.getByRole('link', { name: noteId }).click()
      await page.waitForURL(`**/tables/client_notes/rows/${noteId}`)
      const value = (label: string) => page.locator(`dt:text-is("${label}") + dd`)
      expect(await value('body').textContent()).toBe('Call back on Monday')
      expect(await value('createdBy').textContent()).toBe('alice')
      await value('projectId').getByRole('link').click()
      await page.waitForURL(/\/projects\//)
      expect(await page.locator('h1').textContent()).toMatch(/^Project \d{3}$/)
    })

    it('templates, exports, assets and content blobs have their pages; a blob shows its hash, size and references', async () => {
      const project = (await db.projectStates.find({ title: title(3) }))[0]!
      const brief = JSON.stringify({ topic: 'Blob test', body: 'x'.repeat(5000) })
      await db.projectStates.update({ id: project.id, rowVersion: project.rowVersion, briefJson: brief })
      await db.projectVersions.create(project.id, { type: 'Manual', name: 'With a brief' })
      for (const [nav, table] of [
        ['Templates', 'templates'],
        ['Exports', 'export_history'],
        ['Assets', 'asset_states'],
        ['Blobs', 'content_blobs'],
      ] as const) {
        await page.getByRole('navigation').getByRole('link', { name: nav, exact: true }).click()
        await page.waitForURL(`**/tables/${table}`)
        expect(await page.locator('h1').textContent()).toBe(table)
      }
      const blob = page.locator('table.rows tbody tr', { hasText: 'Brief' })
      await blob.locator('a.row-link').click()
      const value = (label: string) => page.locator(`dt:text-is("${label}") + dd`)
      expect(await value('contentHash').textContent()).toMatch(/^[0-9a-f]{64}$/)
      expect(await value('sizeBytes').textContent()).toBe(String(Buffer.byteLength(brief)))
      expect(await value('referenceCount').textContent()).toBe('1')
      // Long content is cut, saying how long it is.
      expect(await value('content').locator('.long').textContent()).toHaveLength(2001)
      expect(await value('content').locator('.hint').textContent()).toBe(
        `(${brief.length.toLocaleString('en-US')} characters)`,
      )
      await shot('blob')
    })

    it('refuses a column name that is not in the schema, saying which columns there are', async () => {
      for (const query of [
        'sort=title%3B%20drop%20table%20project_states',
        'col=title)%20or%201%3D1--&val=x',
      ]) {
        const response = await page.goto(`${studio.origin}/tables/project_states?${query}`)
        expect(response!.status()).toBe(400)
        expect(await page.locator('h1').textContent()).toBe('Refused')
        expect(await page.locator('p.error').textContent()).toMatch(
          /project_states has no column ".*"\. Its columns: id, title,/,
        )
      }
      expect(await db.projectStates.count()).toBe(PROJECTS)
      await shot('refused')
      // Offset paging is bounded: beyond its last page the list says how to narrow it.
      const deep = await page.goto(`${studio.origin}/tables/project_states?page=102`)
      expect(deep!.status()).toBe(400)
      expect(await page.locator('p.error').textContent()).toContain('the list stops at row 5,000')
    })

    it('shows a soft-deleted project only when asked, marked; its page says so; restore writes an audit entry', async () => {
      await page.goto(`${studio.origin}/projects?q=gone`)
      expect(await page.locator('a.project-link').count()).toBe(0)
      await page.getByLabel('Show deleted').check()
      await page.getByRole('button', { name: 'Filter' }).click()
      await page.waitForURL(/deleted=1/)
      const row = page.locator('tr', { hasText: 'Gone project' })
      expect(await row.locator('.badge.deleted').textContent()).toBe('deleted')
      await row.getByRole('link', { name: 'Gone project' }).click()
      await page.waitForURL(`**/projects/${deletedId}`)
      expect(await page.locator('.deleted-note').innerText()).toMatch(
        /This project was deleted .* UTC by alice\./,
      )
      await shot('project-deleted')
      await page.getByRole('button', { name: 'Restore project' }).click()
      await page.waitForURL(/restored=1/)
      expect(await page.locator('.notice').textContent()).toContain('Restored')
      expect((await db.projectStates.getById(deletedId))?.title).toBe('Gone project')
      const entries = await db.auditEntries.find({
        tableName: 'project_states',
        rowId: deletedId,
        action: 'restore',
      })
      expect(entries.map((e) => e.actor)).toEqual(['aura-studio'])
    })

    it("restores a deleted row of the application's own table through its repository", async () => {
      const [, notes] = app.tables
      const note = await db
        .table(notes)
        .add({ projectId: (await db.projectStates.getAll({ limit: 1 }))[0]!.id, body: 'Old note' })
      await db.table(notes).delete(note)
      await page.goto(`${studio.origin}/tables/client_notes`)
      expect(await page.getByRole('link', { name: note.id }).count()).toBe(0)
      await page.getByLabel('Show deleted').check()
      await page.getByRole('button', { name: 'Filter' }).click()
      await page.waitForURL(/deleted=1/)
      const row = page.locator('tr.deleted', { hasText: note.id })
      expect(await row.locator('.badge.deleted').textContent()).toBe('deleted')
      await row.getByRole('link', { name: note.id }).click()
      expect(await page.locator('.deleted-note').innerText()).toContain('This row was deleted by alice')
      await page.getByRole('button', { name: 'Restore' }).click()
      await page.waitForURL(/restored=1/)
      expect(await page.getByRole('status').textContent()).toContain('Restored')
      expect((await db.table(notes).getById(note.id))?.body).toBe('Old note')
      const entries = await db.auditEntries.find({
        tableName: 'client_notes',
        rowId: note.id,
        action: 'restore',
      })
      expect(entries.map((e) => e.actor)).toEqual(['aura-studio'])
    })

    it('a stale edit shows the concurrency conflict and writes nothing', async () => {
      const project = (await db.projectStates.find({ title: title(7) }))[0]!
      await page.goto(`${studio.origin}/tables/project_states/rows/${project.id}`)
      await page.getByLabel('title', { exact: true }).fill('Edited in the studio')
      // Meanwhile, the application changes the row.
      await db.projectStates.update({
        id: project.id,
        rowVersion: project.rowVersion,
        title: 'Changed elsewhere',
      })
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST'),
        page.getByRole('button', { name: 'Save' }).click(),
      ])
      expect(response.status()).toBe(409)
      const alert = page.getByRole('alert')
      expect(await alert.textContent()).toContain('Not saved')
      expect(await alert.textContent()).toContain('was changed by someone else')
      const now = (await db.projectStates.getById(project.id))!
      expect(now.title).toBe('Changed elsewhere')
      expect(now.rowVersion).toBe(project.rowVersion + 1)
      // The page shows the row as it is now, ready for the edit to be made again.
      expect(await page.getByLabel('title', { exact: true }).inputValue()).toBe('Changed elsewhere')
      await shot('edit-conflict')
    })

    it('a valid edit goes through the library: validated, new row version, audit entry', async () => {
      const project = (await db.projectStates.find({ title: title(9) }))[0]!
      await page.goto(`${studio.origin}/tables/project_states/rows/${project.id}`)
      await page.getByLabel('progressPercent').fill('250')
      await page.getByRole('button', { name: 'Save' }).click()
      expect(await page.getByRole('alert').textContent()).toContain('progressPercent')
      expect((await db.projectStates.getById(project.id))!.rowVersion).toBe(project.rowVersion)

      await page.getByLabel('progressPercent').fill('40')
      await page.getByLabel('clientRef').fill('ACME-7')
      await page.getByRole('button', { name: 'Save' }).click()
      await page.waitForURL(/saved=1/)
      expect(await page.getByRole('status').textContent()).toBe('Saved.')
      const saved = (await db.projectStates.getById(project.id)) as unknown as Record<string, unknown>
      expect(saved.progressPercent).toBe(40)
      expect(saved.clientRef).toBe('ACME-7')
      expect(saved.rowVersion).toBe(project.rowVersion + 1)
      const [entry] = await db.auditEntries.find(
        { tableName: 'project_states', rowId: project.id, action: 'update' },
        { orderBy: { id: 'desc' }, limit: 1 },
      )
      expect(entry!.actor).toBe('aura-studio')
      expect(entry!.changesJson).toContain('ACME-7')
      await shot('edit-saved')
    })
  })
}
