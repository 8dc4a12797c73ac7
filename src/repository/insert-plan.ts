import { randomUUID } from 'node:crypto'
import type { AuraDialect } from '../dialect/index.js'
import type { ColumnKind, TableDef } from '../schema/define.js'

/** Where the value of an inserted column comes from. */
const enum Source {
  Value,
  Key,
  Now,
  Actor,
  One,
  False,
}

/** The columns of an insert of one set of given fields, worked out once per table and set. */
export interface InsertPlan {
  /** The given fields in their order, then the key (when generated) and the managed fields. */
  readonly fields: readonly string[]
  readonly sources: readonly Source[]
  readonly kinds: readonly ColumnKind[]
  readonly generateKey: boolean
  readonly lowerKey: boolean
  /** Whether a column takes the unit's clock reading. */
  readonly stamped: boolean
  /** The key of the insert's shape in the query cache. */
  readonly cacheKey: string
}

const insertPlans = new WeakMap<TableDef, Map<string, InsertPlan>>()

/**
 * The insert plan of `table` for the given fields. Building a record per insert (a copy of the
 * values plus the managed fields added one by one) cost more than the statement's parameters:
 * the column list and each value's source depend only on the table and the given field names.
 * The column order is that of the record it replaces (given fields, then key, then managed
 * fields, a given managed name keeping its place), so the SQL text is unchanged.
 */
export function insertPlan(table: TableDef, given: readonly string[]): InsertPlan {
  let byFields = insertPlans.get(table)
  if (!byFields) insertPlans.set(table, (byFields = new Map()))
  const shape = given.join(',')
  let plan = byFields.get(shape)
  if (!plan) {
    const pk = table.primaryKey
    const generateKey = table.keyGeneration === 'uuid'
    const managed = new Map<string, Source>()
    if (generateKey) managed.set(pk, Source.Key)
    const f = table.features
    if (f.audit) {
      managed.set('createdAt', Source.Now)
      managed.set('updatedAt', Source.Now)
      if (f.audit === true) {
        managed.set('createdBy', Source.Actor)
        managed.set('modifiedBy', Source.Actor)
      }
    }
    if (f.rowVersion) managed.set('rowVersion', Source.One)
    if (f.softDelete) managed.set('isDeleted', Source.False)
    const fields = [...given, ...[...managed.keys()].filter((field) => !given.includes(field))]
    const sources = fields.map((field) => (field === pk ? Source.Key : (managed.get(field) ?? Source.Value)))
    plan = {
      fields,
      sources,
      kinds: fields.map((field) => table.columns[field]!.kind),
      generateKey,
      lowerKey: table.columns[pk]!.kind === 'uuid',
      stamped: sources.includes(Source.Now),
      cacheKey: `${table.name}:insert:${fields.join(',')}`,
    }
    if (byFields.size < 100) byFields.set(shape, plan)
  }
  return plan
}

/**
 * Parameters per multi-row insert: PostgreSQL takes at most 65,535 per statement; well below,
 * a statement stays small enough to plan and send quickly.
 */
export const MAX_PARAMETERS = 2000

/** Whether two rows of validated values give the same fields in the same order (one insert plan). */
export function sameFields(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  return ka.length === kb.length && ka.every((k, i) => k === kb[i])
}

/** The parameters of the insert of one row by `plan`: given values, key, stamps (`now`, encoded), actor, … */
export function insertParams(
  dialect: AuraDialect,
  table: TableDef,
  plan: InsertPlan,
  values: Record<string, unknown>,
  now: unknown,
  actor: string | null,
): unknown[] {
  let key = values[table.primaryKey]
  if (plan.generateKey && key === undefined) key = randomUUID()
  else if (plan.lowerKey) key = (key as string).toLowerCase()
  const { sources, kinds } = plan
  const params: unknown[] = new Array(sources.length)
  for (let i = 0; i < sources.length; i++) {
    const source = sources[i]!
    params[i] =
      source === Source.Now
        ? now
        : dialect.encode(
            kinds[i]!,
            source === Source.Value
              ? values[plan.fields[i]!]
              : source === Source.Key
                ? key
                : source === Source.Actor
                  ? actor
                  : source === Source.One
                    ? 1
                    : false,
          )
  }
  return params
}
