/**
 * An identifier quoted as SQL spells it (double quotes, a quote inside doubled), the same on
 * SQLite and PostgreSQL: for statements built as text, where a name may be any table's.
 */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}
