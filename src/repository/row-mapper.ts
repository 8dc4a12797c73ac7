import type { AuraDialect } from '../dialect/index.js'
import type { TableDef } from '../schema/define.js'
import type { Row } from './session.js'

/** Maps a driver row to an entity of one table. */
export type RowMapper = (row: Row) => Record<string, unknown>

const mappers = new WeakMap<AuraDialect, WeakMap<TableDef, RowMapper>>()

/**
 * The row mapper of a table on a dialect, generated once: one object literal with every field
 * in `table.fields` order, each read from its column and passed through the dialect's decoder
 * where its kind has one. A literal gets its final shape at once; storing the fields one by one
 * under computed names made the mapping cost more than the point read it followed (MikroORM
 * generates its hydrators the same way). The names come from the table definitions in
 * src/schema, quoted by JSON.stringify, never from input.
 */
export function rowMapper(dialect: AuraDialect, table: TableDef): RowMapper {
  let byTable = mappers.get(dialect)
  if (!byTable) mappers.set(dialect, (byTable = new WeakMap()))
  let mapper = byTable.get(table)
  if (!mapper) {
    const decoders: ((value: unknown) => unknown)[] = []
    const fields = table.fields.map((prop) => {
      const spec = table.columns[prop]!
      const value = `row[${JSON.stringify(spec.column)}]`
      const decoder = dialect.decoderOf(spec.kind)
      if (!decoder) return `${JSON.stringify(prop)}: ${value} ?? null`
      decoders.push(decoder)
      return `${JSON.stringify(prop)}: decoders[${decoders.length - 1}](${value})`
    })
    const generate = new Function('decoders', `return (row) => ({ ${fields.join(', ')} })`) as (
      d: typeof decoders,
    ) => RowMapper
    mapper = generate(decoders)
    byTable.set(table, mapper)
  }
  return mapper
}
