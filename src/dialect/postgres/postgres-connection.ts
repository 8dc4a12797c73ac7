import type pg from 'pg'
import { ConnectionLostError, DeadlineError } from '../../errors.js'

/** Node's socket errors: the connection (or the attempt to make one) failed, not the statement. */
const SOCKET_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
])

/**
 * SQLSTATEs with which the server ends the session: class 08 (connection exception), 57P01
 * (terminated by an administrator: `pg_terminate_backend`, a fast shutdown), 57P02 (crash
 * shutdown), 57P03 (cannot connect now: starting up or shutting down).
 */
function endsTheSession(state: string): boolean {
  return state.startsWith('08') || state === '57P01' || state === '57P02' || state === '57P03'
}

/**
 * Whether `error` says the connection is gone rather than that the statement failed. pg reports a
 * dead socket with plain Errors that have no code (`Connection terminated unexpectedly`), so the
 * caller also counts what the client's `'error'` event said; here only codes are read.
 */
export function isConnectionFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code !== 'string') return false
  return SOCKET_ERRORS.has(code) || (/^[0-9A-Z]{5}$/.test(code) && endsTheSession(code))
}

/** Whether an error of `connect()` is one of the server's answers about this login (a missing database, a refused password). */
function isServerRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !endsTheSession(code)
}

/** What the lost connection was doing, for the message. */
export type ConnectionStage = 'connecting' | 'a statement' | 'BEGIN'

/** The typed error of a connection that could not be made or was lost. */
export function connectionLost(stage: ConnectionStage, cause: unknown): ConnectionLostError {
  return new ConnectionLostError(
    stage === 'connecting'
      ? 'Cannot reach the database server: no connection to PostgreSQL could be made (down, restarting or unreachable); nothing was written. Retry when it is back.'
      : `The connection to the PostgreSQL server was lost during ${stage}; nothing of this call was committed. Retry when the server is back.`,
    { cause },
  )
}

/** The typed error of a round trip that outlived its deadline. */
export function deadlineExceeded(deadlineMs: number, what: string): DeadlineError {
  return new DeadlineError(
    `No answer from the PostgreSQL server within ${deadlineMs} ms (${what}): the network or the server stalled. ` +
      'The connection was discarded and nothing of this call was committed.',
    deadlineMs,
  )
}

/** Outages seen by one pool's connections, for `db.metrics()`. */
export class ConnectionCounters {
  lost = 0
  deadlines = 0
  commitsUnknown = 0
}

/** The timeouts and counters every connection of a pool shares. */
export interface ConnectionSettings {
  readonly deadlineMs: number
  readonly connectTimeoutMs: number
  readonly counters: ConnectionCounters
}

/**
 * One connection taken from the pool, with everything that keeps a dead connection from
 * hurting the process or the next caller:
 *
 * 1. An `'error'` listener for as long as it is held: pg emits `'error'` on a checked-out client
 *    whose socket dies (server restart, `pg_terminate_backend`, a cut network), and an
 *    EventEmitter without a listener throws that out of the process.
 * 2. A deadline per round trip: when the server does not answer in time the socket is destroyed
 *    (which fails every statement queued on it) and the call gets a DeadlineError, instead of
 *    waiting as long as TCP does.
 * 3. A connection that failed that way is discarded on release, never handed to the next caller.
 */
export class PostgresConnection {
  readonly client: pg.PoolClient
  readonly #deadlineMs: number
  readonly #counters: ConnectionCounters
  /** The socket error pg reported on this connection, once it died. */
  #lost: unknown = undefined
  #broken = false
  readonly #onError = (error: unknown) => {
    if (!this.#broken) this.#counters.lost++
    this.#broken = true
    this.#lost ??= error
  }

  private constructor(client: pg.PoolClient, settings: ConnectionSettings) {
    this.client = client
    this.#deadlineMs = settings.deadlineMs
    this.#counters = settings.counters
    client.on('error', this.#onError)
  }

  /**
   * A connection of `pool`, waiting at most `connectTimeoutMs` (for a new connection, or for a
   * free one of a full pool): then a DeadlineError, and a connection that arrives later goes
   * straight back to the pool. A failure to connect is a ConnectionLostError, except the
   * server's answers about the login itself (a missing database, a refused password), which the
   * dialect's error mapping names.
   */
  static async take(pool: pg.Pool, settings: ConnectionSettings): Promise<PostgresConnection> {
    const { counters } = settings
    const connecting = pool.connect()
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        connecting.then(
          (late) => late.release(),
          () => {},
        )
        counters.deadlines++
        reject(deadlineExceeded(settings.connectTimeoutMs, 'getting a connection'))
      }, settings.connectTimeoutMs)
    })
    let client: pg.PoolClient
    try {
      client = await Promise.race([connecting, expired])
    } catch (error) {
      if (error instanceof DeadlineError || isServerRefusal(error)) throw error
      counters.lost++
      throw connectionLost('connecting', error)
    } finally {
      clearTimeout(timer)
    }
    return new PostgresConnection(client, settings)
  }

  /** Whether the connection died (or was given up on) while held. */
  get broken(): boolean {
    return this.#broken
  }

  /**
   * Sends `query` and waits for its answer, at most the deadline. A statement the server refused
   * is thrown as pg reported it (the dialect maps it by SQLSTATE); a dead connection is a
   * ConnectionLostError, a missed deadline a DeadlineError, both with the driver error as `cause`.
   */
  query(query: pg.QueryConfig | string, stage: ConnectionStage = 'a statement'): Promise<pg.QueryResult> {
    if (this.#broken) return Promise.reject(connectionLost(stage, this.#lost))
    const sent = this.client.query(query as pg.QueryConfig)
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.#broken = true
        this.#counters.deadlines++
        // Destroying the socket fails every statement pipelined behind this one too; pg then
        // emits 'error', which the listener takes.
        this.client.connection.stream.destroy()
        reject(deadlineExceeded(this.#deadlineMs, stage))
      }, this.#deadlineMs)
    })
    return Promise.race([sent, expired]).then(
      (result) => {
        clearTimeout(timer)
        return result
      },
      (error: unknown) => {
        clearTimeout(timer)
        // The statement's own rejection after the deadline fired says nothing new.
        sent.catch(() => {})
        if (error instanceof DeadlineError) throw error
        if (this.#broken || isConnectionFailure(error)) {
          if (!this.#broken) this.#counters.lost++
          this.#broken = true
          throw connectionLost(stage, error)
        }
        throw error
      },
    )
  }

  /** Counts a COMMIT whose answer never came. */
  commitUnknown(): void {
    this.#counters.commitsUnknown++
  }

  /** Marks the connection as not to be reused (its state is unknown). */
  discard(): void {
    this.#broken = true
  }

  /** Gives the connection back to the pool, or ends it when it is broken. */
  release(): void {
    this.client.removeListener('error', this.#onError)
    this.client.release(this.#broken ? true : undefined)
  }
}
