import { ValidationError } from '../errors.js'

/** How deeply arrays and objects may nest in a stored JSON value. */
export const MAX_JSON_DEPTH = 64

/**
 * `JSON.stringify(value)` for a value that `JSON.parse` gives back exactly, and a
 * ValidationError naming the path (`value.items[2].at`) of the first part that it would not:
 * `JSON.stringify` silently turns NaN and ±Infinity into null, -0 into 0, a Date into a string,
 * drops undefined members and symbol keys, fills holes of sparse arrays with null, loses the class
 * of a Map, Set or any other non-plain object, and throws a raw TypeError for a BigInt or a
 * cycle (a RangeError when nested very deeply).
 *
 * Accepted: null, booleans, strings, finite numbers other than -0, arrays without holes, and
 * plain objects (prototype `Object.prototype` or null) with string keys, nested at most
 * {@link MAX_JSON_DEPTH} levels. Lone surrogates in strings are fine: `JSON.stringify` writes
 * them as `\uXXXX` escapes, which parse back to the same code units.
 */
export function exactJson(value: unknown, path: string, field: string): string {
  check(value, path, field, 0, new Set())
  return JSON.stringify(value)
}

function refuse(path: string, field: string, problem: string): never {
  throw new ValidationError(`${path} ${problem}: it cannot be stored as JSON and read back unchanged`, field)
}

function check(value: unknown, path: string, field: string, depth: number, open: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return
    case 'number':
      if (!Number.isFinite(value)) refuse(path, field, `is ${String(value)}`)
      if (Object.is(value, -0)) refuse(path, field, 'is -0 (JSON has no negative zero)')
      return
    case 'object':
      break
    default:
      refuse(path, field, `is ${typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`}`)
  }
  if (value === null) return
  if (depth >= MAX_JSON_DEPTH) refuse(path, field, `nests more than ${MAX_JSON_DEPTH} levels deep`)
  if (open.has(value)) refuse(path, field, 'refers to itself (a cycle)')
  open.add(value)
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) refuse(path, field, 'is not a plain array')
    for (let i = 0; i < value.length; i++) {
      if (!Object.hasOwn(value, i)) refuse(`${path}[${i}]`, field, 'is a hole of a sparse array')
      check(value[i], `${path}[${i}]`, field, depth + 1, open)
    }
    if (Object.keys(value).length !== value.length) refuse(path, field, 'has properties besides its elements')
  } else {
    const proto = Object.getPrototypeOf(value) as unknown
    if (proto !== Object.prototype && proto !== null) {
      const name = (value as { constructor?: { name?: unknown } }).constructor?.name
      refuse(path, field, `is a ${typeof name === 'string' && name ? name : 'non-plain object'}`)
    }
    if (Object.getOwnPropertySymbols(value).length > 0) refuse(path, field, 'has symbol keys')
    for (const key of Object.keys(value)) {
      check((value as Record<string, unknown>)[key], `${path}${memberPath(key)}`, field, depth + 1, open)
    }
  }
  open.delete(value)
}

function memberPath(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
}
