// A commit->diff example as a training sequence: `message \n path \n before` -> the file's
// unified diff and the end token, the loss on the diff only. A long file keeps the lines around
// the hunks, which are what the diff is about.
import type { TrainExample } from '../trainer/batching.js';
import {
  commitDiffHeader,
  fitCommitDiffInput,
  IGNORE,
  type SequenceFormat,
  keepHead,
  type TextEncoder,
  maxCharsPerToken,
  reachable,
} from '../../suggest/index.js';

export interface CommitDiffParts {
  message: string;
  path: string;
  before: string;
  diff: string;
}

/** Share of the sequence the diff may take; the rest is the message, path and file. */
const DIFF_SHARE = 0.6;

const OLD_HUNK = /^@@ -(\d+)(?:,(\d+))? \+/gm;

/** The 0-based range [lo, hi] of old lines the diff's hunks cover, or null for a diff without hunks. */
export function hunkLines(diff: string): { lo: number; hi: number } | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const m of diff.matchAll(OLD_HUNK)) {
    const start = Math.max(1, Number(m[1]));
    const count = m[2] === undefined ? 1 : Number(m[2]);
    lo = Math.min(lo, start - 1);
    hi = Math.max(hi, start - 1 + Math.max(count, 1) - 1);
  }
  return lo === Infinity ? null : { lo, hi };
}

/**
 * Whole lines of `before` within about `budget` tokens: all of it when it fits, else the lines
 * the hunks touch (from the first, as far as they fit), widened a line at a time below and
 * above while they fit.
 */
export function beforeAroundHunks(tok: TextEncoder, before: string, diff: string, budget: number): string {
  if (budget <= 0 || before === '') return '';
  // Longer than this many characters per token is surely over the budget: go line by line.
  if (before.length <= budget * 8 && tok.encode(before).length <= budget) return before;
  const lines = before.split(/(?<=\n)/);
  const range = hunkLines(diff) ?? { lo: 0, hi: 0 };
  const lo = Math.min(range.lo, lines.length - 1);
  const hi = Math.min(range.hi, lines.length - 1);
  const cost = new Map<number, number>();
  const longest = budget * maxCharsPerToken(tok);
  const costOf = (i: number) => {
    let c = cost.get(i);
    // A line longer than the budget can hold is not encoded to find that out.
    if (c === undefined) cost.set(i, (c = lines[i].length > longest ? budget + 1 : tok.encode(lines[i]).length));
    return c;
  };
  let used = 0;
  let first = lo;
  let end = lo;
  while (end <= hi && used + costOf(end) <= budget) used += costOf(end++);
  if (end > hi) {
    for (let grew = true; grew;) {
      grew = false;
      if (end < lines.length && used + costOf(end) <= budget) {
        used += costOf(end++);
        grew = true;
      }
      if (first > 0 && used + costOf(first - 1) <= budget) {
        used += costOf(--first);
        grew = true;
      }
    }
  }
  return lines.slice(first, end).join('');
}

/** null when the diff is empty or nothing of it fits. */
export function commitDiffSequence(fmt: SequenceFormat, ex: CommitDiffParts): TrainExample | null {
  const tok = fmt.tokenizer;
  const maxDiff = Math.floor(fmt.maxLen * DIFF_SHARE);
  let diff = tok.encode(reachable(tok, ex.diff, maxDiff + 1));
  if (diff.length === 0) return null;
  if (diff.length < maxDiff) diff = [...diff, fmt.endId];
  else {
    const head = tok.encode(keepHead(tok, ex.diff, maxDiff));
    diff = head.length ? head : diff.slice(0, maxDiff);
  }
  const header = commitDiffHeader(tok, ex.message, ex.path);
  const input = fitCommitDiffInput(fmt, header, diff.length, (budget) => beforeAroundHunks(tok, ex.before, ex.diff, budget));
  return input && { ids: [...input, ...diff], labels: [...input.map(() => IGNORE), ...diff] };
}
