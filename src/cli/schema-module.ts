import { existsSync } from 'node:fs'
import { extname, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { UsageError } from '../errors.js'
import { importTypeScriptModule } from '../migration/migration-source.js'
import type { TableDef } from '../schema/define.js'
import { registerTables, schemaTables } from '../schema/registry.js'

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts'])

/**
 * The application's schema module (`--schema`, `AURA_SCHEMA`, `schema` of the config file): a
 * JavaScript module, or TypeScript run through the optional tsx peer as the application's
 * TypeScript migrations are, that exports `tables`, the array it passes to
 * `openDatabase({ tables })`. Returns those definitions, checked as `openDatabase` checks them;
 * a missing file, a failing import or a missing or bad `tables` export is a UsageError naming
 * the file.
 */
export async function loadSchemaModule(file: string): Promise<TableDef[]> {
  const path = resolve(file)
  if (!existsSync(path)) throw new UsageError(`The schema module ${path} does not exist.`)
  let mod: { tables?: unknown }
  try {
    mod = (await (TYPESCRIPT.has(extname(path))
      ? importTypeScript(path)
      : import(pathToFileURL(path).href))) as {
      tables?: unknown
    }
  } catch (error) {
    if (error instanceof UsageError) throw error
    throw new UsageError(`The schema module ${path} failed to load: ${(error as Error).message}`, {
      cause: error,
    })
  }
  if (!Array.isArray(mod.tables)) {
    throw new UsageError(
      `The schema module ${path} must export \`tables\`: the array of definitions (extendTable, defineTable) it registers with openDatabase({ tables }).`,
    )
  }
  const tables = mod.tables as TableDef[]
  registerTables(tables, `The schema module ${path}`)
  return tables
}

/** The whole schema `check` and `add` compare: the built-in tables with the module's definitions. */
export function definitionsWith(tables: readonly TableDef[]): TableDef[] {
  return schemaTables(registerTables(tables))
}

function importTypeScript(path: string): Promise<unknown> {
  return importTypeScriptModule(
    path,
    (cause) =>
      new UsageError(
        `The schema module ${path} is TypeScript, which needs tsx to load, and tsx is not installed. Install it with \`npm i -D tsx\`, or point to a JavaScript module.`,
        { cause },
      ),
  )
}
