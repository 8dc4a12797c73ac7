import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { IntrospectedColumn, IntrospectedTable } from '../dialect/introspector.js'
import {
  createDialect,
  DIALECT_TITLES,
  parseDatabaseUrl,
  type DialectName,
  type SchemaSnapshot,
} from '../dialect/index.js'
import { usage } from '../errors.js'
import { discoverSets, migrationSets } from '../migration/migration-sets.js'
import { BOOKKEEPING_TABLES, Migrator } from '../migration/migrator.js'

/** Options of {@link generateSchemaDocs}. */
export interface SchemaDocsOptions {
  /**
   * A PostgreSQL server for the PostgreSQL half of the reference (`postgres://…`). Only a scratch
   * schema is created in its database, and dropped again; nothing else is read or written.
   */
  readonly postgresUrl: string
  /** The application's migrations folder, applied after the package's (as `migrationsDir` of `openDatabase`). */
  readonly migrationsDir?: string
}

/** One generated document: its file name inside the docs directory and its full text. */
export interface SchemaDocFile {
  readonly name: 'schema.md' | 'er-diagram.md'
  readonly content: string
}

/** What {@link generateSchemaDocs} produces. */
export interface SchemaDocs {
  /** The newest migration both scratch databases were migrated to (null when there are none). */
  readonly migration: string | null
  readonly files: readonly SchemaDocFile[]
}

/** The migrated schema of each dialect, the input of the renderers. */
export interface DialectSchemas {
  readonly migration: string | null
  readonly sqlite: SchemaSnapshot
  readonly postgres: SchemaSnapshot
}

/** What happened to one generated file: written (`created`, `updated`, `unchanged`) or checked (`ok`, `stale`, `missing`). */
export interface SchemaDocResult {
  /** Absolute path. */
  readonly file: string
  readonly status: 'created' | 'updated' | 'unchanged' | 'ok' | 'stale' | 'missing'
}

const DIALECTS: readonly DialectName[] = ['sqlite', 'postgres']

/**
 * Generates the schema reference (`schema.md`) and the ER diagram (`er-diagram.md`) from the
 * live schema the migrations produce, never from the table definitions in `src/schema`:
 * 1. migrates a scratch SQLite database (in memory) from empty to the newest migration;
 * 2. does the same in a scratch schema on the PostgreSQL server of `postgresUrl`, dropped after;
 * 3. introspects both and renders them side by side.
 *
 * The output depends only on the migration files and the database versions: no timestamps,
 * no scratch names, every list in a fixed order, so the committed files can be diffed.
 * PostgreSQL is required rather than skipped: a reference without its PostgreSQL column would
 * differ between machines with and without a server.
 * What `aura-db docs --postgres URL` runs, before `writeSchemaDocs` writes the result.
 */
export async function generateSchemaDocs(options: SchemaDocsOptions): Promise<SchemaDocs> {
  if (parseDatabaseUrl(options.postgresUrl).dialect !== 'postgres') {
    throw usage.docsNeedPostgres(options.postgresUrl)
  }
  const { migrationsDir } = options
  const urls: Record<DialectName, string> = { sqlite: 'sqlite::memory:', postgres: options.postgresUrl }
  const schemas: Partial<Record<DialectName, SchemaSnapshot>> = {}
  // One after the other: the scratch databases are small, and the machines running this are too.
  for (const name of DIALECTS) schemas[name] = await migratedSchema(urls[name], migrationsDir)
  const input: DialectSchemas = {
    migration: discoverSets(migrationSets(migrationsDir)).at(-1)?.name ?? null,
    sqlite: schemas.sqlite!,
    postgres: schemas.postgres!,
  }
  return {
    migration: input.migration,
    files: [
      { name: 'schema.md', content: renderSchemaReference(input) },
      { name: 'er-diagram.md', content: renderErDiagram(input) },
    ],
  }
}

/** The schema of a scratch database of the dialect of `url`, migrated from empty to the newest migration. */
async function migratedSchema(url: string, migrationsDir: string | undefined): Promise<SchemaSnapshot> {
  const server = createDialect(url)
  try {
    const scratch = await server.createScratch()
    try {
      const run = await new Migrator(scratch, migrationsDir === undefined ? {} : { migrationsDir }).migrate()
      if (run.error) throw run.error
      return await scratch.introspect()
    } finally {
      await scratch.close()
    }
  } finally {
    await server.close()
  }
}

/**
 * Writes the generated files into `dir` (created when missing), leaving a file whose content is
 * already right untouched so its modification time does not change.
 */
