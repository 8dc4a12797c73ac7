import { InvalidUtf8Text } from '../../dialect/sqlite/sqlite-legacy-file.js'
import type { ImportProblem } from '../../errors.js'

/** What the normalisation of legacy values changed, counted over the whole import. */
export interface NormalisationCounts {
  /** GUID texts written in upper case (keys and references), stored lower-case. */
  guidsLowerCased: number
  /** EF `DateTime` texts without a zone, read as the UTC the app writes. */
  timestampsWithoutZone: number
  /** `0001-01-01 00:00:00`, the default a later EF migration gave existing rows. */
  sentinelTimestamps: number
  /** Timestamps with digits below the millisecond (EF writes up to 7), kept to the millisecond. */
  subMillisecondTimestamps: number
  /** Timestamps written with a UTC offset (`+02:00`): stored as that instant in UTC, the offset dropped. */
  timestampsWithOffset: number
}

export function emptyCounts(): NormalisationCounts {
  return {
    guidsLowerCased: 0,
    timestampsWithoutZone: 0,
    sentinelTimestamps: 0,
    subMillisecondTimestamps: 0,
    timestampsWithOffset: 0,
  }
}

const EF_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?(Z|[+-]\d{2}:\d{2})?$/
const UUID_TEXT = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/
/** What EF Core writes for `default(DateTime)` and for rows older than the column. */
export const SENTINEL = /^0001-01-01[ T]00:00:00(?:\.0{1,7})?Z?$/

/** How a sentinel `0001-01-01 00:00:00` is read: as "none" (null), or as another column's time. */
export type Sentinel = 'null' | { readonly sameAs: string }

/**
 * Reads the columns of one legacy row into the fields of its Aura Data table, converting each
 * value from EF Core's storage format. A value that cannot be converted becomes a problem naming
 * the table, the row's key and the column; nothing is guessed.
 */
export class RowReader {
  readonly out: Record<string, unknown> = {}
  /** field → the legacy column it came from, to name it in problems found later. */
  readonly origin: Record<string, string> = {}
  /** Fields whose value could not be read (see {@link hasFailed}); made at the first, as rows rarely have one. */
  #failed: Set<string> | undefined

  constructor(
    readonly table: string,
    readonly key: string,
    readonly row: Record<string, unknown>,
    private readonly problems: ImportProblem[],
    private readonly counts: NormalisationCounts,
  ) {}

  /** Whether the field's value could not be read: its problem is already reported, once. */
  hasFailed(field: string): boolean {
    return this.#failed?.has(field) === true
  }

  #fail(field: string): void {
    ;(this.#failed ??= new Set()).add(field)
  }

  problem(column: string | null, reason: string): void {
    this.problems.push({ table: this.table, key: this.key, column, reason })
  }

  set(field: string, value: unknown, column: string): void {
    this.out[field] = value
    this.origin[field] = column
  }

  private value(field: string, column: string, nullable: boolean): unknown {
    const v = this.row[column]
    if (v === null || v === undefined) {
      if (!nullable) {
        this.problem(column, 'is NULL')
        this.#fail(field)
      }
      return null
    }
    if (v instanceof InvalidUtf8Text) {
      this.problem(column, `is not UTF-8 text (bytes ${v.toString()}); its value cannot be kept as text`)
      this.#fail(field)
      return null
    }
    return v
  }

  text(field: string, column: string, nullable = false): string | null {
    const v = this.value(field, column, nullable)
    if (v === null) return this.keep(field, column, null)
    if (typeof v !== 'string') return this.fail(field, column, `is not text (${typeOf(v)})`)
    return this.keep(field, column, v)
  }

  /** JSON text as the app wrote it, byte for byte (an empty text stays empty). */
  json(field: string, column: string, nullable = true): string | null {
    const v = this.text(field, column, nullable)
    if (v === null || v === '') return v
    try {
      JSON.parse(v)
    } catch {
      return this.fail(field, column, 'is not valid JSON text')
    }
    return v
  }

  guid(field: string, column: string, nullable = false): string | null {
    const v = this.value(field, column, nullable)
    if (v === null) return this.keep(field, column, null)
    if (typeof v !== 'string' || !UUID_TEXT.test(v)) return this.fail(field, column, 'is not a GUID')
    const lower = v.toLowerCase()
    if (lower !== v) this.counts.guidsLowerCased++
    return this.keep(field, column, lower)
  }

