/**
 * Records the SQL a piece of code executes, at the driver: every better-sqlite3 statement
 * execution (`run`, `get`, `all`, `iterate`) and every pg `Client#query`. The benchmark records
 * one call of the library and one of the raw reference and refuses to compare them unless they
 * executed the same statements in the same order: the ratio is then the library's own cost.
 * The query-plan tests (test/query-plans.test.ts) record the library's statements to EXPLAIN them.
 */
import type Database from 'better-sqlite3'
import pg from 'pg'

/** One executed statement: its text, how many parameters it was given, and their values. */
export interface ExecutedStatement {
  readonly sql: string
  readonly parameters: number
  readonly values: readonly unknown[]
}

const STATEMENT_METHODS = ['run', 'get', 'all', 'iterate'] as const

function parameterValues(args: readonly unknown[]): readonly unknown[] {
  if (args.length === 1 && Array.isArray(args[0])) return args[0] as unknown[]
  return args
}

/** Runs `fn` and returns the statements it executed on any better-sqlite3 handle of the process. */
export async function captureSqlite(
  handle: Database.Database,
  fn: () => unknown,
): Promise<ExecutedStatement[]> {
  const proto = Object.getPrototypeOf(handle.prepare('select 1')) as Record<string, unknown>
  const originals = STATEMENT_METHODS.map((m) => proto[m] as (...args: unknown[]) => unknown)
  const seen: ExecutedStatement[] = []
  STATEMENT_METHODS.forEach((method, i) => {
    const original = originals[i]!
    proto[method] = function (this: Database.Statement, ...args: unknown[]) {
      const values = parameterValues(args)
      seen.push({ sql: this.source, parameters: values.length, values })
      return original.apply(this, args)
    }
  })
  try {
    await fn()
  } finally {
    STATEMENT_METHODS.forEach((method, i) => (proto[method] = originals[i]))
  }
  return seen
}

/** Runs `fn` and returns the statements it sent through any pg client of the process. */
export async function capturePostgres(fn: () => unknown): Promise<ExecutedStatement[]> {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown }
  const original = proto.query
  const seen: ExecutedStatement[] = []
  proto.query = function (this: unknown, ...args: unknown[]) {
    const [first, second] = args
    const text = typeof first === 'string' ? first : (first as { text: string }).text
    const values = Array.isArray(second) ? second : ((first as { values?: unknown[] }).values ?? [])
    seen.push({ sql: text, parameters: values.length, values })
    return original.apply(this, args)
  }
  try {
    await fn()
  } finally {
    proto.query = original
  }
  return seen
}

/**
 * Throws, showing both lists, unless the library and the raw reference executed the same
 * statements with the same number of parameters in the same order.
 */
export function assertSameStatements(
  operation: string,
  library: readonly ExecutedStatement[],
  raw: readonly ExecutedStatement[],
): void {
  const same =
    library.length === raw.length &&
    library.every((s, i) => s.sql === raw[i]!.sql && s.parameters === raw[i]!.parameters)
  if (same) return
  const show = (list: readonly ExecutedStatement[]) =>
    list.map((s, i) => `  ${i + 1}. [${s.parameters}] ${s.sql}`).join('\n') || '  (none)'
  throw new Error(
    `${operation}: the raw reference does not execute the library's SQL, so the two cannot be compared.\n` +
      `library:\n${show(library)}\nraw:\n${show(raw)}\n` +
      `Update the raw reference in bench/ to the library's statements.`,
  )
}
