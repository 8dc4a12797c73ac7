import { spawn, spawnSync } from 'node:child_process'
import {
  accessSync,
  closeSync,
  constants,
  createReadStream,
  fsyncSync,
  openSync,
  readSync,
  statSync,
  writeSync,
} from 'node:fs'
import { delimiter, join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import pg from 'pg'
import { backupErrors, redactUrl } from '../../errors.js'
import { pausePoint } from '../../pause-point.js'
import { hashFile } from '../backup-fs.js'
import { createPostgresDatabaseIfMissing } from './postgres-create.js'
import type {
  BackupContent,
  BackupProgress,
  DialectBackup,
  ExclusiveDatabase,
  StagedBackup,
} from '../dialect.js'
import { quoteIdentifier } from '../sql-identifier.js'
import { quoteString } from '../script-literals.js'

/** The history table of the migration engine (src/migration/migrator.ts). */
const HISTORY_TABLE = 'aura_migrations'

/** First bytes of a pg_dump custom-format archive. */
const PG_DUMP_MAGIC = Buffer.from('PGDMP', 'latin1')

/** Format tag of the library's own export, used when pg_dump is not available. */
const LOGICAL_FORMAT = 'aura-logical-v1'

/** Rows fetched from a cursor, and loaded per INSERT, at a time. */
const ROWS_PER_BATCH = 1000

/** How many lines of a tool's stderr an error message quotes. */
const STDERR_LINES_SHOWN = 5

/**
 * The logical export (`aura-logical-v1`), one line per item, so it is written and read as a
 * stream and a truncated file is always detected:
 * ```
 * {"format":"aura-logical-v1","createdAt":…,"tables":[{"name":…,"rows":n},…],"sequences":[…]}
 * #table "<name>"                      (tables in foreign-key order: parents first)
 * {…row as PostgreSQL's row_to_json…} (n lines)
 * #end
 * ```
 * Rows are PostgreSQL's own JSON text, never parsed into JavaScript numbers on the way, so
 * bigints, timestamps with microseconds and doubles come back exactly.
 */
interface LogicalHeader {
  readonly format: typeof LOGICAL_FORMAT
  readonly createdAt: string
  readonly tables: readonly { readonly name: string; readonly rows: number }[]
  readonly sequences: readonly {
    readonly name: string
    readonly lastValue: string
    readonly isCalled: boolean
  }[]
}

/** The connection for libpq tools: the URL without its password (argv is visible to every user), the password in the environment. */
function libpqConnection(connectionString: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const url = new URL(connectionString)
  const password = url.password ? decodeURIComponent(url.password) : url.searchParams.get('password')
  url.password = ''
  url.searchParams.delete('password')
  const env: NodeJS.ProcessEnv = { ...process.env }
  if (password) env.PGPASSWORD = password
  return { dbname: url.toString(), env }
}

/** The absolute path of an executable on PATH, or null. */
function findExecutable(name: string): string | null {
  const names = process.platform === 'win32' ? [`${name}.exe`, name] : [name]
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    for (const candidate of names) {
      const path = join(dir, candidate)
      try {
        accessSync(path, constants.X_OK)
        if (statSync(path).isFile()) return path
      } catch {
        // Not here; try the next PATH entry.
      }
    }
  }
  return null
}

function requireExecutable(name: string): string {
  const path = findExecutable(name)
  if (!path) throw backupErrors.toolMissing(name)
  return path
}

/**
 * Runs a tool with an argv array (never a shell string). Resolves with its exit code and the
 * tail of its stderr; `onStderrLine` sees every stderr line as it comes.
 */
