import { z } from 'zod'
import { ValidationError } from '../errors.js'
import type { ColumnSpec, TableDef } from '../schema/define.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
/** In a `u` regex, surrogate pairs are read as one code point, so this matches only a lone surrogate. */
const LONE_SURROGATE = /\p{Cs}/u
/** PostgreSQL `integer` is 32-bit; the same bound on SQLite keeps both dialects alike. */
const INT32_MAX = 2_147_483_647

/**
 * The range of a timestamp, on both dialects: years 0001 to 9999 (UTC). PostgreSQL's timestamptz
 * stops at 4713 BC, and SQLite stores the ISO-8601 text, whose order is time order only while the
 * year has four digits (`toISOString` writes `+010000-…` and `-000001-…` outside it), so range
 * filters and sorting agree on both only inside these years.
 */
export const MIN_TIMESTAMP = Date.parse('0001-01-01T00:00:00.000Z')
export const MAX_TIMESTAMP = Date.parse('9999-12-31T23:59:59.999Z')

function inTimestampRange(d: Date): boolean {
  const t = d.getTime()
  return t >= MIN_TIMESTAMP && t <= MAX_TIMESTAMP
}

/** Length in characters (code points), as PostgreSQL's varchar(n) counts them. */
function charLength(s: string): number {
  let n = 0
  for (const _ of s) n++
  return n
}

function isJson(s: string): boolean {
  try {
    JSON.parse(s)
    return true
  } catch {
    return false
  }
}

/** The zod schema of one column's value (not null; nullability is added by the caller). */
export function columnSchema(spec: ColumnSpec): z.ZodType {
  switch (spec.kind) {
    case 'uuid':
      return z.string().regex(UUID, 'must be a UUID (8-4-4-4-12 hexadecimal digits)')
    case 'text':
    case 'json': {
      // PostgreSQL cannot store NUL in text; refusing it on both dialects keeps them alike.
      // A lone UTF-16 surrogate has no UTF-8 form: both drivers would silently store U+FFFD
      // instead, so the value read back would differ from the value written.
      let s: z.ZodType<string> = z
        .string()
        .refine((v) => !v.includes('\0'), 'must not contain NUL characters')
        .refine((v) => !LONE_SURROGATE.test(v), 'must be well-formed Unicode (it contains a lone surrogate)')
      if (spec.maxLength !== undefined) {
        const max = spec.maxLength
        s = s.refine((v) => v.length <= max || charLength(v) <= max, `must be at most ${max} characters`)
      }
      if (spec.notBlank) s = s.refine((v) => v.trim().length > 0, 'must not be blank')
      if (spec.enumValues) {
        const values = spec.enumValues
        s = s.refine((v) => values.includes(v), `must be one of ${values.join(', ')}`)
      }
      if (spec.kind === 'json') s = s.refine(isJson, 'must be valid JSON text')
      return s
    }
    case 'int':
    case 'bigint':
    case 'real': {
      let n = spec.kind === 'real' ? z.number().finite() : z.number().int()
      if (spec.kind === 'int') n = n.min(-INT32_MAX - 1).max(INT32_MAX)
      if (spec.kind === 'bigint') n = n.min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER)
      if (spec.min !== undefined) n = n.min(spec.min, `must be at least ${spec.min}`)
      if (spec.max !== undefined) n = n.max(spec.max, `must be at most ${spec.max}`)
      return n
    }
    case 'bool':
      return z.boolean()
    case 'timestamp':
      return z
        .date()
        .refine((d) => !Number.isNaN(d.getTime()), 'must be a valid date')
        .refine(inTimestampRange, 'must be between 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z')
  }
}

/**
 * A predicate true only for values that the column's schema (`columnSchema`) accepts, never for
 * one it refuses: the same checks on plain primitives, without zod's parse machinery (issue
 * lists, check runners, a result object per value), which cost more than the insert's
 * statement. A value it does not vouch for goes to the schema, which decides and words the
 * error; so a legal value it is unsure of (text longer than `maxLength` in UTF-16 units but not
 * in code points) is still accepted.
 */
