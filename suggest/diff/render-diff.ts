// Writing a unified diff the way `git diff` does: changes with up to `context` unchanged lines
// around them, changes closer than twice that in one hunk, "\ No newline at end of file" where
// a line has no '\n'. Its line numbers are exact, so it applies with no offset.
import type { LineEdit } from './hunk.js';

export interface RenderOptions {
  /** Written after `--- ` and `+++ ` (e.g. `a/x.py`, `b/x.py`). */
  oldPath: string;
  newPath: string;
  /** Unchanged lines around each change (default 3). */
  context?: number;
}

const NO_NEWLINE = '\\ No newline at end of file\n';

function bodyLine(op: string, line: string): string {
  return line.endsWith('\n') ? `${op}${line}` : `${op}${line}\n${NO_NEWLINE}`;
}

/** `start,count` as unified diffs write it: the count left out when 1, the line before when 0. */
function range(start: number, count: number): string {
  if (count === 0) return `${start},0`;
  return count === 1 ? `${start + 1}` : `${start + 1},${count}`;
}

/**
 * The diff of `oldLines` (lines with their '\n', see splitLines) under `edits` (in order, not
 * overlapping); '' when there are none.
 */
export function renderUnifiedDiff(oldLines: readonly string[], edits: readonly LineEdit[], opts: RenderOptions): string {
  const context = opts.context ?? 3;
  const changes = edits.filter((e) => e.removed.length || e.added.length);
  if (!changes.length) return '';
  const out = [`--- ${opts.oldPath}\n`, `+++ ${opts.newPath}\n`];
  let shift = 0; // new line index minus old line index, before the current group
  for (let g = 0; g < changes.length;) {
    let end = g + 1;
    while (end < changes.length && changes[end].start - (changes[end - 1].start + changes[end - 1].removed.length) <= 2 * context) end++;
    const group = changes.slice(g, end);
    const first = group[0];
    const last = group[group.length - 1];
    const from = Math.max(0, first.start - context);
    const to = Math.min(oldLines.length, last.start + last.removed.length + context);
    const body: string[] = [];
    let at = from;
    let newCount = 0;
    for (const e of group) {
      for (; at < e.start; at++, newCount++) body.push(bodyLine(' ', oldLines[at]));
      for (const l of e.removed) body.push(bodyLine('-', l));
      for (const l of e.added) body.push(bodyLine('+', l));
      newCount += e.added.length;
      at += e.removed.length;
    }
    for (; at < to; at++, newCount++) body.push(bodyLine(' ', oldLines[at]));
    const oldCount = to - from;
    out.push(`@@ -${range(from, oldCount)} +${range(from + shift, newCount)} @@\n`, ...body);
    for (const e of group) shift += e.added.length - e.removed.length;
    g = end;
  }
  return out.join('');
}
