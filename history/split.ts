import { UserError } from '../common/index.js';
import type { CommitInfo } from './commits.js';

/**
 * Where training history ends: at a date (commits committed at or after it are held out), or
 * the newest `holdoutPercent` of the commits.
 */
export type SplitSpec = { cutoff: Date } | { holdoutPercent: number };

export const DEFAULT_SPLIT: SplitSpec = { holdoutPercent: 10 };

export interface CommitSplit {
  train: CommitInfo[];
  heldout: CommitInfo[];
  /** The newest training commit: its tree is the training snapshot. null when nothing trains. */
  cutoffSha: string | null;
}

/**
 * Splits commits (oldest first) into a training prefix and a held-out rest. The split is
 * always a prefix of the walk, never by date commit by commit, so a held-out commit's code
 * can never be in a training commit's tree: every training commit comes before every held-out
 * one, and parents come before children. A date cutoff uses committer dates (when the change
 * entered the history) and ends training at the first commit at or after the cutoff. A
 * percentage holds out ceil(n * p / 100) commits but keeps at least one for training.
 */
export function splitCommits(commits: CommitInfo[], spec: SplitSpec = DEFAULT_SPLIT): CommitSplit {
  let at: number;
  if ('cutoff' in spec) {
    const limit = spec.cutoff.getTime() / 1000;
    at = commits.findIndex((c) => c.committer.time >= limit);
    if (at < 0) at = commits.length;
  } else {
    const n = commits.length;
    const held = spec.holdoutPercent > 0 ? Math.min(n - 1, Math.ceil((n * spec.holdoutPercent) / 100)) : 0;
    at = n - Math.max(0, held);
  }
  return {
    train: commits.slice(0, at),
    heldout: commits.slice(at),
    cutoffSha: at > 0 ? commits[at - 1].sha : null,
  };
}

/** `2024-01-01` (midnight UTC) or a full ISO 8601 date-time. */
export function parseCutoff(text: string): Date {
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text;
  const d = /^\d{4}-\d{2}-\d{2}T/.test(iso) ? new Date(iso) : new Date(NaN);
  if (Number.isNaN(d.getTime())) throw new UserError(`--cutoff must be a date like 2024-01-01, got "${text}"`);
  return d;
}

/** `10%` or `10`: a percentage from 0 to 100. */
export function parseHoldout(text: string): number {
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(text.trim());
  const p = m ? Number(m[1]) : NaN;
  if (!(p >= 0 && p <= 100)) throw new UserError(`--holdout must be a percentage from 0% to 100%, got "${text}"`);
  return p;
}
