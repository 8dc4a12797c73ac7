import { sql } from 'kysely'
import { html } from './html.js'
import { link, page, prettyJson, table, when } from './layout.js'
import { htmlResponse, type Route } from './routes.js'

/** What the page shows instead of a sensitive value. */
export const MASK = '•••••• (sensitive)'

export const configurationRoutes: readonly Route[] = [
  {
    method: 'GET',
    path: /^\/configuration$/,
    async handle(ctx) {
      const { dialect } = ctx.db
      await ctx.db.ready()
      // A sensitive value is never read: the database returns NULL in its place, so neither its
      // ciphertext nor (through the repository, which decrypts) its plaintext reaches this
      // process, let alone the page. No secret key is needed to look at the settings.
      const rows = await dialect.kysely
        .selectFrom('configurations')
        .select([
          'key',
          'category',
          'value_type',
          'description',
          'is_sensitive',
          'is_active',
          'updated_at',
          'modified_by',
          'row_version',
          sql<string | null>`case when is_sensitive = ${dialect.encode('bool', false)} then value end`.as(
            'visible_value',
          ),
        ])
        .orderBy('category')
        .orderBy('key')
        .execute()
      const body = html`<p class="hint">
          Sensitive values are masked by the server: they are not read from the database.
        </p>
        ${table(
          ['Category', 'Key', 'Type', 'Value', 'Description', 'Active', 'Updated (UTC)', 'By', 'Version'],
          rows.map((row) => {
            const sensitive = dialect.decode('bool', row.is_sensitive) === true
            const value = row.visible_value as string | null
            return [
              row.category as string,
              html`<a href="${link('/audit', { table: 'configurations', row: row.key as string })}"
                >${row.key as string}</a
              >`,
              row.value_type as string,
              sensitive
                ? html`<span class="masked">${MASK}</span>`
                : row.value_type === 'json'
                  ? html`<pre class="json">${prettyJson(value)}</pre>`
                  : value,
              (row.description as string | null) ?? '—',
              dialect.decode('bool', row.is_active) ? 'yes' : 'no',
              when(dialect.decode('timestamp', row.updated_at) as Date),
              (row.modified_by as string | null) ?? '—',
              Number(row.row_version),
            ]
          }),
          'No settings.',
        )}`
      return htmlResponse(page(ctx, 'Configuration', body))
    },
  },
]
