// Making a model's hunks fit the file they are for, where the fix is certain from the file alone:
// hunks in file order, CRLF line ends for a CRLF file, and the missing "\ No newline at end of
// file" on a last line. Each fix is only tried when the hunks do not apply without it.
import { applyHunks, type ApplyResult } from './apply-diff.js';
import { splitLines, usesCrlf } from './file-lines.js';
import type { Hunk } from './hunk.js';

export type FitResult = ApplyResult & { repairs: string[] };

interface Fix {
  note: string;
  /** The fixed hunks, or undefined when the fix does not concern these hunks and this file. */
  apply(hunks: Hunk[], text: string): Hunk[] | undefined;
}

const copy = (hunks: readonly Hunk[]): Hunk[] => hunks.map((h) => ({ ...h, lines: h.lines.map((l) => ({ ...l })) }));

const crlf: Fix = {
  note: 'gave the lines CRLF ends, as the file has',
  apply(hunks, text) {
    if (!usesCrlf(text) || hunks.some((h) => h.lines.some((l) => l.text.endsWith('\r')))) return undefined;
    const fixed = copy(hunks);
    for (const h of fixed) for (const l of h.lines) if (l.eol) l.text += '\r';
    return fixed;
  },
};

const lastLineWithoutNewline: Fix = {
  note: "marked the file's last line as having no newline",
  apply(hunks, text) {
    if (text === '' || text.endsWith('\n') || !hunks.length) return undefined;
    const lastLine = splitLines(text).pop()!;
    const fixed = copy(hunks);
    const lines = fixed[fixed.length - 1].lines;
    let k = lines.length - 1;
    while (k >= 0 && lines[k].op === '+') k--;
    if (k < 0 || !lines[k].eol || lines[k].text !== lastLine) return undefined;
    lines[k].eol = false;
    return fixed;
  },
};

/** The ways to try, cheapest assumption first. */
const FIX_SETS: Fix[][] = [[], [crlf], [lastLineWithoutNewline], [crlf, lastLineWithoutNewline]];

/**
 * Applies `hunks` to `text`, as they are or with the fixes above; the result names the fixes
 * used. A failure reports the attempt without fixes.
 */
export function fitHunks(text: string, hunks: readonly Hunk[]): FitResult {
  const repairs: string[] = [];
  let ordered = [...hunks];
  if (ordered.some((h, i) => i > 0 && h.oldStart < ordered[i - 1].oldStart)) {
    ordered = ordered.sort((a, b) => a.oldStart - b.oldStart);
    repairs.push('put the hunks in file order');
  }
  let first: ApplyResult | undefined;
  for (const fixes of FIX_SETS) {
    let attempt: Hunk[] | undefined = ordered;
    for (const f of fixes) attempt = attempt && f.apply(attempt, text);
    if (!attempt) continue;
    const r = applyHunks(text, attempt);
    first ??= r;
    if (r.ok) return { ...r, repairs: [...repairs, ...fixes.map((f) => f.note)] };
  }
  return { ...first!, repairs };
}
