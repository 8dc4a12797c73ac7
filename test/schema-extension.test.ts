/**
 * An application's own columns and tables (docs/migrations.md, "Your application's own
 * migrations and columns"): declared with extendTable/defineTable, their migration generated
 * into the application's folder, then read, written, validated, filtered and audited through
 * the repositories like the built-in ones.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  addGeneratedMigration,
  c,
  checkSchema,
  ConcurrencyError,
  NotFoundError,
  defineTable,
  extendTable,
  NEW_UUID,
  openDatabase,
  parseRenames,
  projectStatesTable,
  sceneStatesTable,
  SoftDeleteRepository,
  UsageError,
  ValidationError,
  type AuraDatabase,
  type TableDef,
} from '../src/index.js'
import { discoverSets, migrationSets } from '../src/migration/migration-sets.js'
import { registerTables, schemaTables } from '../src/schema/registry.js'
import { expectOneLineError, runCli } from './cli-helpers.js'
import { libraryDialects as dialects } from './dialects.js'

const ROOT = join(import.meta.dirname, '..')

const projectStates = extendTable(projectStatesTable, {
  columns: {
    clientRef: c.text(100).nullable(),
    priority: c.int().range(1, 5).withDefault(3),
  },
  indexes: [['clientRef']],
})

const clientNotes = defineTable({
  name: 'client_notes',
  primaryKey: 'id',
  keyGeneration: 'uuid',
  features: { audit: true, rowVersion: true, softDelete: true },
  columns: {
    id: c.uuid().withDefault(NEW_UUID),
    projectId: c.uuid().references('project_states', 'id', 'cascade'),
    body: c.text(500).notBlank(),
    kind: c.text(20).oneOf(['call', 'mail']).withDefault('call'),
  },
  indexes: [['projectId']],
})

const TABLES = [projectStates, clientNotes] as const

/**
 * `db.projectStates` typed with the extension, as an application sees it once it declares the
 * extension in `AuraTableExtensions` (which this repository cannot do without changing the
 * library's own types; the last test compiles such an application).
 */
const extended = (db: { projectStates: unknown }) =>
  db.projectStates as SoftDeleteRepository<typeof projectStates>

/** The application's migrations folder, with the migration `add` generates from the definitions. */
let appMigrations: string
/** What `add` reported it generated. */
let changes: readonly string[]

beforeAll(async () => {
  appMigrations = mkdtempSync(join(tmpdir(), 'aura-app-migrations-'))
  const [packageSet] = migrationSets(appMigrations)
  ;({ changes } = await addGeneratedMigration(appMigrations, 'AddClientRef', parseRenames([]), {
    before: discoverSets([packageSet!]),
    tables: schemaTables(registerTables([...TABLES])),
  }))
})

afterAll(() => {
  if (appMigrations) rmSync(appMigrations, { recursive: true, force: true })
})

