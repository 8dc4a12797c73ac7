import { describe, expect, it } from 'vitest'
import { openDatabase, SEEDED_TABLES, type AuraDatabase, type Repositories } from '../src/index.js'
import { runCli, runCliJson } from './cli-helpers.js'
import { libraryDialects as dialects } from './dialects.js'
import { useMigratedDatabase } from './helpers.js'

const REPOSITORIES: (keyof Repositories)[] = [
  'projectStates',
  'sceneStates',
  'assetStates',
  'renderCheckpoints',
  'projectVersions',
  'contentBlobs',
  'configurations',
  'templates',
  'customTemplates',
  'exportHistory',
  'userSetups',
  'systemConfiguration',
  'actionLogs',
]

/** Rows per repository, deleted ones included: what "changes nothing" is measured by. */
async function rowCounts(db: AuraDatabase): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  for (const name of REPOSITORIES) {
    counts[name] = await (db[name] as { count(where: object, options: object): Promise<number> }).count(
      {},
      { includeDeleted: true },
    )
  }
  return counts
}

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: seed data`, () => {
    const ctx = useMigratedDatabase(d)

    it('inserts the rows of the spec once; a second run changes nothing', async () => {
      const { db } = ctx
      const empty = await rowCounts(db)
      const first = await db.seed()
      expect(first.inserted).toMatchObject({
        user_setups: 1,
        project_states: 3,
        templates: 3,
        custom_templates: 2,
        export_history: 2,
      })
      expect(first.inserted.configurations).toBeGreaterThanOrEqual(25)
      expect(Object.keys(first.inserted)).toEqual([...SEEDED_TABLES])
      const afterFirst = await rowCounts(db)
      expect(afterFirst.projectStates).toBe(empty.projectStates! + 3)
      expect(afterFirst.configurations).toBe(empty.configurations! + first.inserted.configurations)

      const second = await db.seed()
      expect(second.total).toBe(0)
      expect(await rowCounts(db)).toEqual(afterFirst)
    })

    it('seeds exactly the rows behaviour.md names', async () => {
      const { db } = ctx
      await db.seed()
      const setup = await db.userSetups.firstOrDefault({ userId: 'default' })
      expect(setup).toMatchObject({ completed: false, version: '1.0.0', lastStep: 0 })

      const projects = await db.projectStates.getAll({ orderBy: { title: 'asc' } })
      const shape = projects.map((p) => [
        p.title,
        p.status,
        p.currentWizardStep,
        p.progressPercent,
        p.currentStage,
      ])
      expect(shape).toEqual([
        ['Advanced Features Demo', 'Completed', 3, 100, 'Render'],
        ['Quick Start Tutorial', 'InProgress', 2, 50, 'TTS'],
        ['Welcome to Aura - Sample Project', 'Draft', 0, 25, 'Script'],
      ])
      for (const p of projects) expect(JSON.parse(p.briefJson!)).toHaveProperty('topic')
      expect(projects[0]!.completedAt).toBeInstanceOf(Date)

      const templates = await db.templates.getAll({ orderBy: { name: 'asc' } })
      expect(templates.map((t) => [t.name, t.isSystemTemplate])).toEqual([
        ['Educational Content', true],
        ['Product Showcase', true],
        ['Social Media Quick Post', true],
      ])
      expect(templates.every((t) => t.tags.split(',').length === 3)).toBe(true)
      expect(names(await db.customTemplates.getAll({ orderBy: { name: 'asc' } }))).toEqual([
        'My Custom Educational Template',
        'Quick Social Media Template',
      ])
      const exports = await db.exportHistory.getAll({ orderBy: { presetName: 'asc' } })
      expect(exports.map((e) => [e.presetName, e.status, e.progress])).toEqual([
        ['Instagram Reel', 'Completed', 100],
        ['YouTube 1080p', 'Completed', 100],
      ])
      expect(exports.every((e) => e.completedAt! > e.startedAt!)).toBe(true)

      // Typed defaults in each category of the original application.
      for (const category of ['General', 'FileLocations', 'VideoDefaults', 'Advanced', 'System']) {
        expect((await db.configurations.getByCategory(category)).length, category).toBeGreaterThan(0)
      }
      expect(await db.configurations.getValue('General.AutosaveEnabled')).toBe(true)
      expect(await db.configurations.getValue('General.AutosaveIntervalSeconds')).toBe(300)
      expect(await db.configurations.getValue('VideoDefaults.FrameRate')).toBe(30)
      expect(await db.configurations.getValue('VideoDefaults.Resolution')).toBe('1920x1080')
      expect(await db.configurations.getValue('Advanced.EnableTelemetry')).toBe(false)
      expect(await db.configurations.getValue('System.SchemaVersion')).toBe(1)
      expect((await db.configurations.get('VideoDefaults.FrameRate'))?.valueType).toBe('number')
      expect((await db.configurations.get('General.AutosaveEnabled'))?.valueType).toBe('boolean')
      expect(await db.configurations.getValue('FileLocations.OutputDirectory')).toMatch(/AuraVideoStudio/)
    })

    it("keeps the user's changes: edited settings, deactivated keys and deleted rows stay as they are", async () => {
      const { db } = ctx
      await db.seed()
      await db.configurations.set('General.Theme', 'Light')
      await db.configurations.deactivate('Advanced.OllamaUrl')
      const welcome = await db.projectStates.firstOrDefault({ title: 'Quick Start Tutorial' })
      await db.projectStates.delete(welcome!.id)
      const before = await rowCounts(db)
      expect((await db.seed()).total).toBe(0)
      expect(await rowCounts(db)).toEqual(before)
      expect(await db.configurations.getValue('General.Theme')).toBe('Light')
      expect(await db.configurations.get('Advanced.OllamaUrl')).toBeNull()
      expect(await db.projectStates.getById(welcome!.id)).toBeNull()
    })

    it('two seeds at the same time leave one copy of each row', async () => {
      const target = await d.create()
      const first = await openDatabase({ url: target.url })
      await first.migrate()
      const second = await openDatabase({ url: target.url })
      try {
        const results = await Promise.all([first.seed(), second.seed()])
        const counts = await rowCounts(first)
        const seededRows =
          counts.userSetups! +
          counts.projectStates! +
          counts.templates! +
          counts.customTemplates! +
          counts.exportHistory! +
          counts.configurations!
        // Every row was inserted by exactly one of them.
        expect(results[0].total + results[1].total).toBe(seededRows)
        expect(counts).toMatchObject({ projectStates: 3, templates: 3, customTemplates: 2, userSetups: 1 })
        expect((await second.seed()).total).toBe(0)
      } finally {
        await first.close()
        await second.close()
        await target.drop()
      }
    })

    it('`aura-db init` seeds; `aura-db seed` is idempotent', async () => {
      const target = await d.create()
      try {
        const init = await runCliJson(['--db', target.url, 'init'])
        expect(init.code, init.stderr).toBe(0)
        expect(init.json.seed.inserted).toMatchObject({ project_states: 3, templates: 3, export_history: 2 })
        const again = await runCliJson(['--db', target.url, 'seed'])
        expect(again.code, again.stderr).toBe(0)
        expect(again.json).toMatchObject({ total: 0 })
        const human = await runCli(['--db', target.url, 'seed'])
        expect(human.code, human.stderr).toBe(0)
        expect(human.stdout).toContain('nothing inserted')
        const db = await openDatabase({ url: target.url })
        try {
          expect(await db.templates.count()).toBe(3)
          expect(names(await db.templates.search({ tags: 'tutorial' }))).toEqual(['Educational Content'])
        } finally {
          await db.close()
        }
      } finally {
        await target.drop()
      }
    })
  })
}

function names(list: readonly { name: string }[]): string[] {
  return list.map((t) => t.name)
}
