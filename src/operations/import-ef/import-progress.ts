import type { EfImportOptions } from './import-ef.js'

/** One progress event of an import (see {@link EfImportOptions.onProgress}). */
export type ImportProgressEvent = Parameters<NonNullable<EfImportOptions['onProgress']>>[0]

/** Where an import's progress goes. */
export type ImportProgress = ((event: ImportProgressEvent) => void) | undefined

/** Runs one step of the import between its two progress events (a step without rows to count). */
export function inPhase<T>(
  onProgress: ImportProgress,
  phase: 'hash' | 'copy' | 'commit',
  subject: string,
  work: () => T,
): T {
  onProgress?.({ phase, table: subject, done: 0, total: 1 })
  const result = work()
  if (result instanceof Promise)
    return result.then((value: unknown) => {
      onProgress?.({ phase, table: subject, done: 1, total: 1 })
      return value
    }) as T
  onProgress?.({ phase, table: subject, done: 1, total: 1 })
  return result
}
