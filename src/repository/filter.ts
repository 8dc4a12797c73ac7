import type { ExpressionBuilder, Expression, SqlBool } from 'kysely'
import type { DialectSql } from '../dialect/index.js'
import { ValidationError } from '../errors.js'
import type { ColumnKind, ColumnSpec, TableDef } from '../schema/define.js'
import { validateFieldValue, validateTextOperand } from './validation.js'

/** Comparison operators of the filter language. */
export const OPERATORS = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'contains', 'startsWith'] as const
export type Operator = (typeof OPERATORS)[number]

type FieldFilter<V> =
  | V
  | null
  | {
      eq?: V | null
      ne?: V | null
      lt?: V
      lte?: V
      gt?: V
      gte?: V
      in?: readonly V[]
      contains?: V extends string ? string : never
      startsWith?: V extends string ? string : never
    }

/**
 * A typed filter: `{ status: 'Draft', updatedAt: { lt: date }, jobId: null, title: { contains: '100%' } }`.
 * The fields' conditions all hold (AND); `or` holds when at least one of its filters does:
 * `{ or: [{ isSystemTemplate: true }, { isCommunityTemplate: true }], category: 'Education' }`.
 */
export type Where<E> = { [K in keyof E]?: FieldFilter<NonNullable<E[K]>> } & {
  or?: readonly Where<E>[]
}

/** Sort keys in priority order: `{ updatedAt: 'desc', title: 'asc' }`. */
export type OrderBy<E> = { [K in keyof E]?: 'asc' | 'desc' }

/** Options of the generic reads. */
export interface QueryOptions<E> {
  readonly orderBy?: OrderBy<E>
  readonly limit?: number
  readonly offset?: number
  /** Include soft-deleted rows (and rows hidden by a soft-deleted parent). */
  readonly includeDeleted?: boolean
}

/** One validated condition; `values` are already encoded for the driver. */
interface Condition {
  readonly column: string
  readonly op: Operator | 'isNull' | 'isNotNull' | 'or'
  readonly values: readonly unknown[]
  /** The column's kind, for an `in` list (its one value is the encoded list). */
  readonly kind?: ColumnKind
  /** For `or`: the alternatives, each a list of conditions that all hold. */
  readonly groups?: readonly (readonly Condition[])[]
}

/** The most alternatives of one `or`, and the deepest nesting: a filter is not a program. */
const MAX_OR_BRANCHES = 100
const MAX_OR_DEPTH = 4

/** A validated query: its cache key describes the shape; values travel separately. */
export interface CheckedQuery {
  readonly shape: string
  readonly conditions: readonly Condition[]
  readonly order: readonly { column: string; direction: 'asc' | 'desc' }[]
  readonly limit: number | null
  readonly offset: number | null
  readonly values: unknown[]
}

const OPERATOR_SET = new Set<string>(OPERATORS)

/** An object literal (or one without prototype): a Map, a Date or a class instance is an operand. */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}

/**
 * The largest `limit` or `offset`: both databases take a 64-bit integer, but a JavaScript number
 * is exact only up to 2^53 - 1, and SQLite's LIMIT is written as a literal.
 */
export const MAX_PAGING = Number.MAX_SAFE_INTEGER

/**
 * Checks a `where` and the options against the table before any SQL is built: unknown fields,
 * unknown operators, operands of the wrong type and bad paging are ValidationErrors.
 */
export function checkQuery(
  table: TableDef,
  dialect: DialectSql,
  where: Record<string, unknown> | undefined,
  options: QueryOptions<any> = {},
): CheckedQuery {
  const conditions: Condition[] = []
  const values: unknown[] = []
  const shape: string[] = []
  if (where !== undefined && !isPlainObject(where)) {
    throw new ValidationError(`${table.name}: a filter must be an object of fields`)
  }
  const field = (name: string) => {
    const spec = table.columns[name]
    if (!spec || !Object.hasOwn(table.columns, name)) {
      throw new ValidationError(`${table.name} has no field "${name}"`, name)
    }
    return spec
  }
  collectConditions(table, dialect, where ?? {}, field, conditions, values, shape, 0)
  const order: { column: string; direction: 'asc' | 'desc' }[] = []
  for (const [name, direction] of Object.entries(options.orderBy ?? {})) {
    if (direction === undefined) continue
    const spec = field(name)
    if (direction !== 'asc' && direction !== 'desc') {
      throw new ValidationError(`${table.name}.${name}: sort direction must be "asc" or "desc"`, name)
    }
    order.push({ column: spec.column, direction })
  }
  // A stable order makes paging deterministic: ties are broken by the key.
  const key = table.columns[table.primaryKey]!.column
  if (order.length > 0 && !order.some((o) => o.column === key)) order.push({ column: key, direction: 'asc' })
  const limit = checkCount(table, 'limit', options.limit)
  const offset = checkCount(table, 'offset', options.offset)
  if (limit !== null) values.push(limit)
  if (offset !== null) values.push(offset)
  return {
    shape: `${shape.join(',')}|${order.map((o) => `${o.column} ${o.direction}`).join(',')}|${limit !== null}|${offset !== null}`,
    conditions,
    order,
    limit,
    offset,
    values,
  }
}

/**
 * Validates the fields of one filter object into `conditions` (values and shape in the order
 * `buildConditions` consumes them); an `or` becomes one condition holding its alternatives.
 */
