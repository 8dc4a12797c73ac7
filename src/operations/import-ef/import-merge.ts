import type { Plan } from './import-plan.js'

/**
 * `merge`: takes out of the plan every row whose key the target already has, listing it as
 * skipped; the rest is what will be written.
 */
export function skipExistingKeys(planned: Plan, existing: ReadonlyMap<string, ReadonlySet<string>>): void {
  for (const table of planned.values()) {
    const keys = existing.get(table.def.name)!
    const pk = table.def.primaryKey
    const kept = table.rows.filter((row) => {
      if (!keys.has(String(row[pk]))) return true
      table.skipped.push(String(row[pk]))
      return false
    })
    table.rows.splice(0, table.rows.length, ...kept)
  }
}
