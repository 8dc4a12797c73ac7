/**
 * Removes `dist/` before a build. tsc and esbuild only add and overwrite: the output of a source
 * file that was moved or deleted would stay, be packed and ship a source map that points at
 * nothing.
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'

rmSync(join(import.meta.dirname, '..', 'dist'), { recursive: true, force: true })