describe('the generated migration of the application', () => {
  it('holds only the difference: the new column, its index and the new table', async () => {
    const sets = discoverSets(migrationSets(appMigrations))
    const own = sets.filter((file) => file.set === 'app')
    expect(own.map((file) => file.name)).toEqual([expect.stringMatching(/^\d{14}_AddClientRef$/)])
    expect(changes).toEqual([
      'add column project_states.client_ref',
      'add column project_states.priority',
      'add check ck_project_states_priority',
      'create index ix_project_states_client_ref',
      'create table client_notes',
    ])
    expect(readFileSync(own[0]!.path, 'utf8')).toContain('add column project_states.client_ref')
    // Both sets with the definitions: `check` is clean; without the extension it names it.
    const tables = schemaTables(registerTables([...TABLES]))
    expect((await checkSchema(sets, tables)).differences).toEqual([])
    const bare = await checkSchema(sets)
    expect(bare.differences.map((d) => d.subject)).toEqual(
      expect.arrayContaining(['project_states.client_ref', 'project_states.priority']),
    )
  })
})

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: an application's columns and tables`, () => {
    let db: AuraDatabase
    let drop: () => Promise<void>
    let url: string

    beforeAll(async () => {
      const target = await d.create()
      drop = () => target.drop()
      url = target.url
      db = await openDatabase({ url, actor: 'tester', migrationsDir: appMigrations, tables: [...TABLES] })
      await db.migrate()
    })
    afterAll(async () => {
      await db?.close()
      await drop?.()
    })

    it('adds, reads, updates, filters and orders by the new fields', async () => {
      const a = await extended(db).add({ title: 'Alpha', clientRef: 'ACME-2' })
      const b = await extended(db).add({ title: 'Beta', clientRef: 'ACME-1', priority: 5 })
      await extended(db).add({ title: 'Gamma' })
      expect([a.clientRef, a.priority, b.priority]).toEqual(['ACME-2', 3, 5])
      expect((await extended(db).getById(b.id))?.clientRef).toBe('ACME-1')

      const found = await extended(db).find(
        { clientRef: { startsWith: 'ACME' } },
        { orderBy: { clientRef: 'asc' } },
      )
      expect(found.map((p) => p.title)).toEqual(['Beta', 'Alpha'])
      expect(await extended(db).count({ clientRef: null })).toBe(1)
      expect(await extended(db).count({ priority: { gte: 4 } })).toBe(1)

      const updated = await extended(db).update({
        id: a.id,
        rowVersion: a.rowVersion,
        clientRef: 'ACME-9',
      })
      expect([updated.clientRef, updated.rowVersion]).toEqual(['ACME-9', a.rowVersion + 1])
      // The specialised operations keep the new fields (a duplicate copies none of them but reads them).
      const details = (await db.projectStates.getWithDetails(a.id)) as { clientRef?: unknown } | null
      expect(details?.clientRef).toBe('ACME-9')
    })

    it('validates the new fields before any SQL: nothing is written', async () => {
      const before = await extended(db).count()
      await expect(extended(db).add({ title: 'Long', clientRef: 'x'.repeat(101) })).rejects.toMatchObject({
        constructor: ValidationError,
        field: 'clientRef',
      })
      await expect(extended(db).add({ title: 'Urgent', priority: 9 })).rejects.toBeInstanceOf(ValidationError)
      await expect(
        extended(db).add({ title: 'Typed', clientRef: 42 as unknown as string }),
      ).rejects.toBeInstanceOf(ValidationError)
      await expect(extended(db).find({ clientReference: 'x' } as never)).rejects.toBeInstanceOf(
        ValidationError,
      )
      expect(await extended(db).count()).toBe(before)
    })

    it('records the new fields in the audit trail like the built-in ones', async () => {
      const p = await extended(db).add({ title: 'Audited', clientRef: 'OLD' })
      await extended(db).update({
        id: p.id,
        rowVersion: p.rowVersion,
        clientRef: 'NEW',
        title: 'Audited 2',
      })
      const history = await db.auditEntries.history('project_states', p.id)
      expect(history.map((e) => e.action)).toEqual(['insert', 'update'])
      expect(JSON.parse(history[1]!.changesJson!)).toEqual({
        clientRef: ['OLD', 'NEW'],
        title: ['Audited', 'Audited 2'],
      })
    })

    it('undoes and redoes a tracked edit of a new field like one of a built-in field', async () => {
      const p = await extended(db).add({ title: 'Undoable', clientRef: 'A' })
      await db.transaction(async (uow) => {
        uow.trackActions({ projectId: p.id, userId: 'alice' })
        await extended(uow).update({ id: p.id, rowVersion: p.rowVersion, clientRef: 'B' })
      })
      await db.actionLogs.undo(p.id, 'alice')
      expect((await extended(db).getById(p.id))?.clientRef).toBe('A')
      await db.actionLogs.redo(p.id, 'alice')
      expect((await extended(db).getById(p.id))?.clientRef).toBe('B')
    })

    it('serves the same definitions in a unit of work, all or nothing', async () => {
      await expect(
        db.transaction(async (uow) => {
          const p = await extended(uow).add({ title: 'In a unit', clientRef: 'UOW' })
          await uow.table(clientNotes).add({ projectId: p.id, body: 'first call' })
          throw new Error('changed my mind')
        }),
      ).rejects.toThrow('changed my mind')
      expect(await extended(db).count({ clientRef: 'UOW' })).toBe(0)

      const note = await db.transaction(async (uow) => {
        const p = await extended(uow).add({ title: 'In a unit', clientRef: 'UOW' })
        return uow.table(clientNotes).add({ projectId: p.id, body: 'first call', kind: 'mail' })
      })
      expect(await extended(db).count({ clientRef: 'UOW' })).toBe(1)
      expect((await db.table(clientNotes).getById(note.id))?.kind).toBe('mail')
    })

    it("gives the application's own table the generic repository: CRUD, validation, versions, soft delete, audit", async () => {
      const notes = db.table(clientNotes)
      expect(db.table(clientNotes)).toBe(notes)
      const p = await extended(db).add({ title: 'With notes' })
      const note = await notes.add({ projectId: p.id, body: 'call back' })
      expect([note.kind, note.rowVersion, note.createdBy, note.isDeleted]).toEqual([
        'call',
        1,
        'tester',
        false,
      ])

      await expect(notes.add({ projectId: p.id, body: '   ' })).rejects.toBeInstanceOf(ValidationError)
      await expect(notes.add({ projectId: p.id, body: 'x', kind: 'fax' as 'call' })).rejects.toBeInstanceOf(
        ValidationError,
      )

      const edited = await notes.update({ id: note.id, rowVersion: note.rowVersion, body: 'called back' })
      await expect(
        notes.update({ id: note.id, rowVersion: note.rowVersion, body: 'stale' }),
      ).rejects.toBeInstanceOf(ConcurrencyError)
      expect(
        (await notes.find({ projectId: p.id }, { orderBy: { createdAt: 'asc' } })).map((n) => n.body),
      ).toEqual(['called back'])

      await notes.delete(edited)
      expect(await notes.count({ projectId: p.id })).toBe(0)
      expect(await notes.count({ projectId: p.id }, { includeDeleted: true })).toBe(1)
      await notes.restore(note.id)
      expect(await notes.count({ projectId: p.id })).toBe(1)
      const history = await db.auditEntries.history('client_notes', note.id)
      expect(history.map((e) => e.action)).toEqual(['insert', 'update', 'soft_delete', 'restore'])
      await notes.purge(note.id)
      expect(await notes.getById(note.id, { includeDeleted: true })).toBeNull()
    })

    it("treats an application table whose rows belong to a project (cascade) as the project's children", async () => {
      const notes = db.table(clientNotes)
      const p = await extended(db).add({ title: 'Owner' })
      const note = await notes.add({ projectId: p.id, body: 'kept with the project' })
      await extended(db).delete(p.id)
      // Invisible while the project is soft-deleted, and nothing can be added to it.
      expect(await notes.getById(note.id)).toBeNull()
      expect(await notes.count({ projectId: p.id })).toBe(0)
      await expect(notes.add({ projectId: p.id, body: 'too late' })).rejects.toBeInstanceOf(NotFoundError)
      await expect(
        notes.addRange([
          { projectId: p.id, body: 'one' },
          { projectId: p.id, body: 'two' },
        ]),
      ).rejects.toBeInstanceOf(NotFoundError)
      await extended(db).restore(p.id)
      expect((await notes.getById(note.id))?.body).toBe('kept with the project')
      // Purging the project erases the note's audit history with it.
      expect(await db.auditEntries.history('client_notes', note.id)).not.toEqual([])
      await extended(db).purge(p.id)
      expect(await notes.getById(note.id, { includeDeleted: true })).toBeNull()
      expect(await db.auditEntries.history('client_notes', note.id)).toEqual([])
    })

    it('refuses a table that is not registered, and a built-in one, through db.table', () => {
      const other = defineTable({
        name: 'other_notes',
        primaryKey: 'id',
        keyGeneration: 'uuid',
        features: { audit: false, rowVersion: false, softDelete: false },
        columns: { id: c.uuid().withDefault(NEW_UUID) },
      })
      expect(() => db.table(other)).toThrow(/other_notes is not registered/)
      expect(() => db.table(projectStatesTable)).toThrow(
        /built-in table: use its own repository \(db\.projectStates\)/,
      )
    })

    it('without the registration, the same database refuses the new field', async () => {
      const plain = await openDatabase({ url, migrationsDir: appMigrations })
      try {
        await expect(plain.projectStates.add({ title: 'Plain', clientRef: 'X' } as never)).rejects.toThrow(
          /clientRef.*is not a field of this table/,
        )
      } finally {
        await plain.close()
      }
    })
  })
}

