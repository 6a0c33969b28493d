// The examples `adapt` keeps from a history, in memory that follows what is kept and not the
// length of the history: a seeded reservoir per kind, filled while the history streams past,
// and a bounded number of commits read when the history is longer than the example budget.
import {
  emptyStats,
  generateExamples,
  type CommitDiffExample,
  type FimExample,
  type HistoryDataset,
  type HistoryOptions,
  type HistoryRepository,
  type TemporalItem,
} from '../../history/index.js';
import { mulberry32, type Random } from '../../common/index.js';

/** A uniform sample of `size` items from a stream of unknown length (Vitter's algorithm R), in stream order. */
export class Reservoir<T> {
  private readonly items: Array<{ at: number; item: T }> = [];
  seen = 0;

  constructor(
    readonly size: number,
    private readonly rand: Random,
  ) {}

  add(item: T): void {
    const at = this.seen++;
    if (this.items.length < this.size) {
      this.items.push({ at, item });
      return;
    }
    const j = Math.floor(this.rand() * (at + 1));
    if (j < this.size) this.items[j] = { at, item };
  }

  values(): T[] {
    return [...this.items].sort((a, b) => a.at - b.at).map((x) => x.item);
  }
}

export interface SampleOptions {
  /** Most training examples of each kind kept (the run uses at most this many in all). */
  maxExamples: number;
  /** Most held-out items kept (the held-out loss uses a few dozen sequences). */
  maxHeldout: number;
  seed: number;
}

/** Held-out items kept per held-out sequence measured: enough for spreading the middles evenly. */
export const HELDOUT_ITEMS_PER_SEQUENCE = 4;

/**
 * Commits read per side: as many training commits as examples wanted (each gives at least one),
 * and a few held-out commits per held-out item kept.
 */
export function commitBudget(o: SampleOptions): { train: number; heldout: number } {
  return { train: Math.max(256, o.maxExamples), heldout: Math.max(64, o.maxHeldout * 2) };
}

/** Streams the history into reservoirs: the dataset holds samples, `stats` counts everything. */
export async function sampleExamples(repo: HistoryRepository, hist: HistoryOptions, o: SampleOptions): Promise<HistoryDataset> {
  const rand = mulberry32(o.seed ^ 0x5eed);
  const fim = new Reservoir<FimExample>(o.maxExamples, rand);
  const commitDiff = new Reservoir<CommitDiffExample>(o.maxExamples, rand);
  const heldout = new Reservoir<TemporalItem>(o.maxHeldout, rand);
  const stats = emptyStats();
  for await (const ex of generateExamples(repo, { ...hist, maxCommits: hist.maxCommits ?? commitBudget(o) }, stats)) {
    if (ex.kind === 'fim') fim.add(ex);
    else if (ex.kind === 'commit-diff') commitDiff.add(ex);
    else heldout.add(ex);
  }
  return { train: { fim: fim.values(), commitDiff: commitDiff.values() }, heldout: heldout.values(), stats };
}
