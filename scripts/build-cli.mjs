/**
 * The `aura-db` bin's bundle (`dist/cli/aura-db.mjs`): the CLI entry of the ESM build
 * (`dist/src/cli/main.js`, type-checked by tsc) and the packages it imports, in one file.
 *
 * Why: a command is a fresh process, and Node loads an ES module graph file by file. Unbundled,
 * `aura-db status` read some 600 modules (Kysely alone ships hundreds) before doing anything,
 * which was half of its run time; bundled it starts in about half the time. The library entry
 * points (`dist/src`, `dist/cjs`) stay unbundled, so an application shares one Kysely and one pg
 * with its own code; the CLI is a program and holds its own copies.
 *
 * Left outside the bundle, resolved from node_modules as before:
 * - better-sqlite3: a native addon, found through its package directory;
 * - pg-native: pg's optional native binding, not installed;
 * - tsx: the optional peer that runs an application's TypeScript migrations and schema module;
 * - open: it starts the `xdg-open` script it ships next to its own files.
 *
 * No source map: its sources would point into node_modules paths that differ between this
 * checkout and an installed package. The bundle is not minified, and esbuild marks each
 * module's part with its path (`// dist/src/cli/program.js`), so a stack trace stays readable.
 */
import { build } from 'esbuild'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..')

await build({
  entryPoints: [join(root, 'dist', 'src', 'cli', 'main.js')],
  outfile: join(root, 'dist', 'cli', 'aura-db.mjs'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', 'pg-native', 'tsx', 'tsx/*', 'open'],
  // Bundled CommonJS packages (pg, commander) call require() for Node's modules and for the
  // externals; an ES module has no require of its own.
  banner: {
    js: "import { createRequire as __auraCreateRequire } from 'node:module'\nconst require = __auraCreateRequire(import.meta.url)",
  },
  logLevel: 'warning',
})
