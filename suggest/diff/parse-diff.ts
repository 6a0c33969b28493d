// Reading a one-file unified diff: strictly (what `git diff` and `diff -u` write), or leniently
// from a model's output, repairing what can be repaired without guessing at the file.
// Ours, not jsdiff's parsePatch: that one takes a header without its closing @@ as a hunk at no
// line and names the hunk, not the line, that is wrong (test/suggest/diff-parse.test.ts), and has
// no lenient mode for a model's output. jsdiff renders (render-diff.ts).
import { countSides, hasChange, type DiffLine, type DiffOp, type FilePatch, type Hunk } from './hunk.js';

/** A diff that is not well-formed; `line` is 1-based. */
export class DiffFormatError extends Error {
  override name = 'DiffFormatError';
  constructor(
    readonly line: number,
    what: string,
  ) {
    super(`diff line ${line}: ${what}`);
  }
}

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$/;
/** What a model's mangled header still says: where the old lines start. */
const HUNK_START = /^@@ -(\d+)/;
const NO_NEWLINE = '\\';

interface HunkHeader {
  oldStart: number;
  oldCount: number;
  newStart: number;
  newCount: number;
  section: string;
}

function hunkHeader(line: string): HunkHeader | undefined {
  const m = HUNK_HEADER.exec(line);
  if (!m) return undefined;
  return {
    oldStart: Number(m[1]),
    oldCount: m[2] === undefined ? 1 : Number(m[2]),
    newStart: Number(m[3]),
    newCount: m[4] === undefined ? 1 : Number(m[4]),
    section: m[5],
  };
}

/** The op of a body line; an empty line is an empty context line (as GNU patch reads it). */
function bodyOp(line: string): DiffOp | undefined {
  if (line === '') return ' ';
  const c = line[0];
  return c === ' ' || c === '-' || c === '+' ? c : undefined;
}

function bodyLine(line: string, op: DiffOp): DiffLine {
  return { op, text: line.slice(1), eol: true };
}

/** The lines of a diff text: split at '\n', without the empty string after a final '\n'. */
function diffLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Strict: one file's diff, optionally after `diff --git`/`index` lines; hunk line counts must match their bodies. */
export function parseUnifiedDiff(text: string): FilePatch {
  const lines = diffLines(text);
  let i = 0;
  while (i < lines.length && !lines[i].startsWith('--- ') && !lines[i].startsWith('@@')) i++;
  if (i === lines.length) throw new DiffFormatError(Math.max(1, i), 'no hunk');
  const patch: FilePatch = { oldPath: null, newPath: null, hunks: [] };
  if (lines[i].startsWith('--- ')) {
    if (!lines[i + 1]?.startsWith('+++ ')) throw new DiffFormatError(i + 2, 'a "---" line must be followed by a "+++" line');
    patch.oldPath = pathOf(lines[i]);
    patch.newPath = pathOf(lines[i + 1]);
    i += 2;
  }
  while (i < lines.length) {
    const head = hunkHeader(lines[i]);
    if (!head) {
      if (lines[i].startsWith('--- ') || lines[i].startsWith('diff '))
        throw new DiffFormatError(i + 1, 'the diff changes more than one file');
      throw new DiffFormatError(i + 1, patch.hunks.length ? 'expected a hunk header or the end of the diff' : 'malformed hunk header');
    }
    if (head.oldStart === 0 && head.oldCount !== 0) throw new DiffFormatError(i + 1, 'old start 0 with old lines');
    const at = i++;
    const body: DiffLine[] = [];
    let o = 0;
    let n = 0;
    while (o < head.oldCount || n < head.newCount) {
      if (i === lines.length)
        throw new DiffFormatError(i + 1, `hunk at line ${at + 1} ends early (${o}/${head.oldCount} old, ${n}/${head.newCount} new lines)`);
      const line = lines[i];
      if (line.startsWith(NO_NEWLINE)) {
        if (!body.length) throw new DiffFormatError(i + 1, '"\\ No newline" before any line');
        body[body.length - 1].eol = false;
        i++;
        continue;
      }
      const op = bodyOp(line);
      if (!op)
        throw new DiffFormatError(i + 1, `hunk at line ${at + 1} ends early (${o}/${head.oldCount} old, ${n}/${head.newCount} new lines)`);
      if (op !== '+') o++;
      if (op !== '-') n++;
      if (o > head.oldCount || n > head.newCount)
        throw new DiffFormatError(i + 1, `hunk at line ${at + 1} has more lines than its header says`);
      body.push(bodyLine(line, op));
      i++;
    }
    if (lines[i]?.startsWith(NO_NEWLINE) && body.length) {
      body[body.length - 1].eol = false;
      i++;
    }
    patch.hunks.push({ ...head, lines: body });
  }
  if (!patch.hunks.length) throw new DiffFormatError(lines.length, 'no hunk');
  return patch;
}