function acceptsValue(spec: ColumnSpec): (value: unknown) => boolean {
  switch (spec.kind) {
    case 'uuid':
      return (v) => typeof v === 'string' && UUID.test(v)
    case 'text':
    case 'json': {
      const { maxLength, notBlank, enumValues } = spec
      const json = spec.kind === 'json'
      return (v) =>
        typeof v === 'string' &&
        !v.includes('\0') &&
        !LONE_SURROGATE.test(v) &&
        (maxLength === undefined || v.length <= maxLength) &&
        (notBlank !== true || v.trim().length > 0) &&
        (enumValues === undefined || enumValues.includes(v)) &&
        (!json || isJson(v))
    }
    case 'int':
    case 'bigint':
    case 'real': {
      const [low, high] =
        spec.kind === 'int'
          ? [-INT32_MAX - 1, INT32_MAX]
          : spec.kind === 'bigint'
            ? [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]
            : [-Infinity, Infinity]
      const min = Math.max(low, spec.min ?? -Infinity)
      const max = Math.min(high, spec.max ?? Infinity)
      const real = spec.kind === 'real'
      return (v) =>
        typeof v === 'number' && (real ? Number.isFinite(v) : Number.isInteger(v)) && v >= min && v <= max
    }
    case 'bool':
      return (v) => typeof v === 'boolean'
    case 'timestamp':
      return (v) => v instanceof Date && inTimestampRange(v)
  }
}

/** How one field's values are checked: the predicate first, the schema when it says no. */
interface FieldCheck {
  /** Accepts its legal values (null where nullable); words the error of an illegal one. */
  readonly schema: z.ZodType
  /** True only for values `schema` accepts. */
  readonly accepts: (value: unknown) => boolean
}

interface TableValidators {
  /** Per writable field, in `table.fields` order. */
  readonly fields: ReadonlyMap<string, FieldCheck>
  /** The writable fields an insert must give: not nullable, no default, not a generated key. */
  readonly required: readonly string[]
  /** The primary key's check (not null). */
  readonly key: FieldCheck
  /** Per field, the schema of a filter operand: the type only, built on first use. */
  readonly operands: Map<string, z.ZodType>
}

const cache = new WeakMap<TableDef, TableValidators>()

function validators(table: TableDef): TableValidators {
  let v = cache.get(table)
  if (!v) {
    const fields = new Map<string, FieldCheck>()
    const required: string[] = []
    for (const field of table.fields) {
      const spec = table.columns[field]!
      if (spec.managed) continue
      const schema = columnSchema(spec)
      const accepts = acceptsValue(spec)
      fields.set(
        field,
        spec.nullable
          ? { schema: schema.nullable(), accepts: (value) => value === null || accepts(value) }
          : { schema, accepts },
      )
      if (spec.nullable || spec.hasDefault) continue
      if (field === table.primaryKey && table.keyGeneration === 'uuid') continue
      required.push(field)
    }
    const keySpec = table.columns[table.primaryKey]!
    v = {
      fields,
      required,
      key: { schema: columnSchema(keySpec), accepts: acceptsValue(keySpec) },
      operands: new Map(),
    }
    cache.set(table, v)
  }
  return v
}

/**
 * The column of a field, looked up among the table's own fields only: a plain `columns[name]`
 * finds `Object.prototype` members (`constructor`, `toString`, `__proto__`) for those names.
 */
export function ownColumn(table: TableDef, field: string): ColumnSpec | undefined {
  return Object.hasOwn(table.columns, field) ? table.columns[field] : undefined
}

function fail(table: TableDef, field: string, message: string): never {
  throw new ValidationError(`${table.name}.${field} ${message}`, field)
}

function checkValue(table: TableDef, field: string, schema: z.ZodType, value: unknown): void {
  const result = schema.safeParse(value)
  if (!result.success) fail(table, field, result.error.issues[0]?.message ?? 'is invalid')
}

function checkField(table: TableDef, field: string, check: FieldCheck, value: unknown): void {
  if (!check.accepts(value)) checkValue(table, field, check.schema, value)
}

/**
 * Validates the input of `add`: known fields only, required fields present, every value legal.
 * Library-managed fields (audit, row version, soft delete) are dropped: callers cannot forge them.
 * Returns the writable fields that were given (undefined ones omitted).
 */