describe('defining an extension', () => {
  it('refuses a name the base has, as a field or as a physical column', () => {
    expect(() => extendTable(projectStatesTable, { columns: { title: c.text().nullable() } })).toThrow(
      /already has the field title/,
    )
    expect(() => extendTable(projectStatesTable, { columns: { job_id: c.text().nullable() } })).toThrow(
      /jobId and job_id are both stored in the column job_id/,
    )
    expect(() => extendTable(projectStates, { columns: { client_ref: c.text().nullable() } })).toThrow(
      UsageError,
    )
  })

  it('refuses a required column without a default, saying why, and library-managed ones', () => {
    expect(() => extendTable(projectStatesTable, { columns: { clientRef: c.text(100) } })).toThrow(
      /project_states.clientRef must be nullable or have a default: the table already has rows/,
    )
    expect(() => extendTable(projectStatesTable, { columns: { stamp: c.timestamp().managed() } })).toThrow(
      /library-managed/,
    )
    expect(() =>
      extendTable(projectStatesTable, { columns: { x: c.int().nullable() }, indexes: [['nope' as 'x']] }),
    ).toThrow(/names nope, which is not a column/)
  })

  it('refuses an index name the table has, and a CHECK name it has', () => {
    expect(() =>
      extendTable(projectStatesTable, { columns: { x: c.int().nullable() }, indexes: [['status']] }),
    ).toThrow(/project_states already has the index ix_project_states_status/)
    expect(() =>
      extendTable(projectStatesTable, { columns: { x: c.int().nullable() }, indexes: [['x'], ['x']] }),
    ).toThrow(/project_states already has the index ix_project_states_x/)
    const checked = extendTable(projectStatesTable, {
      columns: { x: c.int().nullable() },
      checks: { x_positive: 'x > 0' },
    })
    expect(() =>
      extendTable(checked, { columns: { y: c.int().nullable() }, checks: { x_positive: 'y > 0' } }),
    ).toThrow(/project_states already has the CHECK x_positive/)
    // A column's own rules are CHECKs named ck_<table>_<column>: a table CHECK may not take that name.
    expect(() =>
      extendTable(projectStatesTable, {
        columns: { x: c.int().range(1, 5).nullable() },
        checks: { x: 'x < 4' },
      }),
    ).toThrow(/the CHECK x would be named ck_project_states_x, like the CHECKs of the column x/)
    expect(() =>
      defineTable({
        name: 'rated_things',
        primaryKey: 'id',
        keyGeneration: 'uuid',
        features: { audit: false, rowVersion: false, softDelete: false },
        columns: { id: c.uuid().withDefault(NEW_UUID), stars: c.int().range(1, 5) },
        checks: { stars: 'stars <> 3' },
      }),
    ).toThrow(/rated_things: the CHECK stars would be named ck_rated_things_stars/)
  })

  it('keeps the name, key and features, and adds after the base columns', () => {
    expect(projectStates.name).toBe('project_states')
    expect(projectStates.features).toEqual(projectStatesTable.features)
    expect(projectStates.fields).toEqual([...projectStatesTable.fields, 'clientRef', 'priority'])
    expect(projectStates.columns.clientRef).toMatchObject({
      column: 'client_ref',
      maxLength: 100,
      nullable: true,
    })
    expect(projectStates.indexes.at(-1)).toEqual({
      name: 'ix_project_states_client_ref',
      columns: ['client_ref'],
      unique: false,
      live: false,
    })
    expect(Object.keys(projectStates)).not.toContain('extends')
  })
})

