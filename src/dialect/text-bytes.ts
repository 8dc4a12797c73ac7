/**
 * A TEXT value held as its UTF-8 bytes, never decoded into a string: what a legacy file's
 * large text is read as when it is only hashed, measured or copied (see `IterateColumns`).
 * Both dialects store it as the text it is: SQLite decodes it (bound as a Buffer it would be
 * stored as a BLOB), PostgreSQL receives the bytes themselves (a Buffer parameter is sent in
 * binary format, which for `text` is its bytes), so megabytes of content pass through without
 * becoming JavaScript strings.
 */
export class Utf8TextBytes {
  constructor(readonly bytes: Buffer) {}
}