function runTool(
  path: string,
  args: readonly string[],
  options: {
    env: NodeJS.ProcessEnv
    onStderrLine?: (line: string) => void
    onStdoutLine?: (line: string) => void
  },
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(path, args, {
      env: options.env,
      stdio: ['ignore', options.onStdoutLine ? 'pipe' : 'ignore', 'pipe'],
    })
    const tail: string[] = []
    createInterface({ input: child.stderr! }).on('line', (line) => {
      options.onStderrLine?.(line)
      tail.push(line)
      if (tail.length > 50) tail.shift()
    })
    const stdoutDone = options.onStdoutLine
      ? new Promise<void>((done) =>
          createInterface({ input: child.stdout! }).on('line', options.onStdoutLine!).on('close', done),
        )
      : Promise.resolve()
    child.on('error', reject)
    child.on('close', (code) => {
      void stdoutDone.then(() => resolvePromise({ code, stderr: summarize(tail) }))
    })
  })
}

/** The lines of a tool's stderr that explain a failure (errors first), for a one-line message. */
function summarize(lines: readonly string[]): string {
  const errors = lines.filter((line) => /error|fatal|could not|invalid/i.test(line))
  return (errors.length > 0 ? errors : lines).slice(-STDERR_LINES_SHOWN).join(' | ')
}

function firstBytes(file: string, length: number): Buffer {
  const buffer = Buffer.alloc(length)
  const fd = openSync(file, 'r')
  try {
    return buffer.subarray(0, readSync(fd, buffer, 0, length, 0))
  } finally {
    closeSync(fd)
  }
}

/** The major version of a libpq tool (`pg_dump (PostgreSQL) 15.20` → 15), or null. */
function toolMajorVersion(path: string): number | null {
  const result = spawnSync(path, ['--version'], { encoding: 'utf8' })
  const match = /(\d+)(?:\.\d+)?/.exec(result.stdout ?? '')
  return match ? Number(match[1]) : null
}

/**
 * PostgreSQL backup and restore (the `backup` and `restore` commands of the README).
 *
 * - Backup: `pg_dump -Fc` when a pg_dump at least as new as the server is on PATH, else the
 *   library's logical export. Either way the data comes from one REPEATABLE READ transaction:
 *   pg_dump imports its snapshot (`--snapshot`), the export reads through a cursor in it.
 * - Restore: the whole current schema is replaced in one transaction: its tables, views and
 *   sequences are dropped, then the archive is loaded (`pg_restore` into `psql
 *   --single-transaction`), or the schema is recreated from the migrations and the export's rows
 *   loaded. A failure rolls everything back.
 */
export class PostgresBackup implements DialectBackup {
  readonly extension = '.dump'
  readonly #connectionString: string

  constructor(options: { connectionString: string }) {
    this.#connectionString = options.connectionString
  }

  defaultDir(): string {
    return resolve('backups')
  }

