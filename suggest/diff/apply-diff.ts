// Applying hunks to a text the way GNU patch does without fuzz (`patch -F0`): each hunk is
// looked for at its header's line moved by the offset the previous hunks needed, then at the
// nearest lines above and below; a hunk with less context after its change than before must end
// at the end of the file, and one with less before that says it starts at line 1 must start there.
// Ours, not jsdiff's applyPatch: a suggestion is applied by the user with `patch` or `git apply`,
// and on seeded random cases jsdiff places or refuses hunks where GNU patch -F0 does otherwise
// (test/suggest/diff-apply.test.ts counts them); this agrees with GNU patch on every case.
import { splitLines } from './file-lines.js';
import { lineText, type Hunk, type LineEdit } from './hunk.js';

export interface PlacedHunk {
  /** 0-based line of the old text where the hunk's first old line was found. */
  at: number;
  /** Lines away from where its header says (patch's "offset N lines"). */
  offset: number;
}

export type ApplyResult = { ok: true; text: string; edits: LineEdit[]; placed: PlacedHunk[] } | { ok: false; hunk: number; reason: string };

function contextRuns(h: Hunk): { prefix: number; suffix: number } {
  let prefix = 0;
  while (prefix < h.lines.length && h.lines[prefix].op === ' ') prefix++;
  let suffix = 0;
  while (suffix < h.lines.length - prefix && h.lines[h.lines.length - 1 - suffix].op === ' ') suffix++;
  return { prefix, suffix };
}

/** The 1-based line the header puts the hunk's first old line at (after line N for a pure insertion, as patch reads `-N,0`). */
function headerLine(h: Hunk): number {
  return h.oldCount === 0 ? h.oldStart + 1 : h.oldStart;
}

function matchesAt(file: readonly string[], pattern: readonly string[], where: number): boolean {
  if (where < 1 || where - 1 + pattern.length > file.length) return false;
  for (let i = 0; i < pattern.length; i++) if (file[where - 1 + i] !== pattern[i]) return false;
  return true;
}

/**
 * The 1-based line where the hunk's old lines start, or 0: GNU patch's search with fuzz 0.
 * `frozen` is the number of leading lines earlier hunks have consumed.
 */
function locate(file: readonly string[], h: Hunk, pattern: readonly string[], firstGuess: number, frozen: number): number {
  if (!pattern.length) return firstGuess;
  const { prefix, suffix } = contextRuns(h);
  const context = Math.max(prefix, suffix);
  const prefixShort = prefix < context;
  const suffixShort = suffix < context;
  const maxWhere = file.length - pattern.length + 1 - (suffixShort ? context - suffix : 0);
  const minWhere = frozen + 1;
  const maxPos = maxWhere - firstGuess;
  let maxNeg = firstGuess - minWhere;
  if (firstGuess <= maxNeg) maxNeg = firstGuess - 1;
  if (prefixShort && headerLine(h) <= 1) {
    // Can only match at the start of the file.
    const offset = 1 - firstGuess;
    return frozen <= prefix && offset <= maxPos && matchesAt(file, pattern, 1) ? 1 : 0;
  }
  if (suffixShort) {
    const where = file.length - pattern.length + 1;
    return firstGuess - where <= maxNeg && matchesAt(file, pattern, where) ? where : 0;
  }
  const maxOffset = Math.max(maxPos, maxNeg);
  for (let offset = 0; offset <= maxOffset; offset++) {
    if (offset <= maxPos && matchesAt(file, pattern, firstGuess + offset)) return firstGuess + offset;
    if (offset > 0 && offset <= maxNeg && matchesAt(file, pattern, firstGuess - offset)) return firstGuess - offset;
  }
  return 0;
}

/** Applies `hunks` (in order) to `text`; on failure says which hunk (0-based) did not apply. */
export function applyHunks(text: string, hunks: readonly Hunk[]): ApplyResult {
  const file = splitLines(text);
  const out: string[] = [];
  /** For each output line, the old line it was copied from unchanged, or -1. */
  const origin: number[] = [];
  const placed: PlacedHunk[] = [];
  let frozen = 0;
  let inOffset = 0;
  const push = (line: string, from: number) => {
    // As GNU patch does: a line after one without '\n' (the old last line) first ends that one.
    const last = out.length - 1;
    if (last >= 0 && !out[last].endsWith('\n')) {
      out[last] += '\n';
      origin[last] = -1;
    }
    out.push(line);
    origin.push(from);
  };
  /** Copies old lines up to (not including) 0-based `end`; false when earlier hunks went past it. */
  const copyTill = (end: number) => {
    if (frozen > end) return false;
    for (; frozen < end; frozen++) if (frozen < file.length) push(file[frozen], frozen);
    return true;
  };
  for (let k = 0; k < hunks.length; k++) {
    const h = hunks[k];
    const pattern = h.lines.filter((l) => l.op !== '+').map(lineText);
    const firstGuess = headerLine(h) + inOffset;
    const where = locate(file, h, pattern, firstGuess, frozen);
    if (where === 0) return { ok: false, hunk: k, reason: `hunk ${k + 1} does not match the file` };
    inOffset = where - headerLine(h);
    placed.push({ at: where - 1, offset: inOffset });
    const base = where - 1;
    let old = 0;
    for (const l of h.lines) {
      if (l.op === ' ') {
        old++;
        continue;
      }
      if (!copyTill(base + old)) return { ok: false, hunk: k, reason: `hunk ${k + 1} overlaps the one before it` };
      if (l.op === '-') {
        frozen++;
        old++;
      } else push(lineText(l), -1);
    }
  }
  copyTill(file.length);
  return { ok: true, text: out.join(''), edits: editsFrom(file, out, origin), placed };
}

/** The replaced runs of `file`, from which old line each output line was copied (-1: new). */
function editsFrom(file: readonly string[], out: readonly string[], origin: readonly number[]): LineEdit[] {
  const edits: LineEdit[] = [];
  let nextOld = 0;
  let added: string[] = [];
  const close = (upTo: number) => {
    if (upTo > nextOld || added.length) edits.push({ start: nextOld, removed: file.slice(nextOld, upTo), added });
    added = [];
    nextOld = upTo + 1;
  };
  for (let i = 0; i < out.length; i++) {
    if (origin[i] < 0) added.push(out[i]);
    else close(origin[i]);
  }
  close(file.length);
  return edits;
}
