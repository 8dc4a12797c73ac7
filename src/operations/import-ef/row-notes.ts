/** A row of the plan: an Aura Data table's fields, as the import will write them. */
export type Row = Record<string, unknown>

/**
 * Something the plan knows of a row beside its fields (its legacy key, its row id, …), kept on
 * the row under a symbol key of its own, which `Object.keys`, JSON and the writes ignore. A
 * WeakMap per note cost an ephemeron entry for every row of the file: tens of bytes each, and
 * every garbage collection walked them all.
 */
export class RowNote<T> {
  readonly #key = Symbol()

  get(row: Row): T | undefined {
    return (row as unknown as Record<symbol, T | undefined>)[this.#key]
  }

  /** Sets the note; `undefined` drops what it held (the slot stays: deleting would slow the row). */
  set(row: Row, value: T | undefined): void {
    ;(row as unknown as Record<symbol, T | undefined>)[this.#key] = value
  }
}
