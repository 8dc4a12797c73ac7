import type { CompiledQuery } from 'kysely'
import { contentHash, utf8Size, verifyContent } from '../domain/content-hash.js'
import { VERSION_HASH_COLUMNS } from '../schema/project-versions.js'
import { ConcurrencyError, NotFoundError, ValidationError } from '../errors.js'
import {
  type ContentBlob,
  type ContentBlobsTable,
  type NewContentBlob,
  type ContentBlobUpdate,
} from '../schema/content-blobs.js'
import { Repository } from './repository.js'
import { txRows, type Row, type Session, type TxContext } from './session.js'
import { validateInsert, validateKey } from './validation.js'

/** What `contentBlobs.collectGarbage()` removed. */
export interface GarbageCollection {
  /** Blobs deleted. */
  readonly blobs: number
  /** UTF-8 bytes of content they held. */
  readonly bytes: number
}

/** A blob as {@link ContentBlobsRepository.storeIn} left it. */
export interface StoredBlob {
  readonly hash: string
  readonly sizeBytes: number
}

/** Attempts of `storeIn` when a concurrent garbage collection removes the blob in between. */
const STORE_ATTEMPTS = 5

/**
 * The repository of `content_blobs`: content-addressed, deduplicated, immutable content.
 *
 * - Every read verifies the SHA-256 of the content against its key; a mismatch is an
 *   IntegrityError, never wrong content (`getById`, `find`, `getContent` alike).
 * - `reference_count` is kept by the library: it counts the live (not soft-deleted) version
 *   rows that point at the blob (see `src/repository/blob-references.ts`). Callers cannot set it.
 * - Blobs are immutable: `update` is refused. `add` checks the key is the content's hash.
 */
export class ContentBlobsRepository extends Repository<
  ContentBlobsTable,
  ContentBlob,
  NewContentBlob,
  ContentBlobUpdate
