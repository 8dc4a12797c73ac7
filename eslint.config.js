import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

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
