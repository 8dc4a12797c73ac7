/**
 * The CommonJS build (`dist/cjs/`), for `require('aura-data')` on every Node 20.
 *
 * tsc emits the ESM build (`dist/src/`) and its declarations; this script transpiles the same
 * `src/` files one by one with esbuild (the engine under tsx and tsup, kept up to date) to
 * CommonJS, without bundling: the file layout, the relative imports and the source maps (into
 * `src/`, which the package ships) stay those of the ESM build. tsc cannot emit this tree itself:
 * with `module: commonjs` it refuses `import.meta.url`, which esbuild replaces with the file URL
 * of `__filename`. The declarations are copied next to the JavaScript; a `package.json` with
 * `"type": "commonjs"` makes Node and TypeScript read both as CommonJS.
 *
 * Not built: the CLI entry point (top-level await; the `aura-db` bin is ESM and never required).
 */
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { build } from 'esbuild'

const root = join(import.meta.dirname, '..')
const out = join(root, 'dist', 'cjs')
const CLI_ENTRY = join('cli', 'main.ts')

const sources = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' }).filter(
  (file) => file.endsWith('.ts') && !file.endsWith('.d.ts') && file !== CLI_ENTRY,
)

rmSync(out, { recursive: true, force: true })
await build({
  entryPoints: sources.map((file) => join(root, 'src', file)),
  outdir: out,
  outbase: join(root, 'src'),
  format: 'cjs',
  platform: 'node',
  // Node 20 has dynamic import(): esbuild keeps it, so ESM migrations load from CommonJS too.
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  define: { 'import.meta.url': '__aura_import_meta_url' },
  banner: {
    js: '"use strict";\nconst __aura_import_meta_url = require("node:url").pathToFileURL(__filename).href;',
  },
})
writeFileSync(join(out, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`)
for (const file of sources) {
  const declaration = file.replace(/\.ts$/, '.d.ts')
  mkdirSync(dirname(join(out, declaration)), { recursive: true })
  copyFileSync(join(root, 'dist', 'src', declaration), join(out, declaration))
}
