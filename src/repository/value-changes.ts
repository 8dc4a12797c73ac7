import type { AuditChanges } from './audit-writer.js'

/** Equality of entity values for change detection (dates by instant). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime()
  return a === b
}

/** The given values that differ from the row's, each as [before, after] (an update's audit changes). */
export function changedFields(
  before: Record<string, unknown>,
  changes: Record<string, unknown>,
): AuditChanges {
  const changed: AuditChanges = {}
  for (const [field, value] of Object.entries(changes)) {
    if (!sameValue(before[field], value)) changed[field] = [before[field], value]
  }
  return changed
}
