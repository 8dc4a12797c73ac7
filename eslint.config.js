import path from 'node:path'
import { fileURLToPath } from 'node:url'
import js from '@eslint/js'
import { createNodeResolver, importX } from 'eslint-plugin-import-x'
import globals from 'globals'
import tseslint from 'typescript-eslint'

const root = path.dirname(fileURLToPath(import.meta.url))

/**
 * The layers of src/, lowest first (ARCHITECTURE.md says what each does). A file may import its
 * own layer and the layers below it, never one above: the zones below are generated from this list.
 */
const LAYERS = [
  { name: 'base', paths: ['src/errors.ts', 'src/paths.ts', 'src/pause-point.ts', 'src/config.ts'] },
  { name: 'schema', paths: ['src/schema'] },
  { name: 'dialect', paths: ['src/dialect'] },
  { name: 'migration', paths: ['src/migration'] },
  { name: 'domain', paths: ['src/domain'] },
  { name: 'repository', paths: ['src/repository'] },
  { name: 'unit of work', paths: ['src/unit-of-work.ts'] },
  { name: 'operations', paths: ['src/operations'] },
  { name: 'database', paths: ['src/database.ts'] },
  { name: 'entry points', paths: ['src/index.ts', 'src/cli', 'src/studio'] },
]

/*
 * Operations take the open database as a parameter (`verifyDatabase(db)`), so they may name its
 * type; a value import would close a cycle, since database.ts runs operations/backup.ts. That
 * one allowance is checked by @typescript-eslint/no-restricted-imports below, which knows
 * `import type`; no-restricted-paths does not.
 */
const TYPE_ONLY = { operations: ['src/database.ts'] }

const layerZones = LAYERS.flatMap((lower, i) =>
  LAYERS.slice(i + 1).flatMap((higher) => {
    const from = higher.paths.filter((p) => !TYPE_ONLY[lower.name]?.includes(p))
    if (from.length === 0) return []
    return [
      {
        target: lower.paths,
        from,
        message: `The ${lower.name} layer may not import the ${higher.name} layer above it; move the shared piece down (ARCHITECTURE.md).`,
      },
    ]
  }),
)

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test/.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The dialect seam: only src/dialect/<name>/ may talk to a driver directly.
    files: ['src/**/*.ts'],
    ignores: ['src/dialect/sqlite/**', 'src/dialect/postgres/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'better-sqlite3', message: 'Only src/dialect/sqlite/ may import the SQLite driver.' },
            { name: 'pg', message: 'Only src/dialect/postgres/ may import the PostgreSQL driver.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // Sources import each other by their emitted name (`./session.js`) and live as `.ts`;
      // no-cycle follows only the files whose extension is listed here.
      'import-x/resolver-next': [createNodeResolver({ extensionAlias: { '.js': ['.ts', '.js'] } })],
      'import-x/extensions': ['.ts', '.js'],
    },
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          basePath: root,
          zones: [
            ...layerZones,
            {
              target: 'src/index.ts',
              from: ['src/cli', 'src/studio'],
              message: 'The library entry does not ship the CLI or the studio.',
            },
            {
              // The rest of the code reaches a database through the seam's roles (dialect.ts,
              // driver.ts, …, and index.ts, which creates a dialect from a URL), never through one
              // database's own files. The EF importer reads the .NET app's SQLite file, whatever
              // the target, with the legacy-file reader.
              target: LAYERS.flatMap((layer) => (layer.name === 'dialect' ? [] : layer.paths)),
              from: ['src/dialect/sqlite', 'src/dialect/postgres'],
              except: ['./sqlite-legacy-file.ts'],
              message:
                'Only src/dialect/ may import the files of one database (sqlite/, postgres/); use the seam: AuraDialect and the dialect/*.ts roles.',
            },
          ],
        },
      ],
      'import-x/no-cycle': 'error',
    },
  },
  {
    files: ['src/operations/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/database.js'],
              allowTypeImports: true,
              message:
                'Operations may import only the type of the database (`import type`): database.ts imports operations.',
            },
          ],
        },
      ],
    },
  },
  {
    // The studio's page script and the tests' page helpers run in the browser.
    files: ['assets/**/*.js', 'test/**/*.browser.js'],
    languageOptions: { globals: globals.browser },
  },
  {
    // Migrations are frozen in time: they never import application code.
    files: ['migrations/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['../src/*', '../**/src/*', '*/dist/*'] }],
    },
  },
)
