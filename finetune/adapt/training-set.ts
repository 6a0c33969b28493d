// Which examples train, and as what sequences: FIM and commit->diff examples in a chosen ratio,
// and for a refresh, what is new since the adapter's commit plus a replayed sample of the old.
import { mulberry32 } from '../../common/index.js';
import { type CommitDiffExample, type FimExample, type HistoryDataset } from '../../history/index.js';
import type { TrainExample } from '../trainer/batching.js';
import { commitDiffSequence } from './commit-diff-sequence.js';
import { fimSequence, type FimLoss } from './fim-sequence.js';
import { take } from './sampling.js';
import type { SequenceFormat } from '../../suggest/index.js';

export interface ExamplePick {
  fim: FimExample[];
  commitDiff: CommitDiffExample[];
}

export interface MixOptions {
  /** Share of commit->diff examples (0..1) when there are both kinds. */
  commitDiffShare: number;
  /** Most examples picked. */
  max: number;
  seed: number;
}

/** The scarcer kind is repeated at most this many times to reach its share; beyond, the other is sampled down. */
const MAX_REPEAT = 2;

/**
 * `n` examples with commit->diff examples at `commitDiffShare` of them (only one kind when the
 * other is missing). By default every example is used, the scarcer kind repeated (at most twice)
 * to reach the share; beyond `max`, a seeded sample.
 */
export function pickMix(fim: readonly FimExample[], commitDiff: readonly CommitDiffExample[], opts: MixOptions, n?: number): ExamplePick {
  const share = Math.min(Math.max(opts.commitDiffShare, 0), 1);
  const both = fim.length > 0 && commitDiff.length > 0 && share > 0 && share < 1;
  const all = both
    ? Math.min(
        Math.ceil(Math.max(fim.length / (1 - share), commitDiff.length / share)),
        Math.floor((MAX_REPEAT * fim.length) / (1 - share)),
        Math.floor((MAX_REPEAT * commitDiff.length) / share),
      )
    : share >= 1 && commitDiff.length
      ? commitDiff.length
      : fim.length || commitDiff.length;
  const count = Math.min(opts.max, n ?? all);
  const nDiff = !commitDiff.length ? 0 : !fim.length ? count : Math.round(count * share);
  const rand = mulberry32(opts.seed);
  return { fim: take(fim, count - nDiff, rand), commitDiff: take(commitDiff, nDiff, rand) };
}

/**
 * A refresh's examples: everything new (from a walk with `since`) and a replay sample of the
 * old ones, `replayShare` of the whole (0.5: as many old as new).
 */
export function pickRefresh(
  full: HistoryDataset,
  fresh: HistoryDataset,
  opts: MixOptions & { replayShare: number },
): { fresh: ExamplePick; replay: ExamplePick } {
  const picked = pickMix(fresh.train.fim, fresh.train.commitDiff, opts);
  const newBlobs = new Set(fresh.train.fim.map((e) => e.blob));
  const newCommits = new Set(fresh.train.commitDiff.map((e) => e.sha));
  const oldFim = full.train.fim.filter((e) => !newBlobs.has(e.blob));
  const oldDiff = full.train.commitDiff.filter((e) => !newCommits.has(e.sha));
  const share = Math.min(Math.max(opts.replayShare, 0), 0.95);
  const freshCount = picked.fim.length + picked.commitDiff.length;
  const wanted = Math.min(oldFim.length + oldDiff.length, Math.round((freshCount * share) / (1 - share)));
  return { fresh: picked, replay: pickMix(oldFim, oldDiff, { ...opts, seed: opts.seed + 1 }, wanted) };
}

/**
 * {@link toSequences}, giving the event loop a turn every few examples (so Ctrl-C and SIGTERM are
 * heard) and stopping when `signal` is aborted.
 */
export async function toSequencesAsync(
  fmt: SequenceFormat,
  pick: ExamplePick,
  fimLoss: FimLoss,
  signal?: AbortSignal,
): Promise<TrainExample[]> {
  const out: TrainExample[] = [];
  const CHUNK = 32;
  for (let i = 0; i < pick.fim.length; i += CHUNK) {
    if (signal?.aborted) return out;
    out.push(...toSequences(fmt, { fim: pick.fim.slice(i, i + CHUNK), commitDiff: [] }, fimLoss));
    await new Promise((r) => setImmediate(r));
  }
  for (let i = 0; i < pick.commitDiff.length; i += CHUNK) {
    if (signal?.aborted) return out;
    out.push(...toSequences(fmt, { fim: [], commitDiff: pick.commitDiff.slice(i, i + CHUNK) }, fimLoss));
    await new Promise((r) => setImmediate(r));
  }
  return out;
}

/** The picked examples as token sequences (examples that do not fit are dropped). */
export function toSequences(fmt: SequenceFormat, pick: ExamplePick, fimLoss: FimLoss): TrainExample[] {
  const memo = new Map<object, TrainExample | null>();
  const once = (ex: object, make: () => TrainExample | null) => {
    if (!memo.has(ex)) memo.set(ex, make());
    return memo.get(ex)!;
  };
  const out: TrainExample[] = [];
  for (const ex of pick.fim) {
    const seq = once(ex, () => fimSequence(fmt, ex, fimLoss));
    if (seq) out.push(seq);
  }
  for (const ex of pick.commitDiff) {
    const seq = once(ex, () => commitDiffSequence(fmt, ex));
    if (seq) out.push(seq);
  }
  return out;
}
