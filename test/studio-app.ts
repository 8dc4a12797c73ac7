import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import {
  addGeneratedMigration,
  c,
  defineTable,
  extendTable,
  NEW_UUID,
  parseRenames,
  projectStatesTable,
} from '../src/index.js'
import { discoverSets, migrationSets } from '../src/migration/migration-sets.js'
import { registerTables, schemaTables } from '../src/schema/registry.js'

const ROOT = join(import.meta.dirname, '..')

/**
 * The application's definitions the studio tests use: a column added to `project_states` and
 * a table of the application's own. The schema module the studio loads holds the same source.
 */
const SOURCE = `import { c, defineTable, extendTable, NEW_UUID, projectStatesTable } from 'aura-data'
export const tables = [
  extendTable(projectStatesTable, { columns: { clientRef: c.text(100).nullable() } }),
  defineTable({
    name: 'client_notes',
    primaryKey: 'id',
    keyGeneration: 'uuid',
    features: { audit: true, rowVersion: true, softDelete: true },
    columns: {
      id: c.uuid().withDefault(NEW_UUID),
      projectId: c.uuid().references('project_states', 'id', 'cascade'),
      body: c.text(500).notBlank(),
    },
    indexes: [['projectId']],
  }),
]
`

export const appProjectStates = extendTable(projectStatesTable, {
  columns: { clientRef: c.text(100).nullable() },
})

export const clientNotes = defineTable({
  name: 'client_notes',
  primaryKey: 'id',
  keyGeneration: 'uuid',
  features: { audit: true, rowVersion: true, softDelete: true },
  columns: {
    id: c.uuid().withDefault(NEW_UUID),
    projectId: c.uuid().references('project_states', 'id', 'cascade'),
    body: c.text(500).notBlank(),
  },
  indexes: [['projectId']],
})

/** The application of a test file: its migrations folder and its schema module. */
export interface StudioApp {
  readonly migrationsDir: string
  readonly schemaModule: string
  readonly tables: readonly [typeof appProjectStates, typeof clientNotes]
}

/**
 * An application folder for one test file, made before its tests and removed after them: its
 * `aura-data` is this checkout (the built package), its migration is the one `aura-db add`
 * generates from {@link appProjectStates} and {@link clientNotes}.
 */
export function useStudioApp(): StudioApp {
  let dir = ''
  const tables = [appProjectStates, clientNotes] as const
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aura-studio-app-'))
    mkdirSync(join(dir, 'node_modules'))
    symlinkSync(ROOT, join(dir, 'node_modules', 'aura-data'), 'dir')
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', type: 'module', private: true }))
    writeFileSync(join(dir, 'schema.mjs'), SOURCE)
    mkdirSync(join(dir, 'migrations'))
    const [packageSet] = migrationSets(join(dir, 'migrations'))
    await addGeneratedMigration(join(dir, 'migrations'), 'AddClientNotes', parseRenames([]), {
      before: discoverSets([packageSet!]),
      tables: schemaTables(registerTables([...tables])),
    })
  })
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true })
  })
  return {
    get migrationsDir() {
      return join(dir, 'migrations')
    },
    get schemaModule() {
      return join(dir, 'schema.mjs')
    },
    tables,
  }
}
