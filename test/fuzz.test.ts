/**
 * Property-based tests through the public API, on both dialects: hostile strings, numbers, dates,
 * JSON values, filters and paging. The property of every call: it stores the value and reads
 * back an equal one, or it throws an AuraDataError with a documented code (never a raw driver
 * error, TypeError or RangeError, and never the catch-all DatabaseError, which would mean input
 * reached the database unchecked); a refused write leaves the database unchanged; and `verify`
 * passes at the end.
 *
 * Fixed seed; `FUZZ_RUNS` sets the runs per property (default below), e.g. `FUZZ_RUNS=2000`.
 */
import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import {
  AuraDataError,
  ERROR_CODES,
  projectStatesTable,
  verifyDatabase,
  type AuraDatabase,
  type ProjectState,
} from '../src/index.js'
import { dialects } from './dialects.js'
import { PROTOTYPE_NAMES, useMigratedDatabase } from './helpers.js'

const SEED = 20_261_202
const RUNS = Number(process.env.FUZZ_RUNS ?? 200)
const options = { seed: SEED, numRuns: RUNS, endOnFailure: true }
/** Per property: generous for the default runs on a busy machine, and growing with FUZZ_RUNS. */
const TIMEOUT = Math.max(120_000, RUNS * 300)

/** How many cases ran, per dialect and property, for the report at the end. */
const casesRun = new Map<string, number>()

/** One UTF-16 code unit of any value: lone surrogates included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))

const specialText = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\ud83c',
  '\ud83c\udfac',
  '\uffff\ufffe\ufdd0',
  'مرحبا بالعالم',
  '\u202eevil\u202c',
  'עברית',
  '%_\\',
  'it\'s "quoted"',
  'e\u0301',
  '\u00e9',
  'Ω',
  'ABC abc',
)

/** Strings from all of Unicode, lone surrogates and the 1 MB case included. */
const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ unit: codeUnit, maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 3, arbitrary: specialText },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom('x', 'é', '🎬', '\u0000', '\ud800', 'ﷺ'),
        fc.constantFrom(499, 500, 501, 2001, 1 << 20),
      )
      .map(([unit, n]) => unit.repeat(n)),
  },
)

const number = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.integer({ min: 0, max: 100 }),
  fc.constantFrom(
    NaN,
    Infinity,
    -Infinity,
    -0,
    0,
    2 ** 53 + 1,
    2 ** 53,
    1e300,
    -1e300,
    5e-324,
    2 ** 31,
    -(2 ** 31) - 1,
    0.1,
  ),
)

const date = fc.oneof(
  fc.date({ noInvalidDate: false }),
  fc.date({ min: new Date('0001-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z') }),
  fc.constantFrom(
    new Date(-8.64e15),
    new Date(8.64e15),
    new Date(NaN),
    new Date('0001-01-01T00:00:00.000Z'),
    new Date(Date.parse('0001-01-01T00:00:00.000Z') - 1),
    new Date('9999-12-31T23:59:59.999Z'),
    new Date(Date.parse('9999-12-31T23:59:59.999Z') + 1),
    new Date('1970-01-01T00:00:00.000Z'),
  ),
)

const hostile = fc.anything({
  maxDepth: 3,
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
})

/** Any value a caller could pass for a field. */
const value = fc.oneof(
  { weight: 4, arbitrary: text },
  { weight: 2, arbitrary: number },
  { weight: 2, arbitrary: date },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: hostile },
  { weight: 1, arbitrary: fc.json() },
)

const projectFields: readonly string[] = projectStatesTable.fields.filter((f) => f !== 'id')
const fieldName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...projectFields) },
  { weight: 2, arbitrary: fc.constantFrom(...PROTOTYPE_NAMES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
)
const operatorName = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom('eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'contains', 'startsWith'),
  },
  { weight: 2, arbitrary: fc.constantFrom(...PROTOTYPE_NAMES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
)
const operand = fc.oneof(
  { weight: 5, arbitrary: value },
  { weight: 2, arbitrary: fc.array(value, { maxLength: 6 }) },
)

/** Builds an object with the given own entries (`__proto__` as an own key, as JSON.parse makes it). */
function objectOf(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, v] of entries)
    Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true })
  return out
}

