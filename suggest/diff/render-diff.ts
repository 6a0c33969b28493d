// Writing a unified diff the way `git diff` does: changes with up to `context` unchanged lines
// around them, changes closer than twice that in one hunk, "\ No newline at end of file" where
// a line has no '\n'. Its line numbers are exact, so it applies with no offset.
import { FILE_HEADERS_ONLY, formatPatch, type StructuredPatchHunk } from 'diff';
import type { LineEdit } from './hunk.js';

export interface RenderOptions {
  /** Written after `--- ` and `+++ ` (e.g. `a/x.py`, `b/x.py`). */
  oldPath: string;
  newPath: string;
  /** Unchanged lines around each change (default 3). */
  context?: number;
}

const NO_NEWLINE = '\\ No newline at end of file';

/** jsdiff's hunk lines: op + text, and its no-newline marker after a line without '\n'. */
function bodyLines(op: string, line: string): string[] {
  return line.endsWith('\n') ? [op + line.slice(0, -1)] : [op + line, NO_NEWLINE];
}

/**
 * The diff of `oldLines` (lines with their '\n', see splitLines) under `edits` (in order, not
 * overlapping); '' when there are none. We group the edits into hunks ourselves (the edits are the
 * model's, placed by applyHunks: re-diffing the two texts could align them differently); jsdiff's
 * formatPatch writes the text.
 */
export function renderUnifiedDiff(oldLines: readonly string[], edits: readonly LineEdit[], opts: RenderOptions): string {
  const context = opts.context ?? 3;
  const changes = edits.filter((e) => e.removed.length || e.added.length);
  if (!changes.length) return '';
  const hunks: StructuredPatchHunk[] = [];
  let shift = 0; // new line index minus old line index, before the current group
  for (let g = 0; g < changes.length;) {
    let end = g + 1;
    while (end < changes.length && changes[end].start - (changes[end - 1].start + changes[end - 1].removed.length) <= 2 * context) end++;
    const group = changes.slice(g, end);
    const first = group[0];
    const last = group[group.length - 1];
    const from = Math.max(0, first.start - context);
    const to = Math.min(oldLines.length, last.start + last.removed.length + context);
    const lines: string[] = [];
    let at = from;
    let newCount = 0;
    for (const e of group) {
      for (; at < e.start; at++, newCount++) lines.push(...bodyLines(' ', oldLines[at]));
      for (const l of e.removed) lines.push(...bodyLines('-', l));
      for (const l of e.added) lines.push(...bodyLines('+', l));
      newCount += e.added.length;
      at += e.removed.length;
    }
    for (; at < to; at++, newCount++) lines.push(...bodyLines(' ', oldLines[at]));
    hunks.push({ oldStart: from + 1, oldLines: to - from, newStart: from + shift + 1, newLines: newCount, lines });
    for (const e of group) shift += e.added.length - e.removed.length;
    g = end;
  }
  return formatPatch(
    { oldFileName: opts.oldPath, newFileName: opts.newPath, oldHeader: undefined, newHeader: undefined, hunks },
    FILE_HEADERS_ONLY,
  );
}
