// Seeded example order: each epoch is a permutation that depends only on (seed, epoch), so the
// position in the data is two numbers and a resumed run reads exactly what it would have read.
import { mulberry32, shuffledIndices } from '../../common/index.js';

export interface DataPosition {
  epoch: number;
  /** Examples of this epoch's permutation already consumed. */
  index: number;
}

/** A 32-bit mix of seed and epoch, so consecutive epochs get unrelated permutations. */
function epochSeed(seed: number, epoch: number): number {
  let h = (seed ^ Math.imul(epoch + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Fisher-Yates over 0..size-1 with a generator seeded for this epoch. */
export function epochPermutation(size: number, seed: number, epoch: number): Uint32Array {
  return shuffledIndices(size, mulberry32(epochSeed(seed, epoch)));
}

export class DataOrder {
  private order: Uint32Array;
  private pos: DataPosition;

  constructor(
    readonly size: number,
    readonly seed: number,
    start: DataPosition = { epoch: 0, index: 0 },
  ) {
    if (size <= 0) throw new Error('DataOrder needs at least one example');
    this.pos = { ...start };
    this.order = epochPermutation(size, seed, this.pos.epoch);
  }

  get position(): DataPosition {
    return { ...this.pos };
  }

  /** The next `n` example indices, moving into the next epoch (a new permutation) when this one ends. */
  take(n: number): number[] {
    const out: number[] = [];
    while (out.length < n) {
      if (this.pos.index >= this.size) {
        this.pos = { epoch: this.pos.epoch + 1, index: 0 };
        this.order = epochPermutation(this.size, this.seed, this.pos.epoch);
      }
      out.push(this.order[this.pos.index++]);
    }
    return out;
  }
}