/** A value of the field's own kind most of the time (so that many writes are stored), any value otherwise. */
function valueFor(field: string): fc.Arbitrary<unknown> {
  const spec = Object.hasOwn(projectStatesTable.columns, field)
    ? projectStatesTable.columns[field as keyof typeof projectStatesTable.columns]
    : undefined
  if (!spec) return value
  const typed: fc.Arbitrary<unknown> =
    spec.enumValues !== undefined
      ? fc.constantFrom(...spec.enumValues)
      : spec.kind === 'json'
        ? fc.json()
        : spec.kind === 'int' || spec.kind === 'bigint' || spec.kind === 'real'
          ? fc.oneof(fc.integer({ min: 0, max: 100 }), number)
          : spec.kind === 'timestamp'
            ? date
            : spec.kind === 'bool'
              ? fc.boolean()
              : text
  return fc.oneof({ weight: 4, arbitrary: typed }, { weight: 1, arbitrary: value })
}

const fields = fc
  .array(
    fieldName.chain((name) => valueFor(name).map((v) => [name, v] as const)),
    { maxLength: 6 },
  )
  .map(objectOf)
/** Fields of a new project: a title first (often a valid one), then any fields. */
const newProject = fc
  .tuple(fc.oneof(text, fc.constantFrom('A title', 'Ünïcödé 🎬', 'x')), fields)
  .map(([title, rest]) => objectOf([['title', title], ...Object.entries(rest)]))
const filter = fc
  .array(
    fc.tuple(
      fieldName,
      fc.oneof(value, fc.array(fc.tuple(operatorName, operand), { maxLength: 3 }).map(objectOf)),
    ),
    { maxLength: 4 },
  )
  .map(objectOf)
const paging = fc.record(
  {
    limit: fc.oneof(number, fc.constant(undefined), hostile),
    offset: fc.oneof(number, fc.constant(undefined), hostile),
    orderBy: fc.oneof(
      fc.constant(undefined),
      fc
        .array(fc.tuple(fieldName, fc.oneof(fc.constantFrom('asc', 'desc'), value)), { maxLength: 3 })
        .map(objectOf),
    ),
    includeDeleted: fc.oneof(fc.boolean(), fc.constant(undefined)),
  },
  { requiredKeys: [] },
)

/** The error of a refused call must be one of ours, with a documented code, and not the catch-all. */
function expectAuraError(error: unknown): asserts error is AuraDataError {
  if (!(error instanceof AuraDataError)) {
    throw new Error(`a raw error escaped: ${String(error)}`, { cause: error })
  }
  expect(ERROR_CODES).toContain(error.code)
  if (error.code === 'AURA_DATABASE')
    throw new Error(`unchecked input reached the database: ${error.message}`, { cause: error })
}

/** Field values as written, compared with what was read back: dates by instant, numbers by value. */
function sameField(written: unknown, read: unknown): boolean {
  if (written instanceof Date) return read instanceof Date && read.getTime() === written.getTime()
  if (typeof written === 'number') return read === written
  return written === read
}

/**
 * Deep equality of a JSON value read back with the one written: primitives by `Object.is` (so
 * -0 is not 0), arrays element by element, objects by own keys, whether their prototype is
 * `Object.prototype` or null (JSON has no prototypes; `JSON.parse` gives plain objects).
 */
function sameJson(read: unknown, written: unknown): boolean {
  if (typeof written !== 'object' || written === null) return Object.is(read, written)
  if (typeof read !== 'object' || read === null) return false
  if (Array.isArray(written)) {
    return (
      Array.isArray(read) && read.length === written.length && written.every((w, i) => sameJson(read[i], w))
    )
  }
  if (Array.isArray(read)) return false
  const keys = Object.keys(written)
  return (
    isDeepStrictEqual(Object.keys(read).sort(), [...keys].sort()) &&
    keys.every((key) =>
      sameJson((read as Record<string, unknown>)[key], (written as Record<string, unknown>)[key]),
    )
  )
}

/** The rows and audit entries, to show a refused write changed nothing. */
async function fingerprint(db: AuraDatabase): Promise<[number, number]> {
  return [await db.projectStates.count({}, { includeDeleted: true }), await db.auditEntries.count()]
}

/**
 * Counts a case, and yields to the event loop once per case: on SQLite every call may complete
 * synchronously (see README), and a long run on microtasks alone starves vitest's worker RPC.
 */
