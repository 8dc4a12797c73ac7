import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net'

/** What went over the wire between the library and PostgreSQL since the last `reset()`. */
export interface WireCounts {
  /**
   * Times the client sent a request and then had to wait for the server: a Query or Sync
   * message sent while no earlier one was still unanswered (no ReadyForQuery yet). Pipelined
   * requests, sent before the first answer arrives, count as one.
   */
  readonly roundTrips: number
  /** Statements executed: simple-protocol Query messages plus extended-protocol Execute messages. */
  readonly statements: number
}

/**
 * A TCP proxy in front of a PostgreSQL server that reads the frontend/backend protocol going
 * through it and counts round trips and statements: the library under test connects to
 * `url` and is used through its public API only, with nothing in it replaced or hooked.
 * (pg_stat_statements would count statements on the server, but it is an extension the
 * test server need not have, and it cannot tell round trips from statements.)
 *
 * Only plain-text connections are understood: pg sends no SSLRequest unless asked to, and the
 * test server's URL does not ask.
 *
 * @example
 * const counter = await PostgresWireCounter.start(target.url)
 * const db = await openDatabase({ url: counter.url })
 * counter.reset()
 * await db.projectStates.getById(id)
 * expect(counter.counts().roundTrips).toBe(1)
 */
export class PostgresWireCounter {
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  #roundTrips = 0
  #statements = 0
  #url = ''

  private constructor(host: string, port: number) {
    this.#server = createServer((client) => this.#proxy(client, host, port))
  }

  /** The server's URL with the proxy's host and port. */
  get url(): string {
    return this.#url
  }

  /** Listens on a free loopback port and forwards every connection to the server of `targetUrl`. */
  static async start(targetUrl: string): Promise<PostgresWireCounter> {
    const target = new URL(targetUrl)
    const counter = new PostgresWireCounter(target.hostname || '127.0.0.1', Number(target.port || 5432))
    await new Promise<void>((resolve, reject) => {
      counter.#server.once('error', reject)
      counter.#server.listen(0, '127.0.0.1', resolve)
    })
    const proxied = new URL(targetUrl)
    proxied.hostname = '127.0.0.1'
    proxied.port = String((counter.#server.address() as AddressInfo).port)
    counter.#url = proxied.toString()
    return counter
  }

  /** Starts counting from zero. */
  reset(): void {
    this.#roundTrips = 0
    this.#statements = 0
  }

  counts(): WireCounts {
    return { roundTrips: this.#roundTrips, statements: this.#statements }
  }

  /** Stops listening and cuts the connections still open (close the database first). */
  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #proxy(client: Socket, host: string, port: number): void {
    const server = connect(port, host)
    this.#sockets.add(client).add(server)
    // Requests sent and not yet answered by ReadyForQuery, on this connection.
    let unanswered = 0
    const fromClient = new MessageReader(true, (type) => {
      if (type === 'Q' || type === 'E') this.#statements++
      if (type === 'Q' || type === 'S') {
        if (unanswered === 0) this.#roundTrips++
        unanswered++
      }
    })
    // The ReadyForQuery that ends the start-up answers no request: the count stays at zero.
    const fromServer = new MessageReader(false, (type) => {
      if (type === 'Z') unanswered = Math.max(0, unanswered - 1)
    })
    // Counted before forwarding: by the time the client sees an answer, its request is counted.
    client.on('data', (chunk: Buffer) => {
      fromClient.push(chunk)
      server.write(chunk)
    })
    server.on('data', (chunk: Buffer) => {
      fromServer.push(chunk)
      client.write(chunk)
    })
    const end = () => {
      client.destroy()
      server.destroy()
      this.#sockets.delete(client)
      this.#sockets.delete(server)
    }
    client.on('close', end).on('error', end)
    server.on('close', end).on('error', end)
  }
}

/**
 * Splits one direction of a PostgreSQL connection into messages: a type byte and an int32
 * length (which counts itself) per message, except the client's first message (the start-up
 * packet: length, then protocol version) which has no type byte.
 */
class MessageReader {
  #buffer: Buffer = Buffer.alloc(0)
  #started: boolean

  constructor(
    startsWithStartup: boolean,
    private readonly onMessage: (type: string) => void,
  ) {
    this.#started = !startsWithStartup
  }

  push(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk])
    for (;;) {
      if (!this.#started) {
        if (this.#buffer.length < 4) return
        const length = this.#buffer.readInt32BE(0)
        if (this.#buffer.length < length) return
        this.#buffer = this.#buffer.subarray(length)
        this.#started = true
        continue
      }
      if (this.#buffer.length < 5) return
      const length = this.#buffer.readInt32BE(1)
      if (this.#buffer.length < 1 + length) return
      this.onMessage(String.fromCharCode(this.#buffer[0]!))
      this.#buffer = this.#buffer.subarray(1 + length)
    }
  }
}
