import { UserError } from '../common/index.js';
import { readChanges, type ChangeOptions, type ChangeStatus, type CommitChanges } from './changes.js';
import { listCommits, type CommitInfo } from './commits.js';
import { fimExamples, type FimExample, type FimOptions } from './fim.js';
import { FileFilter, type SkipReason } from './filters.js';
import type { HistoryRepository } from './repository.js';
import { blobsAt, readSnapshot } from './snapshot.js';
import { DEFAULT_SPLIT, splitCommits, type CommitSplit, type SplitSpec } from './split.js';

/** Input: message + path + file before; target: the file's unified diff. */
export interface CommitDiffExample {
  kind: 'commit-diff';
  split: 'train' | 'heldout';
  sha: string;
  /** Author date, ISO 8601. */
  date: string;
  message: string;
  path: string;
  oldPath: string | null;
  status: ChangeStatus;
  before: string;
  diff: string;
}

/**
 * One code file changed by a held-out commit: the lines it added (1-based, in `after`) are the
 * temporal FIM tasks, with `after` as their context. It carries the commit->diff fields too,
 * so it is also a held-out commit->diff task ({@link toCommitDiffExample}).
 */
export interface TemporalItem extends Omit<CommitDiffExample, 'kind' | 'split'> {
  kind: 'temporal';
  split: 'heldout';
  after: string;
  addedLines: number[];
}

export type HistoryExample = FimExample | CommitDiffExample | TemporalItem;

export interface HistoryOptions extends ChangeOptions, FimOptions {
  /** Default: the newest 10% of commits are held out. */
  split?: SplitSpec;
  /**
   * Which files FIM examples come from: the tree of the newest training commit ('cutoff',
   * default), or also every file version a training commit wrote ('each'). Blobs are taken once.
   */
  fimRevisions?: 'cutoff' | 'each';
  /**
   * Only what is new since this commit (for refreshing an adapter trained through it): no
   * commit->diff examples from it or older commits, and FIM only from files whose content
   * differs from its tree. The split is the same as without it. A commit that is not in the
   * walked history (rewritten since) is a UserError.
   */
  since?: string;
  /**
   * Most commits read on each side of the split: a longer history is read at this many commits
   * spread evenly over it (each diffed against its own parent), so reading time and memory follow
   * what is kept, not the length of the history. Default: every commit.
   */
  maxCommits?: { train: number; heldout: number };
  /** Stops the walk between commits (the generator then returns early). */
  signal?: AbortSignal;
  onProgress?: (p: HistoryProgress) => void;
}

export interface HistoryProgress {
  phase: 'commits' | 'snapshot';
  done: number;
  total: number;
}

export interface HistoryStats {
  commits: number;
  trainCommits: number;
  heldoutCommits: number;
  /** Newest training commit, and its committer date. */
  cutoffSha: string | null;
  cutoffDate: string | null;
  /** Code files changed (kept by the filters), over all commits. */
  filesChanged: number;
  /** Distinct paths the filters left out, by reason, over commits and the snapshot. */
  filesSkipped: Partial<Record<SkipReason, number>>;
  /** Distinct file contents FIM examples were made from. */
  fimFiles: number;
  /** Objects git could not read (corrupt, or absent from a partial clone or mirror): skipped, never fetched. */
  unreadableBlobs: number;
  /** Commits whose trees could not be read: skipped. */
  unreadableCommits: number;
  /** Commits read on each side of the split when the history was sampled (else equal to the counts above). */
  readCommits: { train: number; heldout: number };
  examples: { fim: number; commitDiff: number; temporal: number };
}

export function emptyStats(): HistoryStats {
  return {
    commits: 0,
    trainCommits: 0,
    heldoutCommits: 0,
    cutoffSha: null,
    cutoffDate: null,
    filesChanged: 0,
    filesSkipped: {},
    fimFiles: 0,
    unreadableBlobs: 0,
    unreadableCommits: 0,
    readCommits: { train: 0, heldout: 0 },
    examples: { fim: 0, commitDiff: 0, temporal: 0 },
  };
}

/** Changes with a text diff that a model could be asked to write: additions, edits, renames. */
function writable(changes: CommitChanges) {
  return changes.files.filter((f) => f.status !== 'D' && f.diff !== '');
}