describe('registering definitions with openDatabase', () => {
  const refused = async (tables: readonly TableDef[], message: RegExp) => {
    const dir = mkdtempSync(join(tmpdir(), 'aura-register-'))
    try {
      const file = join(dir, 'never.db')
      await expect(openDatabase({ url: `sqlite:${file}`, tables })).rejects.toThrow(message)
      // Refused before anything was opened: no file was created.
      expect(existsSync(file)).toBe(false)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }

  it('refuses a look-alike of a built-in table, and an extension of another definition of that name', async () => {
    const lookAlike = defineTable({
      name: 'project_states',
      primaryKey: 'id',
      keyGeneration: 'uuid',
      features: { audit: true, rowVersion: true, softDelete: true },
      columns: { id: c.uuid().withDefault(NEW_UUID), title: c.text() },
    })
    await refused(
      [lookAlike],
      /project_states is a built-in table; register an extension of its definition \(extendTable\(projectStatesTable/,
    )
    const extendedLookAlike = extendTable(lookAlike, { columns: { clientRef: c.text(100).nullable() } })
    await refused([extendedLookAlike], /project_states is a built-in table/)
  })

  it('refuses two definitions of one table, something that is no definition, and the history table', async () => {
    const second = extendTable(projectStatesTable, { columns: { other: c.text().nullable() } })
    await refused([projectStates, second], /project_states is registered twice/)
    await refused([{ name: 'x' } as unknown as TableDef], /tables\[0\] is not a table definition/)
    const history = defineTable({
      name: 'aura_migrations',
      primaryKey: 'name',
      keyGeneration: 'none',
      features: { audit: false, rowVersion: false, softDelete: false },
      columns: { name: c.text() },
    })
    await refused([history], /migration history's table/)
  })

  it('accepts an extension of an extension of the built-in table', () => {
    const twice = extendTable(projectStates, { columns: { region: c.text(20).nullable() } })
    expect([...registerTables([twice, sceneStatesTable]).keys()]).toEqual(['project_states', 'scene_states'])
  })
})

describe("aura-db with the application's schema module", () => {
  /**
   * An application folder whose `aura-data` is this checkout (its built package). The module
   * imports the package's entry point while the CLI is a bundle with its own copy of the
   * library: the extension must be recognised across the two copies.
   */
  let app: string

  beforeAll(() => {
    app = mkdtempSync(join(tmpdir(), 'aura-schema-module-'))
    mkdirSync(join(app, 'node_modules'))
    symlinkSync(ROOT, join(app, 'node_modules', 'aura-data'), 'dir')
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', type: 'module', private: true }))
    const source = `import { c, defineTable, extendTable, NEW_UUID, projectStatesTable } from 'aura-data'
export const tables = [
  extendTable(projectStatesTable, {
    columns: { clientRef: c.text(100).nullable(), priority: c.int().range(1, 5).withDefault(3) },
    indexes: [['clientRef']],
  }),
  defineTable({
    name: 'client_notes',
    primaryKey: 'id',
    keyGeneration: 'uuid',
    features: { audit: true, rowVersion: true, softDelete: true },
    columns: {
      id: c.uuid().withDefault(NEW_UUID),
      projectId: c.uuid().references('project_states', 'id', 'cascade'),
      body: c.text(500).notBlank(),
      kind: c.text(20).oneOf(['call', 'mail']).withDefault('call'),
    },
    indexes: [['projectId']],
  }),
]
`
    writeFileSync(join(app, 'schema.mjs'), source)
    // The same module as TypeScript, loaded through tsx.
    writeFileSync(
      join(app, 'schema.ts'),
      source.replace('export const tables =', 'export const tables: unknown[] ='),
    )
    writeFileSync(join(app, 'no-tables.mjs'), 'export const definitions = []\n')
  })
  afterAll(() => {
    if (app) rmSync(app, { recursive: true, force: true })
  })

  const check = (args: readonly string[], env: Record<string, string> = {}) =>
    runCli(['--migrations-dir', appMigrations, ...args, 'check'], env, { cwd: app })

  it('check compares the definitions of --schema, AURA_SCHEMA or the config file (.js or .ts) with both sets', async () => {
    expect((await check(['--schema', 'schema.mjs'])).code).toBe(0)
    expect((await check([], { AURA_SCHEMA: join(app, 'schema.ts') })).code).toBe(0)
    writeFileSync(join(app, 'aura.config.json'), JSON.stringify({ schema: 'schema.mjs' }))
    try {
      expect((await check([])).code).toBe(0)
    } finally {
      rmSync(join(app, 'aura.config.json'))
    }
    // Without the definitions, the application's migration is ahead of them.
    const bare = await check([])
    expect(bare.code).toBe(3)
    expect(bare.stdout).toContain('project_states.client_ref')
  })

  it('refuses a missing module and one without `tables`, in one line', async () => {
    const missing = await check(['--schema', 'nowhere.mjs'])
    expect(missing.code).toBe(2)
    expect(expectOneLineError(missing.stderr)[0]).toMatch(/The schema module .*nowhere\.mjs does not exist/)
    const empty = await check(['--schema', 'no-tables.mjs'])
    expect(empty.code).toBe(2)
    expect(expectOneLineError(empty.stderr)[0]).toMatch(/must export `tables`/)
  })
})

describe('the types of an application that declares its extension (module augmentation)', () => {
  it('type-checks add, getById, find and db.table with the new fields, and refuses wrong ones', async () => {
    const app = mkdtempSync(join(tmpdir(), 'aura-types-'))
    try {
      mkdirSync(join(app, 'node_modules'))
      // The package as an application resolves it: its package.json `exports`, its built declarations.
      symlinkSync(ROOT, join(app, 'node_modules', 'aura-data'), 'dir')
      writeFileSync(
        join(app, 'package.json'),
        JSON.stringify({ name: 'typed-app', type: 'module', private: true }),
      )
      writeFileSync(
        join(app, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'es2022',
            module: 'nodenext',
            moduleResolution: 'nodenext',
            strict: true,
            noEmit: true,
            skipLibCheck: true,
            types: [],
          },
          files: ['app.ts'],
        }),
      )
      writeFileSync(join(app, 'app.ts'), TYPED_APP)
      const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
      const result = await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.json'], {
        cwd: app,
      }).then(
        ({ stdout }) => ({ status: 0, output: stdout }),
        (error: { stdout: string; code: number }) => ({ status: error.code, output: error.stdout }),
      )
      expect(result).toEqual({ status: 0, output: '' })
    } finally {
      rmSync(app, { recursive: true, force: true })
    }
  })
})