  /** Server and database, as the URL names them: the same database under another user is the same source. */
  sourceIdentity(): string {
    const url = new URL(this.#connectionString)
    const host = (url.searchParams.get('host') ?? url.hostname) || 'localhost'
    const port = url.searchParams.get('port') ?? (url.port || '5432')
    const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || decodeURIComponent(url.username)
    return `postgres://${host.toLowerCase()}:${port}/${encodeURIComponent(database)}`
  }

  async backupTo(file: string, onProgress?: (progress: BackupProgress) => void): Promise<void> {
    const client = await this.#connect()
    try {
      await client.query('begin isolation level repeatable read read only')
      const pgDump = await usablePgDump(client)
      if (pgDump) await this.#dump(client, pgDump, file, onProgress)
      else await writeLogicalExport(client, file, onProgress)
      await client.query('commit')
    } finally {
      await client.end()
    }
  }

  async inspect(file: string): Promise<BackupContent> {
    if (statSync(file).size === 0) throw backupErrors.empty(file)
    const head = firstBytes(file, 64)
    if (head.subarray(0, PG_DUMP_MAGIC.length).equals(PG_DUMP_MAGIC)) return inspectArchive(file)
    if (head.toString('utf8').startsWith(`{"format":"${LOGICAL_FORMAT}"`))
      return (await readLogicalExport(file)).content
    throw backupErrors.notPostgresBackup(file)
  }

  /** A PostgreSQL backup is read where it is (nothing is swapped on disk); only hashed. */
  async stage(file: string): Promise<StagedBackup> {
    const { sha256, sizeBytes } = await hashFile(file)
    return { path: file, sha256, sizeBytes, discard: async () => {} }
  }

  /**
   * Connects for the restore and refuses when any other client session is connected to the
   * database (application pools keep idle sessions: a restore under them would be overwritten
   * or half-seen).
   */
  async acquireExclusive(): Promise<ExclusiveDatabase> {
    // Restoring into a database that is gone (a new server, a dropped database) is the disaster
    // case a backup exists for: create it empty, as a restore onto a missing SQLite file does.
    const created = await createPostgresDatabaseIfMissing(this.#connectionString)
    const client = await this.#connect()
    try {
      const { rows } = await client.query<{ n: number; who: string | null }>(
        `select count(*)::int as n,
                string_agg(distinct coalesce(nullif(application_name, ''), client_addr::text, 'local socket'), ', ') as who
           from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'`,
      )
      const other = rows[0]!
      if (other.n > 0) {
        throw backupErrors.inUse(
          redactUrl(this.#connectionString),
          `${other.n} other session(s): ${other.who ?? 'unknown'}`,
        )
      }
    } catch (error) {
      await client.end()
      throw error
    }
    return new PostgresExclusiveDatabase(this, client, this.#connectionString, !created)
  }

  async #connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.#connectionString,
      application_name: 'aura-db backup',
    })
    await client.connect()
    return client
  }

  async #dump(
    client: pg.Client,
    pgDump: string,
    file: string,
    onProgress?: (progress: BackupProgress) => void,
  ): Promise<void> {
    const { rows: counted } = await client.query<{ n: number }>(
      `select count(*)::int as n from pg_tables where schemaname not in ('pg_catalog', 'information_schema')`,
    )
    const total = counted[0]!.n
    const { rows } = await client.query<{ id: string }>('select pg_export_snapshot() as id')
    const connection = libpqConnection(this.#connectionString)
    let done = 0
    onProgress?.({ done, total })
    const result = await runTool(
      pgDump,
      [
        '--format=custom',
        `--file=${file}`,
        `--snapshot=${rows[0]!.id}`,
        '--verbose',
        '--no-password',
        `--dbname=${connection.dbname}`,
      ],
      {
        env: connection.env,
        onStderrLine(line) {
          if (/dumping contents of table/.test(line)) onProgress?.({ done: Math.min(++done, total), total })
        },
      },
    )
    if (result.code !== 0) throw backupErrors.toolFailed('pg_dump', result.code, result.stderr)
    onProgress?.({ done: total, total })
  }
}

/** pg_dump from PATH when it can dump this server (its major version is not older), else null. */
async function usablePgDump(client: pg.Client): Promise<string | null> {
  const path = findExecutable('pg_dump')
  if (!path) return null
  const { rows } = await client.query<{ v: string }>(`select current_setting('server_version_num') as v`)
  const serverMajor = Math.floor(Number(rows[0]!.v) / 10_000)
  const toolMajor = toolMajorVersion(path)
  return toolMajor !== null && toolMajor >= serverMajor ? path : null
}

/** Reads a pg_dump archive completely (every data block decompressed) and counts its rows. */
async function inspectArchive(file: string): Promise<BackupContent> {
  const pgRestore = requireExecutable('pg_restore')
  const rowCounts: Record<string, number> = {}
  const migrations: string[] = []
  let table: string | null = null
  const result = await runTool(pgRestore, ['--file=-', file], {
    env: process.env,
    onStdoutLine(line) {
      if (table === null) {
        const match = /^COPY (.+?) \(.*\) FROM stdin;$/.exec(line)
        if (match) {
          table = unqualify(match[1]!)
          rowCounts[table] = 0
        }
      } else if (line === '\\.') {
        table = null
      } else {
        rowCounts[table] = (rowCounts[table] ?? 0) + 1
        if (table === HISTORY_TABLE) migrations.push(line.split('\t')[0]!)
      }
    },
  })
  if (result.code !== 0) throw backupErrors.unreadableArchive(file, result.stderr)
  return { format: 'pg_dump-custom', migrations: migrations.sort(), rowCounts }
}

/** `public.aura_migrations` or `"public"."Odd ""Name"""` → the bare table name. */
function unqualify(name: string): string {
  const parts = name.match(/"(?:[^"]|"")*"|[^.]+/g) ?? [name]
  const last = parts.at(-1)!
  return last.startsWith('"') ? last.slice(1, -1).replaceAll('""', '"') : last
}