export function commitDiffExamples(changes: CommitChanges, split: 'train' | 'heldout'): CommitDiffExample[] {
  const c = changes.commit;
  return writable(changes).map((f) => ({
    kind: 'commit-diff',
    split,
    sha: c.sha,
    date: c.author.date,
    message: c.message,
    path: f.path,
    oldPath: f.oldPath,
    status: f.status,
    before: f.before,
    diff: f.diff,
  }));
}

export function temporalItems(changes: CommitChanges): TemporalItem[] {
  const c = changes.commit;
  return writable(changes).map((f) => ({
    kind: 'temporal',
    split: 'heldout',
    sha: c.sha,
    date: c.author.date,
    message: c.message,
    path: f.path,
    oldPath: f.oldPath,
    status: f.status,
    before: f.before,
    after: f.after,
    diff: f.diff,
    addedLines: f.addedLines,
  }));
}

export function toCommitDiffExample(item: TemporalItem): CommitDiffExample {
  const { sha, date, message, path, oldPath, status, before, diff } = item;
  return { kind: 'commit-diff', split: 'heldout', sha, date, message, path, oldPath, status, before, diff };
}

/**
 * Reads the changes of each commit in order. The next commit is read while the caller works
 * on the current one, so git's latency overlaps with the caller's.
 */
export async function* walkChanges(
  repo: HistoryRepository,
  commits: CommitInfo[],
  opts: ChangeOptions = {},
  filter = new FileFilter(opts),
): AsyncGenerator<CommitChanges> {
  // A few commits in flight keep git's diff process and the object reader busy; more would only hold memory.
  const AHEAD = 8;
  const pending: Array<Promise<CommitChanges>> = [];
  let issued = 0;
  const fill = () => {
    while (issued < commits.length && pending.length < AHEAD) {
      const p = readChanges(repo, commits[issued++], opts, filter);
      // Keep a pending read from becoming an unhandled rejection if the caller stops early.
      p.catch(() => undefined);
      pending.push(p);
    }
  };
  fill();
  while (pending.length) {
    const current = await pending.shift()!;
    fill();
    yield current;
  }
}

/** Counts each (path, reason) once, however many commits touch the path. */
function skipCounter(stats: HistoryStats): (skipped: Array<{ path: string; reason: SkipReason }>) => void {
  const seen = new Set<string>();
  return (skipped) => {
    for (const s of skipped) {
      const key = `${s.reason}\0${s.path}`;
      if (seen.has(key)) continue;
      seen.add(key);
      stats.filesSkipped[s.reason] = (stats.filesSkipped[s.reason] ?? 0) + 1;
    }
  };
}

/**
 * Every example of a repository's history, in walk order: commit->diff examples of training
 * commits (and, with fimRevisions 'each', FIM from the files they wrote), then FIM from the
 * snapshot at the newest training commit, then temporal items of held-out commits. `stats` is
 * filled in as it goes. Throws a UserError when the split leaves nothing to train on or no
 * commit touches a code file.
 */