/**
 * An application's source: each `@ts-expect-error` must be an error (an unused one is itself
 * an error), every other line must compile.
 */
const TYPED_APP = `
import {
  c, defineTable, extendTable, NEW_UUID, openDatabase, projectStatesTable,
  type NewProjectState, type ProjectState, type SceneState,
} from 'aura-data'

export const projectStates = extendTable(projectStatesTable, {
  columns: { clientRef: c.text(100).nullable() },
  indexes: [['clientRef']],
})
export const clientNotes = defineTable({
  name: 'client_notes',
  primaryKey: 'id',
  keyGeneration: 'uuid',
  features: { audit: true, rowVersion: true, softDelete: true },
  columns: { id: c.uuid().withDefault(NEW_UUID), body: c.text(500) },
})

declare module 'aura-data' {
  interface AuraTableExtensions {
    project_states: typeof projectStates
  }
}

const db = await openDatabase({ tables: [projectStates, clientNotes] })
const added = await db.projectStates.add({ title: 'A', clientRef: 'ACME-1' })
const ref: string | null = added.clientRef
const read = await db.projectStates.getById(added.id)
const again: string | null | undefined = read?.clientRef
const state: ProjectState = added
const insert: NewProjectState = { title: 'B', clientRef: null }
await db.projectStates.find({ clientRef: 'ACME-1' }, { orderBy: { clientRef: 'asc' } })
await db.projectStates.update({ id: added.id, rowVersion: added.rowVersion, clientRef: null })
const details = await db.projectStates.getWithDetails(added.id)
const detailRef: string | null | undefined = details?.clientRef
// @ts-expect-error clientRef is text
await db.projectStates.add({ title: 'B', clientRef: 42 })
// @ts-expect-error no such field
await db.projectStates.add({ title: 'B', clientReference: 'x' })
// @ts-expect-error only project_states was extended
const scene: SceneState['clientRef'] = null
const notes = db.table(clientNotes)
const note = await notes.add({ body: 'hello' })
await notes.restore(note.id)
const body: string = note.body
// @ts-expect-error body is required
await notes.add({})
await db.transaction(async (uow) => {
  await uow.projectStates.add({ title: 'C', clientRef: 'X' })
  await uow.table(clientNotes).add({ body: 'in a unit' })
})
console.log(ref, again, state, insert, detailRef, scene, body)
`