/** The tables of the current schema, parents before the tables that reference them. */
async function tablesInLoadOrder(client: pg.Client): Promise<string[]> {
  const { rows: tables } = await client.query<{ name: string }>(
    `select tablename as name from pg_tables where schemaname = current_schema() order by tablename`,
  )
  const { rows: edges } = await client.query<{ child: string; parent: string }>(
    `select ch.relname as child, pa.relname as parent
       from pg_constraint c
       join pg_class ch on ch.oid = c.conrelid
       join pg_class pa on pa.oid = c.confrelid
      where c.contype = 'f' and ch.relnamespace = pa.relnamespace
        and ch.relnamespace = (select oid from pg_namespace where nspname = current_schema())`,
  )
  const parents = new Map<string, Set<string>>(tables.map((t) => [t.name, new Set<string>()]))
  for (const edge of edges) if (edge.child !== edge.parent) parents.get(edge.child)?.add(edge.parent)
  const ordered: string[] = []
  const remaining = new Set(parents.keys())
  while (remaining.size > 0) {
    const ready = [...remaining].filter((name) => [...parents.get(name)!].every((p) => !remaining.has(p)))
    // A foreign-key cycle: load the rest in name order (Aura's schema has none).
    const next = ready.length > 0 ? ready : [...remaining]
    for (const name of next.sort()) {
      ordered.push(name)
      remaining.delete(name)
    }
  }
  return ordered
}