export function writeSchemaDocs(dir: string, docs: SchemaDocs): SchemaDocResult[] {
  const root = resolve(dir)
  mkdirSync(root, { recursive: true })
  return docs.files.map(({ name, content }) => {
    const file = join(root, name)
    const existing = existsSync(file) ? readFileSync(file, 'utf8') : null
    if (existing === content) return { file, status: 'unchanged' }
    writeFileSync(file, content)
    return { file, status: existing === null ? 'created' : 'updated' }
  })
}

/** Compares the generated files with those in `dir` without writing anything. */
export function checkSchemaDocs(dir: string, docs: SchemaDocs): SchemaDocResult[] {
  const root = resolve(dir)
  return docs.files.map(({ name, content }) => {
    const file = join(root, name)
    if (!existsSync(file)) return { file, status: 'missing' }
    return { file, status: readFileSync(file, 'utf8') === content ? 'ok' : 'stale' }
  })
}

/** A table of either dialect, or both. */
type PerDialect<T> = Partial<Record<DialectName, T>>

type TableGroup = 'domain' | 'bookkeeping' | 'single-dialect'

interface MergedTable {
  readonly name: string
  readonly group: TableGroup
  readonly tables: PerDialect<IntrospectedTable>
}

/** Every table of either snapshot, by name, with the group it is documented under. */
function mergeTables(input: DialectSchemas): MergedTable[] {
  const names = [...new Set(DIALECTS.flatMap((d) => input[d].tables.map((t) => t.name)))].sort()
  return names.map((name) => {
    const tables: PerDialect<IntrospectedTable> = {}
    for (const d of DIALECTS) {
      const table = input[d].tables.find((t) => t.name === name)
      if (table) tables[d] = table
    }
    const group: TableGroup = BOOKKEEPING_TABLES.includes(name)
      ? 'bookkeeping'
      : DIALECTS.every((d) => tables[d])
        ? 'domain'
        : 'single-dialect'
    return { name, group, tables }
  })
}

/**
 * The items `of` every dialect's table, deduplicated by `describe`: each distinct item once, with
 * the dialects that have it. Order: as in the first dialect that has the item.
 */
function mergeItems<T>(
  tables: PerDialect<IntrospectedTable>,
  of: (table: IntrospectedTable) => readonly T[],
  describe: (item: T) => string,
): { item: T; dialects: DialectName[] }[] {
  const merged = new Map<string, { item: T; dialects: DialectName[] }>()
  for (const d of DIALECTS) {
    const table = tables[d]
    for (const item of table ? of(table) : []) {
      const key = describe(item)
      const entry = merged.get(key)
      if (entry) entry.dialects.push(d)
      else merged.set(key, { item, dialects: [d] })
    }
  }
  return [...merged.values()]
}

/** `value(d)` for each dialect where it is defined. */
function perDialect<T>(value: (d: DialectName) => T | undefined): PerDialect<T> {
  const values: PerDialect<T> = {}
  for (const d of DIALECTS) {
    const v = value(d)
    if (v !== undefined) values[d] = v
  }
  return values
}

function dialectsLabel(dialects: readonly DialectName[]): string {
  return dialects.length === DIALECTS.length ? 'both' : dialects.map((d) => DIALECT_TITLES[d]).join(', ')
}

/** Text for a Markdown table cell: a literal `|` would end the cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|')
}

/** A code span that survives a backtick inside `text`. */
function code(text: string): string {
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``
}

function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ]
}

/** The one value both dialects agree on, or each dialect's own. */
function agreed(values: PerDialect<string>): string {
  const present = DIALECTS.filter((d) => values[d] !== undefined)
  if (new Set(present.map((d) => values[d])).size <= 1) return values[present[0]!] ?? ''
  return present.map((d) => `${DIALECT_TITLES[d]}: ${values[d]}`).join('; ')
}

function generatedNotice(input: DialectSchemas, what: string): string[] {
  return [
    `<!-- Generated by \`aura-db docs\`; do not edit. test/docs.test.ts fails when this file is stale. -->`,
    '',
    `${what} Generated by \`aura-db docs\` from a SQLite database and a PostgreSQL schema, each ` +
      `migrated from empty to ${input.migration ? code(input.migration) : 'no migration at all'} ` +
      `and then introspected: this is what the migrations create, not what the code expects. ` +
      `Regenerate it after adding a migration with \`npm run docs -- --postgres postgres://…\` ` +
      `(see [migrations.md](migrations.md)).`,
  ]
}

