// Scores of one suggested diff against the commit's real one: does it apply, chrF of its hunks
// against the real hunks, and how many real hunks it has exactly (same lines, same place).
import { parseUnifiedDiff, type Hunk } from '../../suggest/index.js';
import { chrfStats, type ChrfStats } from '../metrics/chrf.js';

export interface CommitDiffScore {
  applies: boolean;
  /** chrF statistics of the suggestion's hunks (the best candidate's text when none applied) against the real hunks. */
  chrf: ChrfStats;
  /** Real hunks the suggestion has exactly, and how many real hunks there are. */
  hunksMatched: number;
  hunks: number;
  /** The suggestion is the real change, hunk for hunk. */
  exact: boolean;
}

/** The diff without its `---`/`+++` lines or what git writes after a hunk's closing `@@`. */
export function hunksText(diff: string): string {
  return diff
    .split('\n')
    .filter((l) => !l.startsWith('--- ') && !l.startsWith('+++ '))
    .map((l) => l.replace(/^(@@ [^@]* @@).*$/, '$1'))
    .join('\n');
}

function hunkKey(h: Hunk): string {
  return JSON.stringify([h.oldStart, h.oldCount, h.newStart, h.newCount, h.lines]);
}

function hunksOf(diff: string): Hunk[] {
  try {
    return parseUnifiedDiff(diff).hunks;
  } catch {
    return [];
  }
}

/** `suggested`: the applied diff, or undefined with `written` the best candidate's own text. */
export function scoreCommitDiff(suggested: string | undefined, written: string, real: string): CommitDiffScore {
  const realHunks = hunksOf(real);
  const ours = new Set(suggested === undefined ? [] : hunksOf(suggested).map(hunkKey));
  const hunksMatched = realHunks.filter((h) => ours.has(hunkKey(h))).length;
  return {
    applies: suggested !== undefined,
    chrf: chrfStats(hunksText(suggested ?? written), hunksText(real)),
    hunksMatched,
    hunks: realHunks.length,
    exact: realHunks.length > 0 && hunksMatched === realHunks.length && ours.size === realHunks.length,
  };
}