/** The path of a `---`/`+++` line, without a tab-separated timestamp. */
function pathOf(line: string): string {
  return line.slice(4).split('\t')[0];
}

export interface GeneratedDiff {
  patch: FilePatch;
  /** What was repaired, one phrase each (empty when the text was a well-formed diff). */
  repairs: string[];
}

/**
 * Reads a model's diff. It ends at the first line that cannot belong to it (or a second file);
 * header line counts are recounted from the bodies; with `truncated` (the model was cut off) a
 * cut-off last line and a last hunk shorter than its header are dropped; hunks that change
 * nothing are dropped. Where the hunks go in the file is for applying to find out.
 */
export function readGeneratedDiff(text: string, opts: { truncated: boolean }): GeneratedDiff {
  const repairs: string[] = [];
  const lines = text.split('\n');
  const last = lines.pop()!;
  if (last !== '') {
    if (opts.truncated) repairs.push('dropped a cut-off last line');
    else lines.push(last);
  }
  const patch: FilePatch = { oldPath: null, newPath: null, hunks: [] };
  let i = 0;
  while (i < lines.length && !lines[i].startsWith('--- ') && !lines[i].startsWith('@@')) i++;
  if (lines[i]?.startsWith('--- ')) {
    patch.oldPath = pathOf(lines[i++]);
    if (lines[i]?.startsWith('+++ ')) patch.newPath = pathOf(lines[i++]);
  }
  const read: { head: HunkHeader; body: DiffLine[] }[] = [];
  let ended = false;
  while (i < lines.length && !ended) {
    let head = hunkHeader(lines[i]);
    if (!head) {
      const start = HUNK_START.exec(lines[i]);
      if (!start) {
        if (lines[i].startsWith('@@')) repairs.push('stopped at a malformed hunk header');
        break;
      }
      // The counts are recounted from the body anyway; unknown, they cannot show a cut-off hunk.
      head = { oldStart: Number(start[1]), oldCount: NaN, newStart: Number(start[1]), newCount: NaN, section: '' };
      repairs.push(`read the malformed header of hunk ${read.length + 1}`);
    }
    i++;
    const body: DiffLine[] = [];
    let o = 0;
    let n = 0;
    for (; i < lines.length; i++) {
      const line = lines[i];
      const full = o >= head.oldCount && n >= head.newCount;
      if (line.startsWith('@@')) break;
      if (full && (line.startsWith('--- ') || line.startsWith('+++ '))) {
        ended = true;
        break;
      }
      if (line.startsWith(NO_NEWLINE)) {
        if (body.length) body[body.length - 1].eol = false;
        continue;
      }
      const op = bodyOp(line);
      if (!op) {
        ended = true;
        break;
      }
      if (op !== '+') o++;
      if (op !== '-') n++;
      body.push(bodyLine(line, op));
    }
    read.push({ head, body });
  }
  read.forEach(({ head, body }, k) => {
    const isLast = k === read.length - 1;
    // Blank lines past the header's counts at the very end are the model rambling, not context.
    let counts = countSides(body);
    if (isLast) {
      const over = () => Number.isNaN(head.oldCount) || counts.old > head.oldCount || counts.new > head.newCount;
      while (body.length && over() && body[body.length - 1].op === ' ' && body[body.length - 1].text === '') {
        body.pop();
        counts = countSides(body);
      }
    }
    const known = !Number.isNaN(head.oldCount);
    const short = !known || counts.old < head.oldCount || counts.new < head.newCount;
    if (isLast && opts.truncated && short) {
      repairs.push(`dropped hunk ${k + 1}, cut off before its end`);
      return;
    }
    const hunk: Hunk = { ...head, oldCount: counts.old, newCount: counts.new, lines: body };
    if (!hasChange(hunk)) {
      repairs.push(`dropped hunk ${k + 1}, which changes nothing`);
      return;
    }
    if (known && (counts.old !== head.oldCount || counts.new !== head.newCount)) {
      repairs.push(`recounted hunk ${k + 1} (-${head.oldCount} +${head.newCount} -> -${counts.old} +${counts.new})`);
    }
    if (hunk.oldCount > 0 && hunk.oldStart === 0) hunk.oldStart = 1;
    patch.hunks.push(hunk);
  });
  return { patch, repairs };
}
