/** Digits `from`…`to` (exclusive) of `text` as a number; -1 when one is not a digit. */
function digits(text: string, from: number, to: number): number {
  let n = 0
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - 48
    if (d < 0 || d > 9) return -1
    n = n * 10 + d
  }
  return n
}

/**
 * `new Date(text)`, computed from the digits for the text `encode` writes
 * (`YYYY-MM-DDTHH:MM:SS.mmmZ`): V8's general date parser costs several times more, and a row of
 * a wide table carries four timestamps. Only fields in the ranges where `Date.UTC` and the parser
 * provably agree take this path (years from 100: `Date.UTC` maps 0–99 to 1900–1999; days up
 * to 28: no month rollover); any other text goes to `new Date`.
 */
export function decodeTimestamp(value: unknown): Date | null {
  if (value === null || value === undefined) return null
  const text = value as string
  if (
    typeof value === 'string' &&
    text.length === 24 &&
    text.charCodeAt(4) === 45 &&
    text.charCodeAt(7) === 45 &&
    text.charCodeAt(10) === 84 &&
    text.charCodeAt(13) === 58 &&
    text.charCodeAt(16) === 58 &&
    text.charCodeAt(19) === 46 &&
    text.charCodeAt(23) === 90
  ) {
    const year = digits(text, 0, 4)
    const month = digits(text, 5, 7)
    const day = digits(text, 8, 10)
    const hour = digits(text, 11, 13)
    const minute = digits(text, 14, 16)
    const second = digits(text, 17, 19)
    const ms = digits(text, 20, 23)
    if (
      year >= 100 &&
      month >= 1 &&
      month <= 12 &&
      day >= 1 &&
      day <= 28 &&
      hour >= 0 &&
      hour <= 23 &&
      minute >= 0 &&
      minute <= 59 &&
      second >= 0 &&
      second <= 59 &&
      ms >= 0
    ) {
      return new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms))
    }
  }
  return new Date(text)
}
