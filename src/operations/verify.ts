import { sql } from 'kysely'
import type { AuraDatabase } from '../database.js'
import type { IntrospectedTable, SchemaSnapshot } from '../dialect/introspector.js'
import { contentHash } from '../domain/content-hash.js'
import { BOOKKEEPING_TABLES, Migrator, type MigrationStatus } from '../migration/migrator.js'
import { VERSION_HASH_COLUMNS } from '../schema/project-versions.js'
import { checkSchema } from './schema-check.js'

/** One line of a verification report. */
export interface VerifyCheck {
  readonly name: string
  readonly ok: boolean
  /** What was found: a count when fine, the differences or failures otherwise. */
  readonly detail: string
}

/** What `aura-db verify` prints (`--json`: exactly this). */
export interface VerifyReport {
  /** True when every check passed. */
  readonly ok: boolean
  readonly checks: readonly VerifyCheck[]
}

/** At most this many differences are spelled out in a check's detail. */
const MAX_DIFFERENCES = 10

/**
 * Verifies a database against its migrations (`aura-db verify`):
 * 1. `migration checksums`: every applied migration's file is present and unchanged;
 * 2. `pending migrations`: none are pending;
 * 3. `schema matches migrations`: the live tables, columns, indexes, foreign keys and CHECKs
 *    equal those of a scratch database of the same dialect migrated to the same migration.
 * 4. `definitions match migrations`: the table definitions (src/schema) describe the schema the
 *    migration files produce (`aura-db check`);
 * 5. the database's own integrity checks (SQLite: `integrity_check`, `foreign_key_check`;
 *    PostgreSQL: every foreign key re-checked);
 * 6. `content blob hashes`: every `content_blobs` row's content hashes to its key;
 * 7. `content blob reference counts`: every blob's count is its live version references.
 *
 * @example
 * const report = await verifyDatabase(db)
 * if (!report.ok) console.error(report.checks.filter((c) => !c.ok))
 */
export async function verifyDatabase(db: AuraDatabase): Promise<VerifyReport> {
  db.assertOpen()
  const status = await db.migrator.status()
  const checks = [
    checksumCheck(status),
    pendingCheck(status),
    await schemaCheck(db, status),
    await definitionsCheck(db),
    ...(await db.dialect.checkIntegrity()),
    await blobHashCheck(db),
    await blobReferenceCheck(db),
  ]
  return { ok: checks.every((check) => check.ok), checks }
}

function checksumCheck(status: MigrationStatus): VerifyCheck {
  const name = 'migration checksums'
  if (status.drift.length === 0) {
    const perSet =
      status.sets.length > 1 ? ` (${status.sets.map((s) => `${s.name}: ${s.applied}`).join(', ')})` : ''
    return {
      name,
      ok: true,
      detail: `${status.applied.length} applied migration(s) match their files${perSet}`,
    }
  }
  const problems = status.drift.map((d) =>
    d.problem === 'missing'
      ? `${d.name} (${d.set}): file missing (recorded ${d.expected})`
      : `${d.name}.ts (${d.set}): changed (recorded ${d.expected}, file now ${d.actual})`,
  )
  return { name, ok: false, detail: problems.join('; ') }
}

async function definitionsCheck(db: AuraDatabase): Promise<VerifyCheck> {
  const name = 'definitions match migrations'
  // Compared on the database's own dialect: on PostgreSQL in scratch schemas, as the replay check's.
  const report = await checkSchema(db.migrator.files(), db.schemaTables(), { on: db.dialect })
  if (report.ok)
    return {
      name,
      ok: true,
      detail: `the definitions describe the schema of ${report.migrations} migration(s)`,
    }
  const shown = report.differences.slice(0, MAX_DIFFERENCES).map((d) => `${d.subject}: ${d.problem}`)
  const more = report.differences.length - shown.length
  return { name, ok: false, detail: shown.join('; ') + (more > 0 ? `; and ${more} more` : '') }
}

/** The pending migrations; set by set when the application has its own (`aura-data: …; app: …`). */
function pendingCheck(status: MigrationStatus): VerifyCheck {
  const name = 'pending migrations'
  if (status.pending.length === 0) return { name, ok: true, detail: 'none' }
  const listed =
    status.sets.length > 1
      ? status.sets
          .filter((s) => s.pending.length > 0)
          .map((s) => `${s.name}: ${s.pending.join(', ')}`)
          .join('; ')
      : status.pending.join(', ')
  return { name, ok: false, detail: `${status.pending.length} pending: ${listed}` }
}

/**
 * The applied migrations' names in the order they were applied, cut into the runs that one
 * `migrate({ only })` replays in that order (it applies in the engine's order: set, then name).
 * `applied` is in the engine's order, which is also the order within one `migrate`, so a stable
 * sort by time keeps it for equal timestamps. Usually one run; two after a package upgrade
 * applied a migration that sorts before the application's newest.
 */
