import type { AuraDatabase } from '../../database.js'
import { tableDef, type Row } from './import-plan.js'
import { LEGACY_TABLE_NAMES, LEGACY_TABLES } from './legacy-schema.js'

/** The keys already in each target table (all empty on a new database). */
export async function existingKeys(db: AuraDatabase): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>()
  const kysely = db.dialect.kysely
  for (const name of LEGACY_TABLE_NAMES) {
    if (name === 'system_configuration') continue
    const def = tableDef(LEGACY_TABLES[name].target)
    const column = def.columns[def.primaryKey]!.column
    const rows = await mapped(db, kysely.selectFrom(def.name).select(column).execute())
    // PostgreSQL returns uuid keys lower-case, SQLite as stored (lower-case too since the import
    // and the library lower-case them); text keys (configurations) keep their case.
    const uuid = def.columns[def.primaryKey]!.kind === 'uuid'
    out.set(
      def.name,
      new Set(rows.map((r: Row) => (uuid ? String(r[column]).toLowerCase() : String(r[column])))),
    )
  }
  return out
}

export /** Runs a query on the target, its error mapped as every other database error. */
async function mapped<T>(db: AuraDatabase, work: Promise<T>): Promise<T> {
  try {
    return await work
  } catch (error) {
    throw db.dialect.mapError(error)
  }
}

/** The scene indexes the target's scenes hold, per project (a merge must not reuse them). */
export async function takenSceneIndexes(db: AuraDatabase): Promise<Map<string, Set<number>>> {
  const rows = await mapped(
    db,
    db.dialect.kysely.selectFrom('scene_states').select(['project_id', 'scene_index']).execute(),
  )
  const taken = new Map<string, Set<number>>()
  for (const row of rows as Row[]) {
    const project = String(row.project_id).toLowerCase()
    let set = taken.get(project)
    if (!set) taken.set(project, (set = new Set()))
    set.add(Number(row.scene_index))
  }
  return taken
}

/** The last action log sequence of the target (0 when none). */
export async function maxActionSequence(db: AuraDatabase): Promise<number> {
  const row = await mapped(
    db,
    db.dialect.kysely
      .selectFrom('action_logs')
      .select((eb) => eb.fn.max('sequence').as('n'))
      .executeTakeFirst(),
  )
  return Number(row?.n ?? 0)
}