/** The sections of the schema reference: group, heading, introduction. */
const SECTIONS: readonly (readonly [TableGroup, string, string])[] = [
  ['domain', 'Domain tables', 'Created by the migrations on both databases.'],
  [
    'bookkeeping',
    'Migration engine tables',
    'Owned by the migration engine, not created by a migration: the history (name, checksum, ' +
      'when, how long) and, on SQLite, the lock row (PostgreSQL uses an advisory lock instead).',
  ],
  [
    'single-dialect',
    'Tables of one dialect only',
    'Created by a migration that branches on the dialect, e.g. the FTS5 full-text tables behind ' +
      'template search on SQLite (PostgreSQL uses an expression index instead).',
  ],
]

/**
 * The schema reference: every table with its columns (type per dialect, nullability, defaults,
 * keys), indexes, foreign keys and CHECK constraints, as the introspected databases report them.
 * Domain tables come first, then the migration engine's own tables, then tables that only one
 * dialect has (SQLite's full-text search tables).
 */
export function renderSchemaReference(input: DialectSchemas): string {
  const merged = mergeTables(input)
  // In the order of the sections below, so the overview reads like the page.
  const tables = SECTIONS.flatMap(([group]) => merged.filter((t) => t.group === group))
  const domain = tables.filter((t) => t.group === 'domain')
  const lines: string[] = [
    '# Schema reference',
    '',
    ...generatedNotice(
      input,
      `The ${domain.length} domain tables of Aura Data on SQLite and PostgreSQL, side by side.`,
    ),
    '',
    'How to read it:',
    '',
    '- **null**: whether the column accepts NULL. **Defaults** are spelled as each database reports ' +
      'them; a NOT NULL column without one must be given a value (the library fills the audit columns).',
    '- **key**: `PK` primary key; `FK → table(column)` foreign key. On SQLite an `INTEGER` primary ' +
      'key is the rowid and is assigned when omitted.',
    '- **dialects**: `both`, or the one database that has the index, foreign key or table.',
    '- Not shown, because introspection does not report them: the bodies of expression indexes ' +
      '(shown as `(expression)`) and triggers. Both are in the migration files.',
    '',
    '## Tables',
    '',
    ...markdownTable(
      ['table', 'columns', 'indexes', 'foreign keys', 'dialects'],
      tables.map((t) => {
        const present = DIALECTS.filter((d) => t.tables[d])
        const count = (of: (table: IntrospectedTable) => readonly unknown[]) =>
          agreed(perDialect((d) => (t.tables[d] ? String(of(t.tables[d]).length) : undefined)))
        return [
          `[${t.name}](#${t.name})`,
          count((x) => x.columns),
          count((x) => x.indexes),
          count((x) => x.foreignKeys),
          dialectsLabel(present),
        ]
      }),
    ),
  ]
  for (const [group, title, intro] of SECTIONS) {
    const members = tables.filter((t) => t.group === group)
    if (members.length === 0) continue
    lines.push('', `## ${title}`, '', intro)
    for (const table of members) lines.push('', ...renderTable(table))
  }
  return `${lines.join('\n')}\n`
}

function nullability(column: IntrospectedColumn | undefined): string | undefined {
  if (!column) return undefined
  return column.nullable ? 'yes' : 'no'
}

