import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

/**
 * The Content-Security-Policy of every response: nothing but the studio's own script, style and
 * requests; no inline script or style, no frames, forms only to the studio.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ')

/** Headers every response carries, whatever its status. No CORS header is ever sent. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  // Not no-referrer: under it Chromium sends `Origin: null` with a form POST, which the origin
  // check must refuse. The token never stays in a URL (it is swapped for a cookie at once).
  'Referrer-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
}

/** A random secret of one run: 32 bytes, base64url (URL- and cookie-safe). */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url')
}

/**
 * Whether `given` equals `secret`, in time that does not depend on where they differ. Both are
 * hashed first: `timingSafeEqual` needs equal lengths, and comparing lengths would leak one.
 */
export function secretMatches(given: string | null | undefined, secret: string): boolean {
  if (typeof given !== 'string') return false
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(secret).digest()
  return timingSafeEqual(a, b)
}

/**
 * The DNS-rebinding defence: a page of another site that resolves its own name to 127.0.0.1
 * reaches the studio with its own name in `Host` (and its origin in `Origin`). Only requests
 * addressed to the bound address itself are served.
 */
export function addressedToStudio(req: IncomingMessage, host: string): boolean {
  if (req.headers.host !== host) return false
  const origin = req.headers.origin
  return origin === undefined || origin === `http://${host}`
}

/** The value of cookie `name` in the request, or null. */
export function cookieValue(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return null
}
