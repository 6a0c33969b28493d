// The held-out set: FIM sequences whose middles are lines that held-out commits added, with the
// file after the commit around them, so the held-out loss measures code the adapter never saw.
import type { TemporalItem } from '../../history/index.js';
import type { TrainExample } from '../trainer/batching.js';
import { fimSequence } from './fim-sequence.js';
import { spreadEvenly } from './sampling.js';
import type { SequenceFormat } from '../../suggest/index.js';

export interface HeldoutOptions {
  /** Most sequences (spread evenly over the candidates). Default 64. */
  max?: number;
  /** Longest middle, in lines: a longer run of added lines gives several middles. Default 4. */
  maxLines?: number;
}

/** A middle: lines first..last (1-based, inclusive) of an item's `after`. */
interface Middle {
  item: TemporalItem;
  first: number;
  last: number;
}

/** Consecutive added lines, cut into pieces of at most `maxLines`. */
function runs(lines: readonly number[], maxLines: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = -1;
  let prev = -1;
  const close = () => {
    for (let a = start; a <= prev; a += maxLines) out.push([a, Math.min(prev, a + maxLines - 1)]);
  };
  for (const n of lines) {
    if (start >= 0 && n === prev + 1) {
      prev = n;
      continue;
    }
    if (start >= 0) close();
    start = prev = n;
  }
  if (start >= 0) close();
  return out;
}

/** Every candidate middle of the items, in order; whitespace-only middles are left out. */
export function heldoutMiddles(items: readonly TemporalItem[], maxLines = 4): Middle[] {
  const out: Middle[] = [];
  for (const item of items) {
    const lines = item.after.split(/(?<=\n)/);
    for (const [first, last] of runs(item.addedLines, maxLines)) {
      if (
        lines
          .slice(first - 1, last)
          .join('')
          .trim() !== ''
      )
        out.push({ item, first, last });
    }
  }
  return out;
}

export function heldoutSequences(fmt: SequenceFormat, items: readonly TemporalItem[], opts: HeldoutOptions = {}): TrainExample[] {
  const out: TrainExample[] = [];
  for (const { item, first, last } of spreadEvenly(heldoutMiddles(items, opts.maxLines), opts.max ?? 64)) {
    const lines = item.after.split(/(?<=\n)/);
    const seq = fimSequence(fmt, {
      prefix: lines.slice(0, first - 1).join(''),
      middle: lines.slice(first - 1, last).join(''),
      suffix: lines.slice(last).join(''),
      mode: 'psm',
    });
    if (seq) out.push(seq);
  }
  return out;
}