function applyBatches(applied: MigrationStatus['applied']): string[][] {
  const position = new Map(applied.map((m, i) => [m.name, i]))
  const inApplyOrder = [...applied].sort((a, b) => a.appliedAt.getTime() - b.appliedAt.getTime())
  const batches: string[][] = []
  let last = Infinity
  for (const { name } of inApplyOrder) {
    const at = position.get(name)!
    if (at < last) batches.push([])
    batches.at(-1)!.push(name)
    last = at
  }
  return batches
}

async function schemaCheck(db: AuraDatabase, status: MigrationStatus): Promise<VerifyCheck> {
  const name = 'schema matches migrations'
  const actual = withoutBookkeeping(await db.dialect.introspect())
  let expected: SchemaSnapshot
  if (status.current === null) expected = { tables: [] }
  else if (status.drift.some((d) => d.problem === 'missing')) {
    const missing = status.drift.filter((d) => d.problem === 'missing').map((d) => d.name)
    return { name, ok: false, detail: `cannot compute the expected schema: ${missing.join(', ')} missing` }
  } else {
    const scratch = await db.dialect.createScratch()
    try {
      // Exactly the applied migrations of every set (`to: current` would also apply a pending
      // package migration that sorts before the application's newest), in the order they were
      // applied: a package migration applied after the application's adds its columns after
      // the application's, and the scratch tables must have the live column order.
      const migrator = new Migrator(scratch, { migrationsDir: db.migrator.migrationsDir })
      for (const batch of applyBatches(status.applied)) {
        const run = await migrator.migrate({ only: batch })
        if (run.error) {
          return { name, ok: false, detail: `cannot compute the expected schema: ${run.error.message}` }
        }
      }
      expected = withoutBookkeeping(await scratch.introspect())
    } finally {
      await scratch.close()
    }
  }
  const differences = diffSchemas(expected, actual)
  if (differences.length === 0) {
    return {
      name,
      ok: true,
      // Virtual tables (SQLite FTS5) and their shadow tables are the search index, not tables.
      detail: `${actual.tables.filter((t) => !t.role).length} tables as migrated up to ${status.current ?? '(none)'}`,
    }
  }
  const shown = differences.slice(0, MAX_DIFFERENCES)
  const more = differences.length - shown.length
  return { name, ok: false, detail: shown.join('; ') + (more > 0 ? `; and ${more} more` : '') }
}

/** The snapshot without the engine's own tables, which no migration produces. */
export function withoutBookkeeping(snapshot: SchemaSnapshot): SchemaSnapshot {
  return { tables: snapshot.tables.filter((t) => !BOOKKEEPING_TABLES.includes(t.name)) }
}

/**
 * The differences between two schema snapshots, one readable line each (`table.column: …`);
 * empty when they are identical.
 */
export function diffSchemas(expected: SchemaSnapshot, actual: SchemaSnapshot): string[] {
  const differences: string[] = []
  const actualByName = new Map(actual.tables.map((t) => [t.name, t]))
  const expectedNames = new Set(expected.tables.map((t) => t.name))
  for (const table of expected.tables) {
    const live = actualByName.get(table.name)
    if (live) differences.push(...diffTables(table, live))
    else differences.push(`table ${table.name} is missing`)
  }
  for (const table of actual.tables) {
    if (!expectedNames.has(table.name))
      differences.push(`table ${table.name} is not created by the migrations`)
  }
  return differences
}

function diffTables(expected: IntrospectedTable, actual: IntrospectedTable): string[] {
  const t = expected.name
  return [
    ...diffNamed(
      t,
      'column',
      expected.columns,
      actual.columns,
      (c) => c.name,
      (c) =>
        `${c.type}${c.nullable ? '' : ' not null'}${c.primaryKey ? ' primary key' : ''} default ${c.defaultValue}`,
    ),
    ...diffNamed(
      t,
      'index',
      expected.indexes,
      actual.indexes,
      (ix) => ix.name,
      (ix) => `${ix.unique ? 'unique ' : ''}(${ix.columns.join(', ')})`,
    ),
    ...diffNamed(
      t,
      'foreign key',
      expected.foreignKeys,
      actual.foreignKeys,
      (fk) => `(${fk.columns.join(', ')})`,
      (fk) => `→ ${fk.referencedTable}(${fk.referencedColumns.join(', ')}) on delete ${fk.onDelete}`,
    ),
    ...diffNamed(
      t,
      'check',
      expected.checks,
      actual.checks,
      (check) => check,
      () => '',
    ),
    ...(sameOrder(
      expected.columns.map((c) => c.name),
      actual.columns.map((c) => c.name),
    )
      ? []
      : [`${t}: columns are in a different order`]),
  ]
}

