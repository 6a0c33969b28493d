/** Where a packed stream stands: documents fully consumed, and tokens already taken from the next one. */
export interface PackPosition {
  /** Index (from the start of the stream) of the document the next row begins in. */
  doc: number;
  /** Tokens of that document, its closing separator included, already in earlier rows. */
  offset: number;
}

export interface PackedRow {
  row: Int32Array;
  /** The position just after this row: save it with a checkpoint, pass it as `start` to resume. */
  next: PackPosition;
}

export interface PackOptions {
  /** The separator appended after every document (`<|endoftext|>`). */
  eot: number;
  /**
   * Where to resume. `docs` must then begin at document `start.doc`; the first `start.offset`
   * tokens of it are skipped. Default: the beginning.
   */
  start?: PackPosition;
}

/**
 * Concatenates documents, each followed by `eot`, and cuts the stream into rows of exactly
 * `rowLength` tokens (a document may span rows; a final partial row is not emitted). A training
 * loop wanting inputs and next-token targets of length T asks for rows of T + 1.
 */
export function* packRows(docs: Iterable<ArrayLike<number>>, rowLength: number, options: PackOptions): Generator<PackedRow> {
  if (!Number.isInteger(rowLength) || rowLength < 1) throw new RangeError(`row length must be a positive integer, got ${rowLength}`);
  const start = options.start ?? { doc: 0, offset: 0 };
  let row = new Int32Array(rowLength);
  let filled = 0;
  let doc = start.doc;
  let skip = start.offset;
  for (const tokens of docs) {
    const total = tokens.length + 1;
    let at = Math.min(skip, total);
    skip = 0;
    while (at < total) {
      const take = Math.min(total - at, rowLength - filled);
      for (let i = 0; i < take; i++) {
        const k = at + i;
        row[filled + i] = k < tokens.length ? tokens[k] : options.eot;
      }
      filled += take;
      at += take;
      if (filled === rowLength) {
        const next = at === total ? { doc: doc + 1, offset: 0 } : { doc, offset: at };
        yield { row, next };
        row = new Int32Array(rowLength);
        filled = 0;
      }
    }
    doc++;
  }
}