export async function* generateExamples(
  repo: HistoryRepository,
  opts: HistoryOptions = {},
  stats: HistoryStats = emptyStats(),
): AsyncGenerator<HistoryExample> {
  const commits = await listCommits(repo, { allParents: opts.allParents });
  const split: CommitSplit = splitCommits(commits, opts.split ?? DEFAULT_SPLIT);
  stats.commits = commits.length;
  stats.trainCommits = split.train.length;
  stats.heldoutCommits = split.heldout.length;
  if (!split.train.length) {
    throw new UserError(`nothing to train on: the cutoff is at or before the first commit (${commits[0].committer.date})`);
  }
  const cutoff = split.train[split.train.length - 1];
  stats.cutoffSha = cutoff.sha;
  stats.cutoffDate = cutoff.committer.date;
  const filter = new FileFilter(opts);
  const { first, seenBlobs } = await startingPoint(repo, commits, opts.since);
  const countSkips = skipCounter(stats);
  const report = (phase: HistoryProgress['phase'], done: number, total: number) => opts.onProgress?.({ phase, done, total });
  const trainWalk = evenly(split.train.slice(first), opts.maxCommits?.train);
  const heldoutWalk = evenly(split.heldout.slice(Math.max(0, first - split.train.length)), opts.maxCommits?.heldout);
  stats.readCommits = { train: trainWalk.length, heldout: heldoutWalk.length };
  const walk = [...trainWalk, ...heldoutWalk];
  let done = 0;
  // Starting past the cutoff (refreshing through a held-out commit) there is no new snapshot.
  if (!trainWalk.length && first <= split.train.length) yield* snapshotExamples();
  for await (const changes of walkChanges(repo, walk, opts, filter)) {
    if (opts.signal?.aborted) return;
    const training = done < trainWalk.length;
    if (changes.unreadable) stats.unreadableCommits++;
    stats.filesChanged += changes.files.length;
    countSkips(changes.skipped);
    if (training) {
      for (const ex of commitDiffExamples(changes, 'train')) {
        stats.examples.commitDiff++;
        yield ex;
      }
      if (opts.fimRevisions === 'each') {
        for (const f of changes.files) {
          if (f.status === 'D' || !f.newBlob || seenBlobs.has(f.newBlob)) continue;
          seenBlobs.add(f.newBlob);
          stats.fimFiles++;
          const file = { sha: changes.commit.sha, path: f.path, blob: f.newBlob, text: f.after };
          for (const ex of fimExamples(file, opts)) {
            stats.examples.fim++;
            yield ex;
          }
        }
      }
    } else {
      for (const item of temporalItems(changes)) {
        stats.examples.temporal++;
        yield item;
      }
    }
    report('commits', ++done, walk.length);
    if (done === trainWalk.length) yield* snapshotExamples();
  }
  stats.unreadableBlobs = repo.cat.unreadable.size;
  if (stats.filesChanged === 0 && stats.fimFiles === 0 && !opts.since) {
    throw new UserError(`no code files in ${repo.path} (every file was skipped by the filters: ${describeSkips(stats)})`);
  }

  async function* snapshotExamples(): AsyncGenerator<FimExample> {
    report('snapshot', 0, 1);
    const snapshot = await readSnapshot(repo, cutoff.sha, { seenBlobs }, filter);
    countSkips(snapshot.skipped);
    for (const file of snapshot.files) {
      stats.fimFiles++;
      for (const ex of fimExamples(file, opts)) {
        stats.examples.fim++;
        yield ex;
      }
    }
    report('snapshot', 1, 1);
  }
}

/** `n` commits spread evenly over `commits`, oldest first (all of them when there are no more than `n`). */
function evenly<T>(items: readonly T[], n: number | undefined): T[] {
  if (n === undefined || items.length <= n) return [...items];
  return Array.from({ length: n }, (_, i) => items[Math.floor(((i + 0.5) * items.length) / n)]);
}

/** Where the walk starts: the first commit, or the one after `since` with that commit's blobs counted as seen. */
async function startingPoint(
  repo: HistoryRepository,
  commits: CommitInfo[],
  since: string | undefined,
): Promise<{ first: number; seenBlobs: Set<string> }> {
  if (since === undefined) return { first: 0, seenBlobs: new Set() };
  let sha = '';
  try {
    sha = (await repo.git.text(['rev-parse', '--verify', '--quiet', '--end-of-options', `${since}^{commit}`])).trim();
  } catch {
    // reported below
  }
  const at = sha ? commits.findIndex((c) => c.sha === sha) : -1;
  if (at < 0) throw new UserError(`commit ${since} is not in the history of ${repo.path} (was the history rewritten?)`);
  return { first: at + 1, seenBlobs: await blobsAt(repo, sha) };
}

function describeSkips(stats: HistoryStats): string {
  const parts = Object.entries(stats.filesSkipped).map(([r, n]) => `${n} ${r}`);
  return parts.length ? parts.join(', ') : 'no files at all';
}

/** All of a repository's examples in memory, grouped; for tests, evaluation and small repositories. */
export interface HistoryDataset {
  train: { fim: FimExample[]; commitDiff: CommitDiffExample[] };
  heldout: TemporalItem[];
  stats: HistoryStats;
}

export async function collectExamples(repo: HistoryRepository, opts: HistoryOptions = {}): Promise<HistoryDataset> {
  const data: HistoryDataset = { train: { fim: [], commitDiff: [] }, heldout: [], stats: emptyStats() };
  for await (const ex of generateExamples(repo, opts, data.stats)) {
    if (ex.kind === 'fim') data.train.fim.push(ex);
    else if (ex.kind === 'commit-diff') data.train.commitDiff.push(ex);
    else data.heldout.push(ex);
  }
  return data;
}
