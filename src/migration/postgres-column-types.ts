import {
  AddColumnNode,
  AlterColumnNode,
  AlterTableNode,
  CreateTableNode,
  DataTypeNode,
  DropColumnNode,
  DropTableNode,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  RawNode,
  RenameColumnNode,
  sql,
  type ColumnDefinitionNode,
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type OperationNode,
  type TableNode,
} from 'kysely'
import { loadMigration, type MigrationFile } from './migration-source.js'

/** Table → column → the type a PostgreSQL database has for it, as the migrations declared it. */
export type PostgresColumnTypes = ReadonlyMap<string, ReadonlyMap<string, string>>

/**
 * The column types the migrations give on PostgreSQL, read from the schema statements their `up`
 * builds with `ctx.dialect` 'postgres', without a server: the statements are compiled and
 * recorded, never run (every query answers no rows). The generator's model is SQLite's, where
 * `varchar(100)`, `uuid` and `timestamptz` are all TEXT; the `down` of a changed column type needs
 * the exact PostgreSQL type to go back to. A column created or changed by raw SQL, or after a
 * migration that failed without a database, is absent: the caller falls back to SQLite's type.
 */
export async function postgresColumnTypes(files: readonly MigrationFile[]): Promise<PostgresColumnTypes> {
  const types = new Map<string, Map<string, string>>()
  const db = new Kysely<any>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => recordingDriver((node) => record(types, node)),
      createIntrospector: (kysely) => new PostgresIntrospector(kysely),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  })
  try {
    for (const file of files) {
      const migration = await loadMigration(file)
      try {
        await migration.up(db, { dialect: 'postgres', sql })
      } catch {
        // A migration that needs real rows cannot be replayed here: what it and later ones
        // declare is unknown, so nothing recorded so far can be trusted either.
        return new Map()
      }
    }
    return types
  } finally {
    await db.destroy()
  }
}

function recordingDriver(onQuery: (node: OperationNode) => void): Driver {
  const connection: DatabaseConnection = {
    async executeQuery(compiled: CompiledQuery) {
      onQuery(compiled.query)
      return { rows: [] }
    },
    // eslint-disable-next-line require-yield -- no rows to stream: nothing runs
    async *streamQuery() {
      return
    },
  }
  return {
    async init() {},
    async acquireConnection() {
      return connection
    },
    async beginTransaction() {},
    async commitTransaction() {},
    async rollbackTransaction() {},
    async releaseConnection() {},
    async destroy() {},
  }
}

const tableName = (node: TableNode): string => node.table.identifier.name

/** The type a column definition or alteration names, as PostgreSQL spells it; undefined if raw with values. */
function typeText(node: OperationNode | undefined): string | undefined {
  if (node === undefined) return undefined
  if (DataTypeNode.is(node)) return node.dataType
  if (RawNode.is(node) && node.parameters.length === 0) return node.sqlFragments.join('')
  return undefined
}

function define(columns: Map<string, string>, definition: ColumnDefinitionNode): void {
  const type = typeText(definition.dataType)
  const name = definition.column.column.name
  if (type === undefined) columns.delete(name)
  else columns.set(name, type)
}

/**
 * A raw statement that may create a table, rename something or change a column's type: the
 * recorder does not read SQL, so after one nothing recorded is certain any more.
 */
const RAW_SCHEMA_CHANGE = /\bcreate\s+table\b|\brename\b|\balter\s+column\b[\s\S]*\btype\b/i

/** The one raw form that is read: `alter table t alter column c [set data] type T [using …]`. */
const RAW_ALTER_TYPE =
  /^\s*alter\s+table\s+"?(\w+)"?\s+alter\s+column\s+"?(\w+)"?\s+(?:set\s+data\s+)?type\s+([\w ]+?(?:\(\d+(?:,\s*\d+)?\))?)\s*(?:using\b[\s\S]*)?;?\s*$/i

function record(types: Map<string, Map<string, string>>, node: OperationNode): void {
  if (RawNode.is(node)) {
    const text = node.sqlFragments.join(' ')
    const retyped = RAW_ALTER_TYPE.exec(text)
    if (retyped && node.parameters.length === 0) types.get(retyped[1]!)?.set(retyped[2]!, retyped[3]!)
    else if (RAW_SCHEMA_CHANGE.test(text)) types.clear()
  } else if (CreateTableNode.is(node)) {
    const columns = new Map<string, string>()
    for (const column of node.columns) define(columns, column)
    types.set(tableName(node.table), columns)
  } else if (DropTableNode.is(node)) {
    types.delete(tableName(node.table))
  } else if (AlterTableNode.is(node)) {
    const name = tableName(node.table)
    const columns = types.get(name) ?? new Map<string, string>()
    types.set(name, columns)
    for (const change of node.columnAlterations ?? []) {
      if (AddColumnNode.is(change)) define(columns, change.column)
      else if (DropColumnNode.is(change)) columns.delete(change.column.column.name)
      else if (RenameColumnNode.is(change)) {
        const type = columns.get(change.column.column.name)
        columns.delete(change.column.column.name)
        if (type !== undefined) columns.set(change.renameTo.column.name, type)
      } else if (AlterColumnNode.is(change) && (change.dataType || change.dataTypeExpression)) {
        const type = typeText(change.dataType)
        if (type === undefined) columns.delete(change.column.column.name)
        else columns.set(change.column.column.name, type)
      }
    }
    if (node.renameTo) {
      types.delete(name)
      types.set(tableName(node.renameTo), columns)
    }
  }
}
