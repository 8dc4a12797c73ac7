import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The aura-data package root, found by walking up from this file: the same answer whether the
 * code runs from `src/` (tests) or from `dist/src/` (the built CLI).
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const manifest = join(dir, 'package.json')
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'aura-data'
    ) {
      return dir
    }
    const parent = dirname(dir)
    if (parent === dir) throw new Error('aura-data package root not found')
    dir = parent
  }
}

/** The migrations shipped with the package. */
export function defaultMigrationsDir(): string {
  return join(packageRoot(), 'migrations')
}
