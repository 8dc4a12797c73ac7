import { describe, expect, it } from 'vitest'
import { expectOneLineError, runCli, runCliJson } from './cli-helpers.js'

// PostgreSQL only: a SQLite database is a file, never a host to reach (issue 23, item 11).
describe('postgres: a server that cannot be reached', () => {
  // A refused port, and an address in IPv6's discard prefix (RFC 6666) that no route leads to;
  // the connection timeout only keeps a machine that routes it from waiting for the system's.
  for (const url of ['postgres://postgres@127.0.0.1:1/aura', 'postgres://postgres@[100::1]:5432/aura']) {
    it(`${url}: exit 1, the network's reason in the message and a hint on what to check`, async () => {
      const env = { AURA_PG_CONNECT_TIMEOUT_MS: '3000' }
      const run = await runCli(['--db', url, 'status'], env)
      expect(run.code).toBe(1)
      const [message, hint] = expectOneLineError(run.stderr)
      // Refused at once, or unanswered until the connection timeout (then no network code).
      expect(message).toMatch(/\(E[A-Z]+ \S+\)$|No answer/)
      expect(hint).toMatch(/^hint: Check the host and port in --db/)
      const json = await runCliJson(['--db', url, 'status'], env)
      expect(json.json.error.hint).toMatch(/host and port/)
    })
  }
})