function renderTable(table: MergedTable): string[] {
  const { tables } = table
  const present = DIALECTS.filter((d) => tables[d])
  const columns = mergeItems(
    tables,
    (t) => t.columns,
    (c) => c.name,
  )
  const foreignKeys = mergeItems(
    tables,
    (t) => t.foreignKeys,
    (fk) =>
      `(${fk.columns.join(', ')}) → ${fk.referencedTable}(${fk.referencedColumns.join(', ')}) ${fk.onDelete}`,
  )
  const column = (d: DialectName, name: string): IntrospectedColumn | undefined =>
    tables[d]?.columns.find((c) => c.name === name)
  const lines = [`### ${table.name}`, '']
  if (present.length < DIALECTS.length) lines.push(`${dialectsLabel(present)} only.`, '')
  lines.push(
    ...markdownTable(
      [
        'column',
        ...present.map((d) => `${DIALECT_TITLES[d]} type`),
        'null',
        ...present.map((d) => `default (${DIALECT_TITLES[d]})`),
        'key',
      ],
      columns.map(({ item }) => {
        const keys = [
          ...(present.some((d) => column(d, item.name)?.primaryKey) ? ['PK'] : []),
          ...foreignKeys
            .filter(({ item: fk }) => fk.columns.includes(item.name))
            .map(({ item: fk }) => `FK → ${fk.referencedTable}(${fk.referencedColumns.join(', ')})`),
        ]
        return [
          item.name,
          ...present.map((d) => {
            const c = column(d, item.name)
            if (!c) return '—'
            return c.type ? code(c.type) : '(no type)'
          }),
          agreed(perDialect((d) => nullability(column(d, item.name)))),
          ...present.map((d) => {
            const value = column(d, item.name)?.defaultValue
            return value === null || value === undefined ? '' : code(value)
          }),
          keys.join(', '),
        ]
      }),
    ),
  )
  const indexes = mergeItems(
    tables,
    (t) => t.indexes,
    (ix) => `${ix.name} ${ix.unique} ${ix.columns.join()}`,
  ).sort(
    (a, b) => a.item.name.localeCompare(b.item.name) || a.dialects.join().localeCompare(b.dialects.join()),
  )
  if (indexes.length > 0) {
    lines.push(
      '',
      '**Indexes**',
      '',
      ...markdownTable(
        ['name', 'columns', 'unique', 'dialects'],
        indexes.map(({ item, dialects }) => [
          code(item.name),
          item.columns.length ? item.columns.join(', ') : '(expression)',
          item.unique ? 'yes' : 'no',
          dialectsLabel(dialects),
        ]),
      ),
    )
  }
  if (foreignKeys.length > 0) {
    lines.push(
      '',
      '**Foreign keys**',
      '',
      ...markdownTable(
        ['columns', 'references', 'on delete', 'dialects'],
        foreignKeys.map(({ item, dialects }) => [
          item.columns.join(', '),
          `${item.referencedTable}(${item.referencedColumns.join(', ')})`,
          item.onDelete,
          dialectsLabel(dialects),
        ]),
      ),
    )
  }
  // Each database spells a CHECK its own way (PostgreSQL normalises it), so they are listed per dialect.
  const checks = present.flatMap((d) => tables[d]!.checks.map((check) => [DIALECT_TITLES[d], code(check)]))
  if (checks.length > 0) {
    lines.push('', '**CHECK constraints**', '', ...markdownTable(['dialect', 'constraint'], checks))
  }
  return lines
}

/** PostgreSQL's long type names, shortened to the single words a Mermaid attribute type must be. */
const MERMAID_TYPES: readonly [RegExp, string][] = [
  [/^character varying/, 'varchar'],
  [/^timestamp with time zone$/, 'timestamptz'],
  [/^double precision$/, 'float8'],
]

function mermaidType(type: string): string {
  const short = MERMAID_TYPES.reduce((t, [pattern, alias]) => t.replace(pattern, alias), type)
  return short.replace(/\s+/g, '_')
}

/** One area of the ER diagram: a heading, what it covers, and its tables. */
interface ErArea {
  readonly title: string
  readonly intro: string
  readonly tables: readonly string[]
}

/**
 * The areas the ER diagram is split into, each small enough to read at a normal width. A domain
 * table a new migration adds and that no area names lands in "Other tables", so it is never
 * left out of the diagrams.
 */
const ER_AREAS: readonly ErArea[] = [
  {
    title: 'Projects',
    intro: 'A project and what belongs to it: its scenes, assets and render checkpoints (deleted with it).',
    tables: ['project_states', 'scene_states', 'asset_states', 'render_checkpoints'],
  },
  {
    title: 'Versions and blobs',
    intro:
      'Content-addressed history: a version holds the hashes of its parts, each part stored once ' +
      'as a blob (see [versions.md](versions.md)).',
    tables: ['project_versions', 'content_blobs'],
  },
  {
    title: 'Configuration and templates',
    intro:
      'Settings (sensitive ones encrypted), the system configuration, user setups and the ' +
      'templates (see [templates.md](templates.md)); no foreign keys between them.',
    tables: ['configurations', 'system_configuration', 'user_setups', 'templates', 'custom_templates'],
  },
  {
    title: 'Operations',
    intro:
      'What happened: export jobs ([export-history.md](export-history.md)), the undo/redo log ' +
      '([undo-redo.md](undo-redo.md)) and the audit trail. They name projects and rows by id ' +
      'without foreign keys, so that history outlives what it describes.',
    tables: ['export_history', 'action_logs', 'audit_entries'],
  },
]

/** The Markdown anchor of a heading, as GitHub and TypeDoc spell it. */
function anchor(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-')
}

/**
 * The ER diagram: Mermaid `erDiagram`s of the domain tables, their columns with PostgreSQL types
 * and keys, and one relationship per foreign key; first one diagram per area ({@link ER_AREAS}),
 * then the whole schema in one for reference. In an area's diagram, a table of another area that
 * a relationship reaches is drawn as a bare name. A parent is `||` (exactly one) when the
 * foreign-key columns are NOT NULL, `|o` otherwise; a child is `o|` when those columns are
 * unique, `o{` otherwise.
 */
