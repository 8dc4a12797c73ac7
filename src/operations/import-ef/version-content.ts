import { InvalidUtf8Text } from '../../dialect/sqlite/sqlite-legacy-file.js'
import type { ImportProblem } from '../../errors.js'
import type { EfImportReport } from './import-report.js'
import { RowNote } from './row-notes.js'
import {
  HASH_FIELDS,
  INLINE_CONTENT,
  INLINE_SOURCE,
  legacyKey,
  legacyRowid,
  VERSION_PARTS,
  type InlineContent,
  type Plan,
  type Row,
} from './import-plan.js'

/** Inline content that is text: its hash and UTF-8 size (see `INLINE_CONTENT`). */
function isText(inline: InlineContent): inline is { hash: string; bytes: number } {
  return typeof inline === 'object' && inline !== null && 'hash' in inline && 'bytes' in inline
}

/**
 * The content hashes a legacy version has in Aura Data, set on the planned row: the hash column
 * lower-cased, else the hash of its inline content (as {@link planVersionContent} writes them).
 * For a version already in the target (`merge`), to compare it with the row there.
 */
export function setVersionHashes(version: Row): void {
  const inline = INLINE_CONTENT.get(version)!
  for (const part of VERSION_PARTS) {
    const stored = version[part.hash]
    const content = inline[part.column]
    if (typeof stored === 'string') version[part.hash] = stored.toLowerCase()
    else if (isText(content)) version[part.hash] = content.hash
  }
}

/** The blobs made from a version's inline content (they had no legacy count to compare). */
const FROM_INLINE = new RowNote<true>()

/**
 * The legacy versions hold their content inline (BriefJson, …) and, in later rows, also as a
 * blob (BriefHash). Aura Data keeps it once, in a blob: inline content must hash to the hash
 * column when both are set; inline content without a blob becomes one (its content read from
 * the version's row when written). Returns how many blobs were made that way.
 */
export function planVersionContent(
  planned: Plan,
  existing: Map<string, Set<string>>,
  problems: ImportProblem[],
): number {
  const blobs = planned.get('ContentBlobs')!
  const known = new Set([...blobs.rows.map((b) => String(b.contentHash)), ...existing.get('content_blobs')!])
  let made = 0
  for (const version of planned.get('ProjectVersions')!.rows) {
    const row = INLINE_CONTENT.get(version)!
    // Needed no more once planned here (its hashes become the version's): freed before writing.
    INLINE_CONTENT.set(version, undefined)
    for (const part of VERSION_PARTS) {
      const inline = row[part.column]
      if (inline !== null && inline !== undefined && !isText(inline)) {
        problems.push({
          table: 'ProjectVersions',
          key: legacyKey(version, version.id),
          column: part.column,
          reason:
            inline instanceof InvalidUtf8Text
              ? `is not UTF-8 text (bytes ${inline.toString()}); its value cannot be kept as text`
              : `is not text (${typeof inline === 'bigint' ? 'an integer' : typeof inline})`,
        })
        continue
      }
      const stored = typeof version[part.hash] === 'string' ? String(version[part.hash]).toLowerCase() : null
      if (stored !== null) version[part.hash] = stored
      if (isText(inline)) {
        const hash = inline.hash
        if (stored !== null && stored !== hash) {
          problems.push({
            table: 'ProjectVersions',
            key: legacyKey(version, version.id),
            column: part.column,
            reason: `inline content does not hash to ${part.column.replace(/(Spec)?Json$/, '')}Hash (${stored})`,
          })
          continue
        }
        version[part.hash] = hash
        if (!known.has(hash)) {
          known.add(hash)
          made++
          const blob: Row = {
            contentHash: hash,
            contentType: part.type,
            sizeBytes: inline.bytes,
            referenceCount: 0,
            lastReferencedAt: version.createdAt,
            createdAt: version.createdAt,
            updatedAt: version.createdAt,
            createdBy: version.createdBy ?? null,
            modifiedBy: null,
          }
          FROM_INLINE.set(blob, true)
          INLINE_SOURCE.set(blob, { rowid: legacyRowid(version)!, column: part.column })
          blobs.rows.push(blob)
        }
      } else if (stored !== null && !known.has(stored)) {
        problems.push({
          table: 'ProjectVersions',
          key: legacyKey(version, version.id),
          column: `${part.type}Hash`,
          reason: `names content blob ${stored}, which does not exist`,
        })
      }
    }
  }
  return made
}

/**
 * A blob's reference count is the number of live (not soft-deleted) versions referencing it,
 * once per reference (as the library keeps it). The written blobs carry the recomputed count;
 * a blob already in the target (`merge`) gains the references of the versions written now
 * (`added`). Returns where the legacy count differed, and those additions.
 */
export function recountReferences(
  planned: Plan,
  existing: Map<string, Set<string>>,
): { differences: EfImportReport['referenceCounts']; added: Map<string, number> } {
  const live = new Map<string, number>()
  for (const v of planned.get('ProjectVersions')!.rows) {
    if (v.isDeleted === true) continue
    for (const field of HASH_FIELDS) {
      const hash = v[field]
      if (typeof hash === 'string') live.set(hash, (live.get(hash) ?? 0) + 1)
    }
  }
  const differences: { hash: string; legacy: number; actual: number }[] = []
  for (const blob of planned.get('ContentBlobs')!.rows) {
    const hash = String(blob.contentHash)
    const actual = live.get(hash) ?? 0
    live.delete(hash)
    const legacyCount = Number(blob.referenceCount)
    if (FROM_INLINE.get(blob) !== true && legacyCount !== actual)
      differences.push({ hash, legacy: legacyCount, actual })
    blob.referenceCount = actual
  }
  // What is left references blobs already in the target.
  const added = new Map([...live].filter(([hash]) => existing.get('content_blobs')!.has(hash)))
  return { differences, added }
}