/** False only when both hold the same names in a different order (other differences are reported by name). */
function sameOrder(expected: readonly string[], actual: readonly string[]): boolean {
  if (expected.join() === actual.join()) return true
  return [...expected].sort().join() !== [...actual].sort().join()
}

function diffNamed<T>(
  table: string,
  kind: string,
  expected: readonly T[],
  actual: readonly T[],
  key: (item: T) => string,
  describe: (item: T) => string,
): string[] {
  const differences: string[] = []
  const actualByKey = new Map(actual.map((item) => [key(item), item]))
  const expectedKeys = new Set(expected.map(key))
  for (const item of expected) {
    const live = actualByKey.get(key(item))
    if (!live) differences.push(`${table}: ${kind} ${key(item)} is missing`)
    else if (describe(live) !== describe(item)) {
      differences.push(`${table}: ${kind} ${key(item)} is ${describe(live)}, expected ${describe(item)}`)
    }
  }
  for (const item of actual) {
    if (!expectedKeys.has(key(item))) differences.push(`${table}: unexpected ${kind} ${key(item)}`)
  }
  return differences
}

/** Blobs read per query while re-hashing. */
const BLOB_BATCH = 500

/**
 * Re-hashes every content blob: the SHA-256 of its UTF-8 content must equal its key. A mismatch
 * means the content changed outside Aura Data (or the file is damaged); each one is named.
 */
async function blobHashCheck(db: AuraDatabase): Promise<VerifyCheck> {
  const name = 'content blob hashes'
  if (!(await db.dialect.hasTable('content_blobs')))
    return { name, ok: true, detail: 'no content_blobs table' }
  const mismatches: string[] = []
  let checked = 0
  let after: string | null = null
  for (;;) {
    let query = db.dialect.kysely
      .selectFrom('content_blobs')
      .select(['content_hash', 'content'])
      .orderBy('content_hash')
      .limit(BLOB_BATCH)
    if (after !== null) query = query.where('content_hash', '>', after)
    const rows = (await query.execute()) as { content_hash: string; content: string }[]
    if (rows.length === 0) break
    for (const row of rows) {
      checked++
      const actual = contentHash(row.content)
      if (actual !== row.content_hash) mismatches.push(`${row.content_hash}: content hashes to ${actual}`)
    }
    after = rows.at(-1)!.content_hash
  }
  if (mismatches.length === 0) return { name, ok: true, detail: `${checked} blob(s) match their hashes` }
  const shown = mismatches.slice(0, MAX_DIFFERENCES)
  const more = mismatches.length - shown.length
  return {
    name,
    ok: false,
    detail: `${mismatches.length} of ${checked} blob(s) do not match: ${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}`,
  }
}

/**
 * Every content blob's `reference_count` must be the number of live (not soft-deleted) version
 * references to it, as the library keeps it (src/repository/blob-references.ts). A count too low makes
 * the deletion of the last versions fail the column's CHECK, and garbage collection remove a blob
 * still in use; a count too high keeps garbage. Each wrong count is named.
 */
async function blobReferenceCheck(db: AuraDatabase): Promise<VerifyCheck> {
  const name = 'content blob reference counts'
  if (!(await db.dialect.hasTable('content_blobs')) || !(await db.dialect.hasTable('project_versions')))
    return { name, ok: true, detail: 'no content_blobs or project_versions table' }
  const live = db.dialect.encode('bool', false)
  const references = VERSION_HASH_COLUMNS.map(
    (column) =>
      sql`(select count(*) from project_versions v where v.is_deleted = ${live} and v.${sql.ref(column)} = b.content_hash)`,
  )
  const result = await sql<{ content_hash: string; reference_count: unknown; actual: unknown }>`
    select b.content_hash, b.reference_count, ${sql.join(references, sql` + `)} as actual from content_blobs b`.execute(
    db.dialect.kysely,
  )
  const wrong = result.rows.filter((r) => Number(r.reference_count) !== Number(r.actual))
  if (wrong.length === 0) return { name, ok: true, detail: `${result.rows.length} blob(s) counted right` }
  const shown = wrong
    .slice(0, MAX_DIFFERENCES)
    .map((r) => `${r.content_hash}: ${String(r.reference_count)}, live references ${String(r.actual)}`)
  return {
    name,
    ok: false,
    detail: `${wrong.length} of ${result.rows.length} blob(s) have a wrong reference count: ${shown.join('; ')}${wrong.length > MAX_DIFFERENCES ? `; and ${wrong.length - MAX_DIFFERENCES} more` : ''}`,
  }
}