export function renderErDiagram(input: DialectSchemas): string {
  const tables = mergeTables(input)
    .filter((t) => t.group === 'domain')
    .map((t) => t.tables.postgres!)
  const named = new Set(ER_AREAS.flatMap((area) => area.tables))
  const others = tables.filter((t) => !named.has(t.name)).map((t) => t.name)
  const areas: ErArea[] = [
    ...ER_AREAS,
    ...(others.length > 0
      ? [{ title: 'Other tables', intro: 'Tables that no area above names yet.', tables: others }]
      : []),
  ]
  const lines = [
    '# Entity-relationship diagram',
    '',
    ...generatedNotice(
      input,
      `The ${tables.length} domain tables and the foreign keys between them; column types are ` +
        `PostgreSQL's (SQLite's are in [schema.md](schema.md), with indexes, defaults and CHECK constraints).`,
    ),
    '',
    'One diagram per area, then the whole schema in one diagram for reference:',
    '',
    ...areas.map((area) => `- [${area.title}](#${anchor(area.title)}): ${area.tables.join(', ')}`),
    `- [The whole schema](#${anchor('The whole schema')})`,
  ]
  const byArea = areas.map((area) =>
    area.tables.map((name) => tables.find((t) => t.name === name)).filter((t) => t !== undefined),
  )
  for (const [i, area] of areas.entries()) {
    lines.push('', `## ${area.title}`, '', area.intro, '', ...mermaidDiagram(byArea[i]!, tables, 'LR'))
  }
  lines.push(
    '',
    '## The whole schema',
    '',
    'Every domain table and foreign key in one diagram (wide: open it in a Mermaid viewer to zoom).',
    '',
    // Area by area: Mermaid places tables in the order they are declared, and in alphabetical order
    // the lines between the projects' and the versions' tables ran behind unrelated tables.
    ...mermaidDiagram(byArea.flat(), tables, 'TB'),
  )
  return `${lines.join('\n')}\n`
}

/**
 * A fenced Mermaid `erDiagram` of `members` with their columns and every foreign key from or to
 * one of them; a table of `all` outside `members` that such a key reaches is a bare name.
 */
function mermaidDiagram(
  members: readonly IntrospectedTable[],
  all: readonly IntrospectedTable[],
  direction: 'TB' | 'LR',
): string[] {
  const inside = new Set(members.map((t) => t.name))
  const relationships = all.flatMap((table) =>
    table.foreignKeys
      .filter((fk) => inside.has(table.name) || inside.has(fk.referencedTable))
      .map((fk) => ({ table, fk })),
  )
  const outside = [...new Set(relationships.flatMap(({ table, fk }) => [table.name, fk.referencedTable]))]
    .filter((name) => !inside.has(name))
    .sort()
  const lines = ['```mermaid', 'erDiagram', `    direction ${direction}`]
  for (const table of members) {
    const unique = uniqueColumns(table)
    lines.push(`    ${table.name} {`)
    for (const column of table.columns) {
      const keys = [
        ...(column.primaryKey ? ['PK'] : []),
        ...(table.foreignKeys.some((fk) => fk.columns.includes(column.name)) ? ['FK'] : []),
        ...(!column.primaryKey && unique.has(column.name) ? ['UK'] : []),
      ]
      lines.push(`        ${[mermaidType(column.type), column.name, keys.join(', ')].join(' ').trimEnd()}`)
    }
    lines.push('    }')
  }
  for (const name of outside) lines.push(`    ${name}`)
  for (const { table, fk } of relationships) {
    const required = fk.columns.every((name) => !table.columns.find((c) => c.name === name)?.nullable)
    const oneChild = isUnique(table, fk.columns)
    lines.push(
      `    ${fk.referencedTable} ${required ? '||' : '|o'}--${oneChild ? 'o|' : 'o{'} ${table.name} : "${fk.columns.join(', ')}"`,
    )
  }
  lines.push('```')
  return lines
}

/** Columns that are unique on their own: a one-column primary key or unique index. */
function uniqueColumns(table: IntrospectedTable): Set<string> {
  return new Set(table.columns.map((c) => c.name).filter((name) => isUnique(table, [name])))
}

/** Whether exactly `columns` (in any order) form the primary key or a unique index. */
function isUnique(table: IntrospectedTable, columns: readonly string[]): boolean {
  const key = [...columns].sort().join()
  const primaryKey = table.columns
    .filter((c) => c.primaryKey)
    .map((c) => c.name)
    .sort()
    .join()
  return primaryKey === key || table.indexes.some((ix) => ix.unique && [...ix.columns].sort().join() === key)
}
