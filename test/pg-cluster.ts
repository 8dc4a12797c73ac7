import { execFile } from 'node:child_process'
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createServer, Socket, type AddressInfo, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** The server binaries of the installed PostgreSQL (Debian keeps them out of PATH). */
function binDir(): string | null {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return null
  const version = readdirSync(root).sort().at(-1)
  return version ? join(root, version, 'bin') : null
}

/** Why private clusters cannot be made here, or null when they can. */
export function clusterUnavailable(): string | null {
  const bin = binDir()
  if (!bin || !existsSync(join(bin, 'initdb')))
    return 'the PostgreSQL server binaries (initdb, pg_ctl) are not installed'
  return null
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/**
 * A PostgreSQL cluster of the test's own, on its own loopback port and directory: the fault
 * tests stop, crash and restart it, never the shared server. Runs as the postgres user when the
 * tests run as root (initdb refuses root).
 */
export class PgCluster {
  readonly port: number
  readonly #dir: string
  readonly #bin: string
  readonly #asRoot: boolean

  private constructor(dir: string, port: number, bin: string) {
    this.#dir = dir
    this.port = port
    this.#bin = bin
    this.#asRoot = process.getuid?.() === 0
  }

  static async create(): Promise<PgCluster> {
    const bin = binDir()
    if (!bin) throw new Error('PostgreSQL server binaries not found')
    const dir = mkdtempSync(join(tmpdir(), 'aura-pgcluster-'))
    const cluster = new PgCluster(dir, await freePort(), bin)
    if (cluster.#asRoot) await run('chown', ['postgres:postgres', dir])
    await cluster.#tool('initdb', [
      '-D',
      cluster.#data,
      '-A',
      'trust',
      '-U',
      'postgres',
      '--no-sync',
      '-E',
      'UTF8',
    ])
    await cluster.start()
    return cluster
  }

  get #data(): string {
    return join(this.#dir, 'data')
  }

  async #tool(name: string, args: readonly string[]): Promise<string> {
    const path = join(this.#bin, name)
    const { stdout } = this.#asRoot
      ? await run('runuser', ['-u', 'postgres', '--', path, ...args], { timeout: 120_000 })
      : await run(path, [...args], { timeout: 120_000 })
    return stdout
  }

  /** `postgres://postgres@127.0.0.1:<port>/<database>`. */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`
  }

  /**
   * A streaming replica of this cluster (`pg_basebackup -R`), started on a port of its own.
   * Its `recovery_min_apply_delay` starts at `applyDelay` (a PostgreSQL interval such as
   * `'1h'`): commits reach it at once but are replayed only that much later.
   */
  async createReplica(applyDelay: string): Promise<PgCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'aura-pgreplica-'))
    const replica = new PgCluster(dir, await freePort(), this.#bin)
    if (replica.#asRoot) await run('chown', ['postgres:postgres', dir])
    await replica.#tool('pg_basebackup', [
      '-D',
      replica.#data,
      '-R',
      '-h',
      '127.0.0.1',
      '-p',
      String(this.port),
      '-U',
      'postgres',
      // Not a spread checkpoint: that would wait for most of checkpoint_timeout.
      '--checkpoint=fast',
    ])
    // In postgresql.auto.conf, not on the command line (which would win over a later change).
    appendFileSync(
      join(replica.#data, 'postgresql.auto.conf'),
      `recovery_min_apply_delay = '${applyDelay}'\n`,
    )
    await replica.start()
    return replica
  }

  /** Changes a replica's `recovery_min_apply_delay` and reloads the configuration. */
  async setApplyDelay(applyDelay: string): Promise<void> {
    const file = join(this.#data, 'postgresql.auto.conf')
    const kept = readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => !line.startsWith('recovery_min_apply_delay'))
    writeFileSync(
      file,
      [...kept.filter((line) => line !== ''), `recovery_min_apply_delay = '${applyDelay}'`, ''].join('\n'),
    )
    await this.#tool('pg_ctl', ['-D', this.#data, 'reload'])
  }

  async start(): Promise<void> {
    const options = `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.#dir} -c fsync=off -c full_page_writes=off`
    await this.#tool('pg_ctl', ['-D', this.#data, '-o', options, '-l', join(this.#dir, 'log'), '-w', 'start'])
  }

  /** `fast` ends sessions with 57P01; `immediate` is a crash (no checkpoint, recovery at the next start). */
  async stop(mode: 'fast' | 'immediate'): Promise<void> {
    await this.#tool('pg_ctl', ['-D', this.#data, '-m', mode, '-w', 'stop'])
  }

  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => {})
    rmSync(this.#dir, { recursive: true, force: true })
  }
}

/**
 * A TCP relay on loopback between the library and a server, to fault the network itself:
 * `stall()` stops passing bytes both ways (a stalled network: the sockets stay open, nothing
 * arrives), `cut()` resets every relayed connection (a cable pulled).
 */
export class FlakyRelay {
  readonly port: number
  readonly #server: Server
  readonly #pairs = new Set<{ client: Socket; upstream: Socket }>()
  #stalled = false

  private constructor(server: Server, port: number) {
    this.#server = server
    this.port = port
  }

  static async open(targetPort: number): Promise<FlakyRelay> {
    const holder: { relay?: FlakyRelay } = {}
    const server = createServer((client) => {
      const relay = holder.relay
      const upstream = new Socket()
      upstream.connect(targetPort, '127.0.0.1')
      const pair = { client, upstream }
      relay!.#pairs.add(pair)
      const drop = () => {
        client.destroy()
        upstream.destroy()
        relay!.#pairs.delete(pair)
      }
      client.on('error', drop).on('close', drop)
      upstream.on('error', drop).on('close', drop)
      client.on('data', (chunk) => {
        if (!relay!.#stalled) upstream.write(chunk)
      })
      upstream.on('data', (chunk) => {
        if (!relay!.#stalled) client.write(chunk)
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    holder.relay = new FlakyRelay(server, (server.address() as AddressInfo).port)
    return holder.relay
  }

  /** Bytes are dropped both ways until {@link resume}. */
  stall(): void {
    this.#stalled = true
  }

  resume(): void {
    this.#stalled = false
  }

  /** Resets every relayed connection; new ones are relayed as before. */
  cut(): void {
    for (const { client, upstream } of this.#pairs) {
      client.resetAndDestroy()
      upstream.destroy()
    }
    this.#pairs.clear()
  }

  async close(): Promise<void> {
    this.cut()
    await new Promise((resolve) => this.#server.close(resolve))
  }
}