export function validateInsert(table: TableDef, input: unknown): Record<string, unknown> {
  const record = asRecord(table, input)
  const { fields, required } = validators(table)
  const out: Record<string, unknown> = {}
  for (const field of Object.keys(record)) {
    const value = record[field]
    if (value === undefined) continue
    const spec = ownColumn(table, field)
    if (!spec) fail(table, field, 'is not a field of this table')
    if (spec.managed) continue
    checkField(table, field, fields.get(field)!, value)
    out[field] = value
  }
  for (const field of required) {
    if (out[field] === undefined) fail(table, field, 'is required')
  }
  return out
}

/**
 * Validates the input of `update`: the key (and `rowVersion` where the table has one) is
 * required; the other given fields are checked like on insert. Returns the changed fields.
 */
export function validateUpdate(
  table: TableDef,
  input: unknown,
): { key: unknown; rowVersion: number | null; changes: Record<string, unknown> } {
  const record = asRecord(table, input)
  const key = validateKey(
    table,
    Object.hasOwn(record, table.primaryKey) ? record[table.primaryKey] : undefined,
  )
  let rowVersion: number | null = null
  if (table.features.rowVersion)
    rowVersion = validateRowVersion(
      table,
      Object.hasOwn(record, 'rowVersion') ? record.rowVersion : undefined,
    )
  const { fields } = validators(table)
  const changes: Record<string, unknown> = {}
  for (const field of Object.keys(record)) {
    const value = record[field]
    if (value === undefined || field === table.primaryKey) continue
    const spec = ownColumn(table, field)
    if (!spec) fail(table, field, 'is not a field of this table')
    if (spec.managed) continue
    checkField(table, field, fields.get(field)!, value)
    changes[field] = value
  }
  return { key, rowVersion, changes }
}

/** Validates a primary-key value (a UUID, text or integer key per the table). */
export function validateKey(table: TableDef, key: unknown): unknown {
  const spec = table.columns[table.primaryKey]!
  if (key === undefined || key === null) fail(table, table.primaryKey, 'is required')
  checkField(table, table.primaryKey, validators(table).key, key)
  return spec.kind === 'uuid' ? (key as string).toLowerCase() : key
}

export function validateRowVersion(table: TableDef, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    fail(table, 'rowVersion', 'is required (the version you read) to update or delete a row')
  }
  return value
}

/** Validates one value for a field (filters use it for their operands). */
export function validateFieldValue(table: TableDef, field: string, value: unknown): void {
  const { operands } = validators(table)
  let schema = operands.get(field)
  if (!schema) {
    schema = columnSchema({
      ...table.columns[field]!,
      notBlank: false,
      enumValues: undefined,
      min: undefined,
      max: undefined,
    } as ColumnSpec)
    operands.set(field, schema)
  }
  checkValue(table, field, schema, value)
}

/**
 * Checks the text of a `contains` / `startsWith` filter as writes check text: no NUL (PostgreSQL
 * text cannot hold it) and no lone surrogate (both drivers would send U+FFFD instead, so the
 * filter would look for another text than the one given).
 */
export function validateTextOperand(table: TableDef, field: string, text: string): void {
  if (text.includes('\0')) fail(table, field, 'must not contain NUL characters')
  if (LONE_SURROGATE.test(text))
    fail(table, field, 'must be well-formed Unicode (it contains a lone surrogate)')
}

function asRecord(table: TableDef, input: unknown): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError(`${table.name}: expected an object of fields`)
  }
  return input as Record<string, unknown>
}

/** The key, and the row version when given, of what `delete` takes: an id, or an entity. */
export function validateDeleteTarget(
  table: TableDef,
  entityOrId: unknown,
): { key: unknown; rowVersion: number | null } {
  if (typeof entityOrId === 'object' && entityOrId !== null) {
    const record = entityOrId as Record<string, unknown>
    const key = validateKey(table, record[table.primaryKey])
    const rowVersion =
      table.features.rowVersion && record.rowVersion !== undefined
        ? validateRowVersion(table, record.rowVersion)
        : null
    return { key, rowVersion }
  }
  if (entityOrId === undefined) throw new ValidationError(`${table.name}: delete needs an id or an entity`)
  return { key: validateKey(table, entityOrId), rowVersion: null }
}