/** Writes the logical export of the current schema, reading inside the caller's REPEATABLE READ transaction. */
async function writeLogicalExport(
  client: pg.Client,
  file: string,
  onProgress?: (progress: BackupProgress) => void,
): Promise<void> {
  const names = await tablesInLoadOrder(client)
  const tables: { name: string; rows: number }[] = []
  for (const name of names) {
    const { rows } = await client.query<{ n: string }>(`select count(*) as n from ${quoteIdentifier(name)}`)
    tables.push({ name, rows: Number(rows[0]!.n) })
  }
  const { rows: sequenceRows } = await client.query<{ name: string }>(
    `select c.relname as name from pg_class c
      where c.relkind = 'S' and c.relnamespace = (select oid from pg_namespace where nspname = current_schema())
      order by c.relname`,
  )
  const sequences: { name: string; lastValue: string; isCalled: boolean }[] = []
  for (const { name } of sequenceRows) {
    const { rows } = await client.query<{ last_value: string; is_called: boolean }>(
      `select last_value::text as last_value, is_called from ${quoteIdentifier(name)}`,
    )
    sequences.push({ name, lastValue: rows[0]!.last_value, isCalled: rows[0]!.is_called })
  }
  const header: LogicalHeader = {
    format: LOGICAL_FORMAT,
    createdAt: new Date().toISOString(),
    tables,
    sequences,
  }
  const total = tables.reduce((sum, t) => sum + t.rows, 0)
  let done = 0
  const fd = openSync(file, 'w')
  try {
    const write = (text: string) => {
      const buffer = Buffer.from(text, 'utf8')
      for (let offset = 0; offset < buffer.length;) offset += writeSync(fd, buffer, offset)
    }
    write(JSON.stringify(header) + '\n')
    for (const table of tables) {
      write(`#table ${JSON.stringify(table.name)}\n`)
      await client.query(
        `declare aura_export no scroll cursor for select row_to_json(t)::text as j from ${quoteIdentifier(table.name)} t`,
      )
      for (;;) {
        const { rows } = await client.query<{ j: string }>(`fetch ${ROWS_PER_BATCH} from aura_export`)
        if (rows.length === 0) break
        write(rows.map((row) => row.j).join('\n') + '\n')
        done += rows.length
        onProgress?.({ done, total })
      }
      await client.query('close aura_export')
    }
    write('#end\n')
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** A logical export read back: what it holds, and its rows per table as raw JSON lines on demand. */
interface LogicalExport {
  readonly header: LogicalHeader
  readonly content: BackupContent
}

/**
 * Reads a logical export line by line and checks it completely: header, every table section in
 * the header's order with the header's row count, every row valid JSON, and the end marker (so
 * a truncated file is refused). `onRows` receives each table's rows in batches, as raw JSON text.
 */
async function readLogicalExport(
  file: string,
  onRows?: (table: string, rows: string[]) => Promise<void>,
): Promise<LogicalExport> {
  const damaged = (detail: string) => backupErrors.unreadableArchive(file, detail)
  let header: LogicalHeader | null = null
  let tableIndex = -1
  let rowsInTable = 0
  let batch: string[] = []
  let ended = false
  let lineNumber = 0
  const rowCounts: Record<string, number> = {}
  const migrations: string[] = []
  const finishTable = async () => {
    if (!header || tableIndex < 0) return
    const expected = header.tables[tableIndex]!
    if (batch.length > 0) await onRows?.(expected.name, batch)
    batch = []
    if (rowsInTable !== expected.rows) {
      throw damaged(
        `table ${expected.name} has ${rowsInTable} rows, the export's header says ${expected.rows}`,
      )
    }
    rowCounts[expected.name] = rowsInTable
  }
  for await (const line of createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) {
    lineNumber++
    if (ended) throw damaged(`data after the end marker at line ${lineNumber}`)
    if (header === null) {
      try {
        header = JSON.parse(line) as LogicalHeader
      } catch {
        throw damaged('its header is not valid JSON')
      }
      if (
        header.format !== LOGICAL_FORMAT ||
        !Array.isArray(header.tables) ||
        !Array.isArray(header.sequences)
      ) {
        throw damaged('its header is not an aura-logical-v1 header')
      }
    } else if (line.startsWith('#table ')) {
      await finishTable()
      tableIndex++
      const expected = header.tables[tableIndex]
      let name: unknown
      try {
        name = JSON.parse(line.slice('#table '.length))
      } catch {
        name = undefined
      }
      if (!expected || name !== expected.name) throw damaged(`unexpected table section at line ${lineNumber}`)
      rowsInTable = 0
    } else if (line === '#end') {
      await finishTable()
      if (tableIndex !== header.tables.length - 1) throw damaged('it ends before all tables')
      ended = true
    } else {
      if (tableIndex < 0) throw damaged(`a row outside any table section at line ${lineNumber}`)
      let row: unknown
      try {
        row = JSON.parse(line)
      } catch {
        throw damaged(`line ${lineNumber} is not valid JSON`)
      }
      if (header.tables[tableIndex]!.name === HISTORY_TABLE)
        migrations.push(String((row as { name?: unknown }).name))
      rowsInTable++
      batch.push(line)
      if (batch.length >= ROWS_PER_BATCH) {
        await onRows?.(header.tables[tableIndex]!.name, batch)
        batch = []
      }
    }
  }
  if (!header) throw backupErrors.empty(file)
  if (!ended) throw damaged('it is truncated (no end marker)')
  return { header, content: { format: LOGICAL_FORMAT, migrations: migrations.sort(), rowCounts } }
}

/** SQL that drops every table, view and sequence of the current schema (dependent ones go with their owner). */
async function dropStatements(client: pg.Client): Promise<string[]> {
  const { rows } = await client.query<{ stmt: string }>(
    `select format('drop %s if exists %I.%I cascade;',
                   case c.relkind when 'v' then 'view' when 'm' then 'materialized view'
                                  when 'S' then 'sequence' when 'f' then 'foreign table' else 'table' end,
                   n.nspname, c.relname) as stmt
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
        and not exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype in ('a', 'i', 'e'))
      order by c.relkind, c.relname`,
  )
  return rows.map((row) => row.stmt)
}

/** The database held for a restore by one session. */
class PostgresExclusiveDatabase implements ExclusiveDatabase {
  readonly exists: boolean
  readonly #tools: PostgresBackup
  readonly #client: pg.Client
  readonly #connectionString: string
  #released = false

  constructor(tools: PostgresBackup, client: pg.Client, connectionString: string, exists: boolean) {
    this.exists = exists
    this.#tools = tools
    this.#client = client
    this.#connectionString = connectionString
  }

  backupTo(file: string, onProgress?: (progress: BackupProgress) => void): Promise<void> {
    return this.#tools.backupTo(file, onProgress)
  }

  async replaceWith(
    staged: StagedBackup,
    options: {
      schemaScript: (migrations: readonly string[]) => Promise<string>
      onProgress?: (progress: BackupProgress) => void
    },
  ): Promise<void> {
    if (firstBytes(staged.path, PG_DUMP_MAGIC.length).equals(PG_DUMP_MAGIC))
      await this.#restoreArchive(staged.path, options)
    else await this.#restoreLogical(staged.path, options)
  }

  async release(): Promise<void> {
    if (this.#released) return
    this.#released = true
    await this.#client.end()
  }

  /**
   * One `psql` session and one transaction, stopping at the first error (ON_ERROR_STOP) and
   * rolling back:
   * 1. drop the schema's tables, views and sequences; recreate the schema with the migration
   *    script of the archive's migrations (so the schema is exactly what `migrate` builds:
   *    PostgreSQL re-parses a dumped CHECK into a different text, which `verify` would report);
   * 2. empty the tables and set their foreign keys aside;
   * 3. load the archive's data (`pg_restore --data-only`: rows and sequence values);
   * 4. put the foreign keys back, which re-checks every row.
   * The transaction is opened by the input's first line and committed only by its last, after
   * step 4; psql's `--single-transaction` is not used because it commits at the end of its input,
   * and the input also ends when this process dies: a restore killed half-way would commit the
   * data loaded so far, without its foreign keys. Ended early (pg_restore failed, this process
   * killed), the input has no COMMIT, psql's session ends and the server rolls everything back.
   */
  async #restoreArchive(
    file: string,
    options: { schemaScript: (migrations: readonly string[]) => Promise<string> },
  ): Promise<void> {
    const pgRestore = requireExecutable('pg_restore')
    const psqlPath = requireExecutable('psql')
    const { migrations } = await inspectArchive(file)
    const script = await options.schemaScript(migrations)
    const { rows } = await this.#client.query<{ schema: string }>('select current_schema() as schema')
    const schema = rows[0]!.schema
    const prelude = [
      'begin;',
      'set local client_min_messages = warning;',
      ...(await dropStatements(this.#client)),
      script,
      // From here on every name is written schema-qualified, as pg_restore's own output is.
      `select pg_catalog.set_config('search_path', '', false);`,
      `do $aura$ declare tables text; begin
         select string_agg(format('%I.%I', schemaname, tablename), ', ') into tables
           from pg_catalog.pg_tables where schemaname = ${quoteString(schema)};
         if tables is not null then execute 'truncate ' || tables || ' restart identity cascade'; end if;
       end $aura$;`,
      `create temp table aura_restore_fks on commit drop as
         select format('%I.%I', n.nspname, c.relname) as tbl, con.conname as name,
                pg_catalog.pg_get_constraintdef(con.oid) as def
           from pg_catalog.pg_constraint con
           join pg_catalog.pg_class c on c.oid = con.conrelid
           join pg_catalog.pg_namespace n on n.oid = c.relnamespace
          where con.contype = 'f' and n.nspname = ${quoteString(schema)};`,
      `do $aura$ declare r record; begin
         for r in select * from pg_temp.aura_restore_fks loop
           execute format('alter table %s drop constraint %I', r.tbl, r.name);
         end loop;
       end $aura$;`,
    ].join('\n')
    const epilogue = `
do $aura$ declare r record; begin
  for r in select * from pg_temp.aura_restore_fks loop
    execute format('alter table %s add constraint %I %s', r.tbl, r.name, r.def);
  end loop;
end $aura$;
commit;
`
    const connection = libpqConnection(this.#connectionString)
    const psql = spawn(
      psqlPath,
      ['--no-psqlrc', '--quiet', '--set=ON_ERROR_STOP=1', '--file=-', `--dbname=${connection.dbname}`],
      { env: connection.env, stdio: ['pipe', 'ignore', 'pipe'] },
    )
    const psqlErrors: string[] = []
    createInterface({ input: psql.stderr }).on('line', (line) => psqlErrors.push(line))
    const psqlDone = new Promise<number | null>((done, fail) => {
      psql.on('error', fail)
      psql.on('close', done)
    })
    // psql may exit early on an error; its closed stdin then reports EPIPE, which the exit code explains.
    psql.stdin.on('error', () => {})
    psql.stdin.write(prelude + '\n')
    const restore = spawn(pgRestore, ['--data-only', `--schema=${schema}`, '--file=-', file], {
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const restoreErrors: string[] = []
    createInterface({ input: restore.stderr }).on('line', (line) => restoreErrors.push(line))
    restore.stdout.pipe(psql.stdin, { end: false })
    const restoreCode = await new Promise<number | null>((done, fail) => {
      restore.on('error', fail)
      restore.on('close', done)
    })
    if (restoreCode === 0) {
      await pausePoint('restore:swap')
      psql.stdin.end(epilogue)
    } else psql.kill('SIGKILL')
    const psqlCode = await psqlDone
    if (restoreCode !== 0) throw backupErrors.toolFailed('pg_restore', restoreCode, summarize(restoreErrors))
    if (psqlCode !== 0) throw backupErrors.toolFailed('psql', psqlCode, summarize(psqlErrors))
  }

  /**
   * One transaction: drop the schema's tables, recreate them with the migration script of the
   * export's migrations, empty them, load every row (`json_populate_recordset` turns the JSON
   * text back into typed values; OVERRIDING SYSTEM VALUE keeps identity values), set the
   * sequences.
   */
  async #restoreLogical(
    file: string,
    options: {
      schemaScript: (migrations: readonly string[]) => Promise<string>
      onProgress?: (progress: BackupProgress) => void
    },
  ): Promise<void> {
    const { header, content } = await readLogicalExport(file)
    const script = await options.schemaScript(content.migrations)
    const total = header.tables.reduce((sum, t) => sum + t.rows, 0)
    let done = 0
    const client = this.#client
    await client.query('begin')
    try {
      await client.query('set local client_min_messages = warning')
      for (const statement of await dropStatements(client)) await client.query(statement)
      await client.query(script)
      const { rows: live } = await client.query<{ name: string }>(
        `select tablename as name from pg_tables where schemaname = current_schema()`,
      )
      if (live.length > 0) {
        await client.query(
          `truncate ${live.map((t) => quoteIdentifier(t.name)).join(', ')} restart identity cascade`,
        )
      }
      await readLogicalExport(file, async (table, rows) => {
        const target = quoteIdentifier(table)
        // Only the export's columns (every row of a table has the same keys, row_to_json's), so a
        // column the table gained since takes its default: the history's `migration_set`, added
        // after exports without it were written, is the one the migrations do not recreate.
        const columns = Object.keys(JSON.parse(rows[0]!) as Record<string, unknown>)
          .map(quoteIdentifier)
          .join(', ')
        await client.query(
          `insert into ${target} (${columns}) overriding system value select ${columns} from json_populate_recordset(null::${target}, $1::json)`,
          [`[${rows.join(',')}]`],
        )
        if (done === 0) await pausePoint('restore:swap')
        done += rows.length
        options.onProgress?.({ done, total })
      })
      for (const sequence of header.sequences) {
        await client.query('select setval($1::regclass, $2::bigint, $3::boolean)', [
          quoteIdentifier(sequence.name),
          sequence.lastValue,
          sequence.isCalled,
        ])
      }
      await client.query('commit')
    } catch (error) {
      await client.query('rollback').catch(() => {})
      throw error
    }
  }
}
