import { readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyMigrations, runCliJson } from './cli-helpers.js'

// `add` needs no database: it only names and writes a file, so this runs once, not per dialect.
describe('aura-db add: naming', () => {
  let migrations: string
  beforeAll(() => {
    migrations = copyMigrations()
  })
  afterAll(() => rmSync(join(migrations, '..'), { recursive: true, force: true }))

  it('names a new migration so that it sorts last, even after one timestamped in the future', async () => {
    // A migration written on a machine whose clock ran ahead: a plain "now" would sort before it.
    const future = '20991231235959_FromTheFuture'
    writeFileSync(
      join(migrations, `${future}.ts`),
      'export async function up() {}\nexport async function down() {}\n',
    )
    const added = await runCliJson(['--migrations-dir', migrations, 'add', 'AfterTheFuture', '--empty'])
    expect(added.code).toBe(0)
    // One second after the newest, across the day, month and year boundary.
    expect(added.json.name).toBe('21000101000000_AfterTheFuture')
    expect(readdirSync(migrations).sort().at(-1)).toBe(`${added.json.name}.ts`)
  })
})