async function count(name: string): Promise<void> {
  casesRun.set(name, (casesRun.get(name) ?? 0) + 1)
  await new Promise(setImmediate)
}

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: property-based hostile input`, () => {
    const ctx = useMigratedDatabase(d, { actor: 'fuzz' })

    it(
      'add: stores exactly what was given, or refuses with an AuraDataError and writes nothing',
      async () => {
        const { db } = ctx
        await fc.assert(
          fc.asyncProperty(newProject, async (input) => {
            await count(`${d.name} add`)
            const before = await fingerprint(db)
            let added: ProjectState
            try {
              added = await db.projectStates.add(input as never)
              await count(`${d.name} add: stored`)
            } catch (error) {
              expectAuraError(error)
              expect(await fingerprint(db)).toEqual(before)
              return
            }
            for (const [field, given] of Object.entries(input)) {
              if (given === undefined || !projectFields.includes(field)) continue
              const managed =
                projectStatesTable.columns[field as keyof typeof projectStatesTable.columns].managed
              if (!managed)
                expect(sameField(given, (added as Record<string, unknown>)[field]), field).toBe(true)
            }
            expect(await db.projectStates.getById(added.id)).toEqual(added)
          }),
          options,
        )
      },
      TIMEOUT,
    )

    it(
      'update: applies exactly the given changes, or refuses and leaves the row as it was',
      async () => {
        const { db } = ctx
        const project = await db.projectStates.add({ title: 'to be updated' })
        let current = project
        await fc.assert(
          fc.asyncProperty(fields, async (changes) => {
            await count(`${d.name} update`)
            const before = await fingerprint(db)
            let updated: ProjectState
            try {
              updated = await db.projectStates.update({
                ...changes,
                id: current.id,
                rowVersion: current.rowVersion,
              } as never)
              await count(`${d.name} update: stored`)
            } catch (error) {
              expectAuraError(error)
              expect(await fingerprint(db)).toEqual(before)
              expect(await db.projectStates.getById(current.id)).toEqual(current)
              return
            }
            for (const [field, given] of Object.entries(changes)) {
              if (given === undefined || !projectFields.includes(field)) continue
              const managed =
                projectStatesTable.columns[field as keyof typeof projectStatesTable.columns].managed
              if (!managed)
                expect(sameField(given, (updated as Record<string, unknown>)[field]), field).toBe(true)
            }
            expect(await db.projectStates.getById(current.id)).toEqual(updated)
            current = updated
          }),
          options,
        )
      },
      TIMEOUT,
    )

    it(
      'configurations: a value reads back deep-equal (-0 and all), or is refused naming the value',
      async () => {
        const { db } = ctx
        let n = 0
        await fc.assert(
          fc.asyncProperty(fc.oneof(fc.jsonValue(), hostile, number, text), async (given) => {
            await count(`${d.name} configurations`)
            const key = `fuzz.${n++}`
            try {
              await db.configurations.set(key, given as never, { category: 'Fuzz' })
              await count(`${d.name} configurations: stored`)
            } catch (error) {
              expectAuraError(error)
              expect(error.code).toBe('AURA_VALIDATION')
              expect(await db.configurations.get(key)).toBeNull()
              return
            }
            const back = await db.configurations.getValue(key)
            if (!sameJson(back, given)) {
              throw new Error(
                `read back ${String(JSON.stringify(back))} for ${String(JSON.stringify(given))}`,
              )
            }
          }),
          options,
        )
      },
      TIMEOUT,
    )

    it(
      'find, count, any: any filter and paging gives rows or an AuraDataError',
      async () => {
        const { db } = ctx
        await fc.assert(
          fc.asyncProperty(filter, paging, async (where, page) => {
            await count(`${d.name} find`)
            for (const call of [
              () => db.projectStates.find(where as never, page as never),
              () => db.projectStates.count(where as never, page as never),
              () => db.projectStates.any(where as never),
              () => db.sceneStates.find(where as never, page as never),
            ]) {
              try {
                const result = await call()
                expect(
                  Array.isArray(result) || typeof result === 'number' || typeof result === 'boolean',
                ).toBe(true)
              } catch (error) {
                expectAuraError(error)
              }
            }
          }),
          options,
        )
      },
      TIMEOUT,
    )

    it(
      'text filters find a stored title by eq, in, contains and startsWith, whatever its characters',
      async () => {
        const { db } = ctx
        await fc.assert(
          fc.asyncProperty(text, fc.nat(), fc.nat(), async (title, a, b) => {
            await count(`${d.name} text filters`)
            let project: ProjectState
            try {
              project = await db.projectStates.add({ title })
              await count(`${d.name} text filters: stored`)
            } catch (error) {
              expectAuraError(error)
              return
            }
            const from = Math.min(a, b) % (title.length + 1)
            const to = Math.max(a, b) % (title.length + 1)
            const ids = async (where: object) =>
              (await db.projectStates.find(where as never)).map((p) => p.id)
            expect(await ids({ title })).toContain(project.id)
            expect(await ids({ title: { in: ['other', title] } })).toContain(project.id)
            for (const [op, part] of [
              ['contains', title.slice(Math.min(from, to), Math.max(from, to))],
              ['startsWith', title.slice(0, to)],
            ] as const) {
              try {
                const found = await ids({ title: { [op]: part } })
                expect(found, `${op} ${JSON.stringify(part)}`).toContain(project.id)
              } catch (error) {
                // Slicing can cut a surrogate pair in two: refused like any lone surrogate.
                expectAuraError(error)
                expect(error.code).toBe('AURA_VALIDATION')
              }
            }
          }),
          options,
        )
      },
      TIMEOUT,
    )

    it(
      'timestamps: a stored date reads back to the millisecond and range filters order it like the clock',
      async () => {
        const { db } = ctx
        await fc.assert(
          fc.asyncProperty(date, date, async (when, probe) => {
            await count(`${d.name} dates`)
            let project: ProjectState
            try {
              project = await db.projectStates.add({ title: 'dated', completedAt: when })
              await count(`${d.name} dates: stored`)
            } catch (error) {
              expectAuraError(error)
              expect(error.code).toBe('AURA_VALIDATION')
              return
            }
            expect((await db.projectStates.getById(project.id))?.completedAt?.getTime()).toBe(when.getTime())
            const matches = async (op: string) => {
              try {
                return (
                  (await db.projectStates.count({
                    id: project.id,
                    completedAt: { [op]: probe },
                  } as never)) === 1
                )
              } catch (error) {
                expectAuraError(error)
                expect(error.code).toBe('AURA_VALIDATION')
                return null
              }
            }
            const t = when.getTime()
            const p = probe.getTime()
            const expected = { lt: t < p, lte: t <= p, gt: t > p, gte: t >= p, eq: t === p, ne: t !== p }
            for (const [op, holds] of Object.entries(expected)) {
              const found = await matches(op)
              if (found !== null)
                expect(found, `${when.toISOString()} ${op} ${String(probe.getTime())}`).toBe(holds)
            }
          }),
          options,
        )
      },
      TIMEOUT,
    )

    it(
      'template search: any criteria give templates or an AuraDataError',
      async () => {
        const { db } = ctx
        await fc.assert(
          fc.asyncProperty(
            fc.record(
              {
                text: fc.oneof(text, value),
                category: fc.oneof(text, value),
                tags: fc.oneof(text, fc.array(text, { maxLength: 4 }), value),
                limit: fc.oneof(number, value),
              },
              { requiredKeys: [] },
            ),
            async (search) => {
              await count(`${d.name} template search`)
              for (const call of [
                () => db.templates.search(search as never),
                () => db.customTemplates.search(search as never),
              ]) {
                try {
                  expect(Array.isArray(await call())).toBe(true)
                } catch (error) {
                  expectAuraError(error)
                }
              }
            },
          ),
          options,
        )
      },
      TIMEOUT,
    )

    it('verify passes after all of it', async () => {
      const report = await verifyDatabase(ctx.db)
      expect(report.checks.filter((c) => !c.ok)).toEqual([])
    })
  })
}

afterAll(() => {
  const total = [...casesRun]
    .filter(([name]) => !name.endsWith(': stored'))
    .reduce((sum, [, n]) => sum + n, 0)
  console.log(`fuzz: seed ${SEED}, ${RUNS} runs per property, ${total} cases:`, Object.fromEntries(casesRun))
})
