import type { ImportProblem } from '../../errors.js'
import type { NormalisationCounts } from './legacy-values.js'
import type { AbsentInLegacy, LegacyAppVersion } from './legacy-versions.js'
import type { SceneIndexMove } from './scene-indexes.js'
import type { SourceFiles } from './source-files.js'

/** One legacy table of the report. */
export interface EfImportTable {
  readonly legacy: string
  readonly target: string
  /** Rows in the legacy table. */
  readonly rows: number
  /** Rows written (or, on a dry run, that would be written). */
  readonly imported: number
  /**
   * Rows not written because their key is already in the target (`merge` only): identical rows,
   * and differing rows unless `merge: 'update'` took them.
   */
  readonly skipped: number
  /** Up to 20 of the skipped keys. */
  readonly skippedKeys: readonly string[]
  /** Rows whose key is in the target with other values (`merge` only; each in `differences`). */
  readonly differing: number
  /** Differing rows updated through the repository (`merge: 'update'`; on a dry run: to update). */
  readonly updated: number
}

/**
 * A legacy row whose key the target already has (`merge`) with values that differ from the
 * target's row: the app changed it after the first import (or it was edited in Aura Data).
 */
export interface EfImportDifference {
  /** The legacy table. */
  readonly table: string
  /** The row's key as the legacy file spells it. */
  readonly key: string
  /** The legacy columns whose values differ. */
  readonly columns: readonly string[]
  /** Taken through the repository's update (`merge: 'update'`); else the target's row is kept. */
  readonly updated: boolean
}

/** What an import did (or, on a dry run, would do). `aura-db import ef --json` prints exactly this. */
export interface EfImportReport {
  /** True when nothing stood in the way (on a dry run: the import would succeed). */
  readonly ok: boolean
  readonly dryRun: boolean
  readonly merge: boolean
  /** `merge: 'update'`: differing rows are updated from the legacy file. */
  readonly mergeUpdate: boolean
  /** The legacy file and its companions, hashed before reading. */
  readonly source: SourceFiles
  /** Hashed again after the import: the same bytes (the legacy file was never changed). */
  readonly sourceUnchanged: boolean
  /** Where the rows went (safe to print). */
  readonly target: string
  readonly tables: readonly EfImportTable[]
  /** Tables of the legacy file that Aura Data does not model, with their row counts: not imported. */
  readonly notImported: readonly { readonly table: string; readonly rows: number }[]
  /** The EF Core migrations the file records (`__EFMigrationsHistory`). */
  readonly efMigrations: readonly string[]
  /** The app version that wrote the file (its last EF migration) and the app's migrations it lacks. */
  readonly appVersion: LegacyAppVersion
  /**
   * What the file lacks because an older app version wrote it: tables (imported as empty) and
   * columns (read as the NULL or DEFAULT the later migration gave existing rows).
   */
  readonly absent: readonly AbsentInLegacy[]
  readonly normalised: NormalisationCounts
  /** Content blobs whose stored reference count was not the number of live versions using them. */
  readonly referenceCounts: readonly {
    readonly hash: string
    readonly legacy: number
    readonly actual: number
  }[]
  /** Blobs created from content a version held inline (the legacy table kept it twice). */
  readonly blobsFromInlineContent: number
  /** Sensitive configuration values, stored encrypted in the target. */
  readonly encryptedValues: number
  /** Scenes whose index was already taken in their project, moved after its last index (not with `strict`). */
  readonly sceneIndexMoves: readonly SceneIndexMove[]
  /** Every legacy row whose key the target has with other values (`merge` only), per table and key. */
  readonly differences: readonly EfImportDifference[]
  /** Why the import was refused: every value that cannot be carried over (empty when ok). */
  readonly problems: readonly ImportProblem[]
  /** The `audit_entries` id of the import (null on a dry run or a refusal). */
  readonly auditEntryId: number | null
}
