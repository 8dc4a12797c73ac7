import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { freePort } from './pg-cluster.js'
import { POSTGRES_URL } from './global-setup.js'

const PGBOUNCER = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'].find((path) => existsSync(path))

/**
 * Starts a PgBouncer of the run's own (Debian's package) in transaction pooling mode in front of
 * the shared PostgreSQL server, on a free loopback port, for the third variant of the library's
 * behaviour tests (`libraryDialects` in test/dialects.ts); stops it when the run ends. Without
 * PgBouncer that variant is skipped, loudly; with AURA_REQUIRE_POSTGRES=1 (CI) that is a failure.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  let port = 0
  let authFile = ''
  let pidFile = ''
  let stop = () => {}
  if (!PGBOUNCER) {
    const message = 'PgBouncer is not installed (apt-get install pgbouncer)'
    if (process.env.AURA_REQUIRE_POSTGRES === '1') throw new Error(`${message} (AURA_REQUIRE_POSTGRES=1)`)
    const bar = '!'.repeat(78)
    console.warn(
      `\n${bar}\n!! ${message}\n!! THE POSTGRESQL-THROUGH-PGBOUNCER VARIANT OF THE SUITE IS SKIPPED.\n${bar}\n`,
    )
  } else {
    const server = new URL(POSTGRES_URL)
    const dir = mkdtempSync(join(tmpdir(), 'aura-pgbouncer-'))
    chmodSync(dir, 0o777)
    port = await freePort()
    authFile = join(dir, 'users.txt')
    pidFile = join(dir, 'pgbouncer.pid')
    writeFileSync(authFile, `"${decodeURIComponent(server.username || 'postgres')}" ""\n`)
    writeFileSync(
      join(dir, 'pgbouncer.ini'),
      [
        '[databases]',
        `* = host=${server.hostname} port=${server.port || 5432}`,
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${port}`,
        'unix_socket_dir =',
        'auth_type = trust',
        `auth_file = ${join(dir, 'users.txt')}`,
        'pool_mode = transaction',
        'max_client_conn = 1000',
        'default_pool_size = 20',
        'server_reset_query =',
        // After a login the server refused (a role without CONNECT, in the hub's tests), PgBouncer
        // waits this long before it tries that user again, holding its clients meanwhile (15 s).
        'server_login_retry = 1',
        `logfile = ${join(dir, 'pgbouncer.log')}`,
        `pidfile = ${join(dir, 'pgbouncer.pid')}`,
        '',
      ].join('\n'),
    )
    // PgBouncer refuses to run as root.
    const command = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--', PGBOUNCER] : [PGBOUNCER]
    const started = spawnSync(command[0]!, [...command.slice(1), '-d', join(dir, 'pgbouncer.ini')], {
      encoding: 'utf8',
    })
    if (started.status !== 0) throw new Error(`PgBouncer did not start: ${started.stderr || started.stdout}`)
    stop = () => {
      try {
        const pid = Number(readFileSync(join(dir, 'pgbouncer.pid'), 'utf8'))
        if (pid > 0) execFileSync('kill', [String(pid)])
      } catch {
        // Already gone.
      }
      rmSync(dir, { recursive: true, force: true })
    }
  }
  project.provide('pgbouncerPort', port)
  project.provide('pgbouncerAuthFile', authFile)
  project.provide('pgbouncerPidFile', pidFile)
  return stop
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgbouncerPort: number
    /** The users PgBouncer lets in (trust); a test that logs in as roles of its own adds them here. */
    pgbouncerAuthFile: string
    /** PgBouncer's pid file: SIGHUP makes it read the users file again. */
    pgbouncerPidFile: string
  }
}