  integer(field: string, column: string, nullable = false): number | null {
    const v = this.value(field, column, nullable)
    if (v === null) return this.keep(field, column, null)
    if (typeof v === 'bigint') {
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))
        return this.fail(
          field,
          column,
          'is an integer beyond 2^53, which a JavaScript number cannot hold exactly',
        )
      return this.keep(field, column, Number(v))
    }
    if (typeof v === 'number' && Number.isInteger(v)) return this.keep(field, column, v)
    return this.fail(field, column, `is not an integer (${typeOf(v)})`)
  }

  real(field: string, column: string, nullable = false): number | null {
    const v = this.value(field, column, nullable)
    if (v === null) return this.keep(field, column, null)
    if (typeof v === 'number') return this.keep(field, column, v)
    if (typeof v === 'bigint' && Number.isSafeInteger(Number(v))) return this.keep(field, column, Number(v))
    return this.fail(field, column, `is not a number (${typeOf(v)})`)
  }

  bool(field: string, column: string): boolean | null {
    const v = this.value(field, column, false)
    if (v === null) return null
    if (v === 0n || v === 0) return this.keep(field, column, false)
    if (v === 1n || v === 1) return this.keep(field, column, true)
    return this.fail(field, column, `is not a boolean 0 or 1 (${String(v)})`)
  }

  /**
   * An EF Core `DateTime` text (`yyyy-MM-dd HH:mm:ss.FFFFFFF`, no zone: UTC). `sentinel` says what
   * `0001-01-01 00:00:00` means in this column; without it the sentinel is an ordinary value.
   */
  timestamp(
    field: string,
    column: string,
    options: { nullable?: boolean; sentinel?: Sentinel } = {},
  ): Date | null {
    const v = this.value(field, column, options.nullable ?? false)
    if (v === null) return this.keep(field, column, null)
    if (typeof v !== 'string') return this.fail(field, column, `is not a timestamp text (${typeOf(v)})`)
    if (options.sentinel && SENTINEL.test(v)) {
      this.counts.sentinelTimestamps++
      if (options.sentinel === 'null') return this.keep(field, column, null)
      const other = this.out[options.sentinel.sameAs]
      return this.keep(field, column, other instanceof Date ? other : null)
    }
    const date = parseEfTimestamp(v, this.counts)
    if (!date)
      return this.fail(field, column, `is not an EF Core timestamp (${JSON.stringify(v.slice(0, 40))})`)
    return this.keep(field, column, date)
  }

  private keep<T>(field: string, column: string, value: T): T {
    this.set(field, value, column)
    return value
  }

  private fail(field: string, column: string, reason: string): null {
    this.problem(column, reason)
    this.origin[field] = column
    this.#fail(field)
    return null
  }
}

function typeOf(v: unknown): string {
  if (v instanceof Uint8Array) return 'a BLOB'
  return typeof v === 'bigint' ? 'an integer' : typeof v === 'number' ? 'a number' : typeof v
}

/**
 * Parses EF Core's timestamp text. No zone means UTC (what the app writes); a zone, where one
 * was written, is honoured. Digits below the millisecond are dropped (counted): Aura Data's
 * timestamps hold milliseconds on both dialects.
 */
export function parseEfTimestamp(text: string, counts?: NormalisationCounts): Date | null {
  const m = EF_TIMESTAMP.exec(text)
  if (!m) return null
  const [, y, mo, d, h, mi, s, fraction = '', zone] = m
  const ms = Number(fraction.padEnd(3, '0').slice(0, 3))
  const date = new Date(0)
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d))
  date.setUTCHours(Number(h), Number(mi), Number(s), ms)
  // setUTC* roll an impossible date over (02-30 → 03-02): such a text is not a timestamp.
  if (
    date.getUTCDate() !== Number(d) ||
    date.getUTCHours() !== Number(h) ||
    date.getUTCMonth() !== Number(mo) - 1
  )
    return null
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1
    const [zh, zm] = zone.slice(1).split(':').map(Number) as [number, number]
    date.setTime(date.getTime() - sign * (zh * 60 + zm) * 60_000)
  }
  if (counts) {
    if (!zone) counts.timestampsWithoutZone++
    else if (zone !== 'Z') counts.timestampsWithOffset++
    if (/[1-9]/.test(fraction.slice(3))) counts.subMillisecondTimestamps++
  }
  return date
}