> {
  constructor(table: ContentBlobsTable, session: Session) {
    super(table, session)
  }

  /** The rows of a query of `tx`. */
  #rows(tx: TxContext, query: CompiledQuery): Promise<Row[]> {
    return txRows(tx, query)
  }

  /** Maps a row to the entity, verifying its hash first. */
  override fromRow(row: Row): ContentBlob {
    const blob = super.fromRow(row)
    verifyContent(blob.contentHash, blob.content)
    return blob
  }

  /**
   * The content stored under `hash`, verified (IntegrityError on a mismatch); a missing blob is a
   * NotFoundError.
   */
  async getContent(hash: string): Promise<string> {
    const blob = await this.getById(hash)
    if (!blob) throw new NotFoundError(this.table.name, hash)
    return blob.content
  }

  /**
   * Inserts a blob. `contentHash` must be the SHA-256 of the content and `sizeBytes` its UTF-8
   * size; `referenceCount` is ignored (a new blob has no references until a version
   * points at it).
   */
  override async add(entity: NewContentBlob): Promise<ContentBlob> {
    return super.add(checkBlob(this.table, entity))
  }

  /** Inserts several blobs in one transaction; each is checked like in {@link add}. */
  override async addRange(entities: readonly NewContentBlob[]): Promise<ContentBlob[]> {
    return super.addRange(entities.map((entity) => checkBlob(this.table, entity)))
  }

  /** Refused: content blobs are immutable (a changed content is a different blob). */
  override async update(_entity: ContentBlobUpdate): Promise<ContentBlob> {
    throw new ValidationError('content_blobs are immutable: store the changed content as a new blob')
  }

  /**
   * Deletes every blob that nothing references: `reference_count` 0 and no version row, not even
   * a soft-deleted one, pointing at it (a soft-deleted version can be restored and needs its
   * content back). One transaction; one `purge` audit entry per blob.
   *
   * @example
   * const { blobs, bytes } = await db.contentBlobs.collectGarbage()
   */
  async collectGarbage(): Promise<GarbageCollection> {
    return this.session.write(async (tx) => {
      const deleted = await tx.db
        .deleteFrom('content_blobs')
        .where('reference_count', '=', 0)
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('project_versions')
                .select(eb.lit(1).as('one'))
                .where((v) =>
                  v.or(
                    VERSION_HASH_COLUMNS.map((c) =>
                      v(`project_versions.${c}`, '=', v.ref('content_blobs.content_hash')),
                    ),
                  ),
                ),
            ),
          ),
        )
        .returning(['content_hash', 'size_bytes'])
        .execute()
      let bytes = 0
      for (const row of deleted) {
        bytes += Number(row.size_bytes)
        await this.recordWrite(tx, 'purge', row.content_hash, null, null)
      }
      return { blobs: deleted.length, bytes }
    })
  }

  /**
   * Makes sure `content` is stored, inside `tx`, and returns its hash and size. New content gets
   * a blob with no references (the version row that points at it takes the reference); existing
   * content is left as it is. Either way the blob is held (PostgreSQL: `FOR KEY SHARE`) so that a
   * concurrent `collectGarbage` cannot remove it before the transaction commits.
   * @internal Called by the versions repository inside its own transaction.
   */
  async storeIn(
    tx: TxContext,
    contentType: ContentBlob['contentType'],
    content: string,
    /** `contentHash(content)`, when the caller computed it already. */
    hash: string = contentHash(content),
  ): Promise<StoredBlob> {
    const sizeBytes = utf8Size(content)
    const dialect = this.session.dialect
    const hold = !dialect.capabilities.singleWriter
    const cache = this.session.cache
    for (let attempt = 1; attempt <= STORE_ATTEMPTS; attempt++) {
      const existing = cache.compile(`content_blobs:exists:${hold}`, [hash], (v) => {
        const q = tx.db.selectFrom('content_blobs').select('content_hash').where('content_hash', '=', v(0))
        return hold ? q.forKeyShare() : q
      })
      if ((await this.#rows(tx, existing))[0]) return { hash, sizeBytes }
      const now = dialect.encode('timestamp', tx.now)
      const values = [hash, content, contentType, sizeBytes, 0, now, now, now, tx.actor, tx.actor]
      // ON CONFLICT DO NOTHING: a concurrent transaction may insert the same content first; on
      // PostgreSQL this insert then waits for it and, once it committed, the loop finds its row.
      const insert = cache.compile('content_blobs:store', values, (v) =>
        tx.db
          .insertInto('content_blobs')
          .values({
            content_hash: v(0),
            content: v(1),
            content_type: v(2),
            size_bytes: v(3),
            reference_count: v(4),
            last_referenced_at: v(5),
            created_at: v(6),
            updated_at: v(7),
            created_by: v(8),
            modified_by: v(9),
          })
          .onConflict((oc) => oc.column('content_hash').doNothing())
          .returning('content_hash'),
      )
      const inserted = (await this.#rows(tx, insert))[0]
      if (inserted) {
        await this.recordWrite(tx, 'insert', hash, null, null)
        return { hash, sizeBytes }
      }
    }
    throw new ConcurrencyError(
      this.table.name,
      hash,
      null,
      null,
      `content_blobs ${hash} was removed by concurrent garbage collections ${STORE_ATTEMPTS} times while being stored; try again.`,
    )
  }
}

function checkBlob(table: ContentBlobsTable, entity: NewContentBlob): NewContentBlob {
  const values = validateInsert(table, entity) as NewContentBlob
  const key = validateKey(table, values.contentHash)
  if (key !== contentHash(values.content)) {
    throw new ValidationError(
      'content_blobs.contentHash must be the lower-case hex SHA-256 of the UTF-8 bytes of content',
      'contentHash',
    )
  }
  if (values.sizeBytes !== utf8Size(values.content)) {
    throw new ValidationError('content_blobs.sizeBytes must be the UTF-8 byte count of content', 'sizeBytes')
  }
  const { referenceCount: _ignored, ...rest } = values
  return rest as NewContentBlob
}
