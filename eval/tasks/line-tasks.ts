// Candidate middles of whole lines: a body line per function, any line, a whole block.
import type { Rng } from '../../common/index.js';
import { Lines, hasWord, indentWidth, isBlank } from './lines.js';
import type { CodeStructure, RowRange } from './structure.js';
import type { TaskSpan } from './task.js';

/** Longest multi-line middle, in lines. */
export const MAX_BLOCK_LINES = 12;

function lineSpan(lines: Lines, row: number): TaskSpan {
  return { start: lines.start(row), end: lines.end(row), stop: 'line' };
}

/** Rows that hold any function's signature: a "body line" of an outer function may not be one. */
function signatureRows(structure: CodeStructure): Set<number> {
  const rows = new Set<number>();
  for (const f of structure.functions) for (let r = f.signature.first; r <= f.signature.last; r++) rows.add(r);
  return rows;
}

/** Per function, one body line chosen at random, never a signature line; functions without such a line give none. */
export function functionLineSpans(lines: Lines, structure: CodeStructure, rng: Rng): TaskSpan[] {
  const signatures = signatureRows(structure);
  const spans: TaskSpan[] = [];
  for (const f of structure.functions) {
    if (!f.body) continue;
    const rows: number[] = [];
    for (let r = f.body.first; r <= f.body.last; r++) {
      if (!signatures.has(r) && hasWord(lines.line(r))) rows.push(r);
    }
    if (rows.length) spans.push(lineSpan(lines, rows[rng.int(rows.length)]));
  }
  return spans;
}

/** Every line that holds a word. */
export function singleLineSpans(lines: Lines): TaskSpan[] {
  const spans: TaskSpan[] = [];
  for (let r = 0; r < lines.count; r++) if (hasWord(lines.line(r))) spans.push(lineSpan(lines, r));
  return spans;
}

/**
 * Whether rows first..last can be a `block` middle: the stop rule (blank line, dedent) must be
 * able to end a generation exactly where it ends, so no blank line inside and no line indented
 * less than the first.
 */
export function isBlockMiddle(lines: Lines, first: number, last: number): boolean {
  const indent = indentWidth(lines.line(first));
  let words = false;
  for (let r = first; r <= last; r++) {
    const text = lines.line(r);
    if (isBlank(text) || indentWidth(text) < indent) return false;
    words ||= hasWord(text);
  }
  return words;
}

/** Whole blocks of 2 to MAX_BLOCK_LINES lines that the block stop rule can reproduce. */
export function multiLineSpans(lines: Lines, structure: CodeStructure, maxLines = MAX_BLOCK_LINES): TaskSpan[] {
  const seen = new Set<string>();
  const spans: TaskSpan[] = [];
  const ordered = [...structure.blocks].sort((a, b) => a.first - b.first || a.last - b.last);
  for (const { first, last } of ordered) {
    const key = `${first}:${last}`;
    const size = last - first + 1;
    if (seen.has(key) || size < 2 || size > maxLines || !isBlockMiddle(lines, first, last)) continue;
    seen.add(key);
    spans.push({ start: lines.start(first), end: lines.end(last), stop: 'block' });
  }
  return spans;
}

/**
 * Splits runs of rows into middles: at blank lines, before a line indented less than its piece's
 * first, and every `maxLines` lines. A one-line piece is a `line` middle, a longer one a `block`.
 */
export function rowRunSpans(lines: Lines, rows: Iterable<number>, maxLines = MAX_BLOCK_LINES): TaskSpan[] {
  const pieces: RowRange[] = [];
  let piece: RowRange | undefined;
  let indent = 0;
  for (const r of [...new Set(rows)].sort((a, b) => a - b)) {
    if (r < 0 || r >= lines.count) continue;
    const text = lines.line(r);
    if (piece && !isBlank(text) && r === piece.last + 1 && indentWidth(text) >= indent && r - piece.first < maxLines) {
      piece.last = r;
      continue;
    }
    if (piece) pieces.push(piece);
    piece = isBlank(text) ? undefined : { first: r, last: r };
    indent = indentWidth(text);
  }
  if (piece) pieces.push(piece);
  return pieces
    .filter((p) => isBlockMiddle(lines, p.first, p.last))
    .map((p): TaskSpan => ({ start: lines.start(p.first), end: lines.end(p.last), stop: p.first === p.last ? 'line' : 'block' }));
}
