/**
 * Replaces the placeholders of a compiled statement with SQL literals, for SQL scripts that run
 * without a driver. Quoted strings and identifiers are skipped, so a `?` or `$1` inside a
 * literal the compiler already inlined is left alone.
 *
 * `placeholder` matches one placeholder at the start of the string and returns its parameter
 * index and length, or null.
 */
export function inlineParameters(
  sql: string,
  parameters: readonly unknown[],
  placeholder: (rest: string, ordinal: number) => { index: number; length: number } | null,
  literal: (value: unknown) => string,
): string {
  let out = ''
  let ordinal = 0
  for (let i = 0; i < sql.length;) {
    const ch = sql[i]!
    if (ch === "'" || ch === '"') {
      let end = i + 1
      while (end < sql.length) {
        if (sql[end] === ch) {
          if (sql[end + 1] === ch) end += 2
          else break
        } else end++
      }
      out += sql.slice(i, end + 1)
      i = end + 1
      continue
    }
    const match = placeholder(sql.slice(i, i + 12), ordinal)
    if (match) {
      if (match.index >= parameters.length) throw new Error(`Statement has no parameter ${match.index + 1}`)
      out += literal(parameters[match.index])
      ordinal++
      i += match.length
      continue
    }
    out += ch
    i++
  }
  return out
}

/** A standard SQL string literal ('' doubles a quote). NUL cannot be represented and is refused. */
export function quoteString(value: string): string {
  if (value.includes('\0')) throw new Error('A NUL character cannot appear in a SQL script literal')
  return `'${value.replace(/'/g, "''")}'`
}