function collectConditions(
  table: TableDef,
  dialect: DialectSql,
  where: Record<string, unknown>,
  field: (name: string) => ColumnSpec,
  conditions: Condition[],
  values: unknown[],
  shape: string[],
  depth: number,
): void {
  for (const [name, filter] of Object.entries(where)) {
    if (filter === undefined) continue
    if (name === 'or' && !Object.hasOwn(table.columns, 'or')) {
      if (
        !Array.isArray(filter) ||
        filter.length === 0 ||
        filter.length > MAX_OR_BRANCHES ||
        !filter.every(isPlainObject)
      ) {
        throw new ValidationError(
          `${table.name}: "or" needs a list of 1 to ${MAX_OR_BRANCHES} filter objects`,
          'or',
        )
      }
      if (depth >= MAX_OR_DEPTH)
        throw new ValidationError(`${table.name}: "or" may be nested at most ${MAX_OR_DEPTH} deep`, 'or')
      const groups: Condition[][] = []
      const parts: string[] = []
      for (const alternative of filter as Record<string, unknown>[]) {
        const group: Condition[] = []
        const groupShape: string[] = []
        collectConditions(table, dialect, alternative, field, group, values, groupShape, depth + 1)
        groups.push(group)
        parts.push(groupShape.join(','))
      }
      conditions.push({ column: '', op: 'or', values: [], groups })
      shape.push(`or(${parts.join('|')})`)
      continue
    }
    const spec = field(name)
    const ops: [string, unknown][] = isPlainObject(filter) ? Object.entries(filter) : [['eq', filter]]
    for (const [op, operand] of ops) {
      if (operand === undefined) continue
      if (!OPERATOR_SET.has(op)) {
        throw new ValidationError(
          `Unknown operator "${op}" on ${table.name}.${name}; use one of ${OPERATORS.join(', ')}`,
          name,
        )
      }
      if ((op === 'eq' || op === 'ne') && operand === null) {
        conditions.push({ column: spec.column, op: op === 'eq' ? 'isNull' : 'isNotNull', values: [] })
        shape.push(`${name}:${op}null`)
        continue
      }
      if (op === 'in') {
        if (!Array.isArray(operand))
          throw new ValidationError(`${table.name}.${name}: "in" needs an array`, name)
        for (const v of operand) validateFieldValue(table, name, v)
        // The whole list is one parameter (see AuraDialect.inList): the SQL has one shape for
        // every length, and no length reaches the databases' limits on bound parameters.
        if (operand.length === 0) {
          conditions.push({ column: spec.column, op, values: [] })
          shape.push(`${name}:in0`)
          continue
        }
        const list = dialect.encodeList(
          spec.kind,
          operand.map((v) => dialect.encode(spec.kind, v)),
        )
        conditions.push({ column: spec.column, op, values: [list], kind: spec.kind })
        values.push(list)
        shape.push(`${name}:in`)
        continue
      }
      if (
        (op === 'contains' || op === 'startsWith') &&
        (typeof operand !== 'string' || !['text', 'json', 'uuid'].includes(spec.kind))
      ) {
        throw new ValidationError(`${table.name}.${name}: "${op}" needs a text field and a string`, name)
      }
      if (op === 'contains' || op === 'startsWith') validateTextOperand(table, name, operand as string)
      else validateFieldValue(table, name, operand)
      const encoded = dialect.encode(spec.kind, operand)
      conditions.push({ column: spec.column, op: op as Operator, values: [encoded] })
      values.push(encoded)
      shape.push(`${name}:${op}`)
    }
  }
}

function checkCount(table: TableDef, name: string, value: number | undefined): number | null {
  if (value === undefined) return null
  if (!Number.isInteger(value) || value < 0 || value > MAX_PAGING) {
    throw new ValidationError(
      `${table.name}: ${name} must be a whole number from 0 to ${MAX_PAGING} (2^53 - 1)`,
      name,
    )
  }
  return value
}

/**
 * The conditions as a Kysely expression; `v(i)` yields the i-th value (a sentinel while the shape
 * is compiled for the cache). Returns the index of the next unused value.
 */
export function buildConditions(
  eb: ExpressionBuilder<any, any>,
  dialect: DialectSql,
  query: CheckedQuery,
  v: (i: number) => unknown,
  table: string,
): { expressions: Expression<SqlBool>[]; next: number } {
  let next = 0
  const build = (conditions: readonly Condition[]): Expression<SqlBool>[] => {
    const expressions: Expression<SqlBool>[] = []
    for (const c of conditions) {
      if (c.op === 'or') {
        // An alternative without conditions always holds (as an empty filter does).
        expressions.push(
          eb.or(
            c.groups!.map((group) => {
              const inner = build(group)
              return inner.length === 0 ? (eb.lit(true) as unknown as Expression<SqlBool>) : eb.and(inner)
            }),
          ),
        )
        continue
      }
      expressions.push(condition(c))
    }
    return expressions
  }
  const condition = (c: Condition): Expression<SqlBool> => {
    const ref = `${table}.${c.column}`
    switch (c.op) {
      case 'isNull':
        return eb(ref, 'is', null)
      case 'isNotNull':
        return eb(ref, 'is not', null)
      case 'in':
        if (c.values.length === 0) return eb.lit(false) as unknown as Expression<SqlBool>
        return dialect.inList(ref, c.kind!, v(next++))
      case 'contains':
      case 'startsWith':
        return dialect.literalMatch(c.op, ref, v(next++))
      default:
        return eb(ref, SQL_OPS[c.op as keyof typeof SQL_OPS], v(next++))
    }
  }
  const expressions = build(query.conditions)
  return { expressions, next }
}
const SQL_OPS = { eq: '=', ne: '<>', lt: '<', lte: '<=', gt: '>', gte: '>=' } as const
