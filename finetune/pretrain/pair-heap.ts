/**
 * A max-heap of (count, pair key) entries for BPE training. Larger count first; on equal counts the
 * smaller key (the pair of older tokens) first, so training is deterministic. Entries may go stale:
 * the trainer checks each popped count against the live one.
 */
export class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];

  get size(): number {
    return this.counts.length;
  }

  push(count: number, key: number): void {
    const counts = this.counts;
    const keys = this.keys;
    let i = counts.length;
    counts.push(count);
    keys.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(count, key, counts[parent], keys[parent])) break;
      counts[i] = counts[parent];
      keys[i] = keys[parent];
      i = parent;
    }
    counts[i] = count;
    keys[i] = key;
  }

  /** Removes the top entry; returns false when empty. Its values are then in `topCount`/`topKey`. */
  pop(): boolean {
    const counts = this.counts;
    const keys = this.keys;
    if (counts.length === 0) return false;
    this.topCount = counts[0];
    this.topKey = keys[0];
    const lastCount = counts.pop()!;
    const lastKey = keys.pop()!;
    const n = counts.length;
    if (n === 0) return true;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.before(counts[r], keys[r], counts[l], keys[l]) ? r : l;
      if (!this.before(counts[c], keys[c], lastCount, lastKey)) break;
      counts[i] = counts[c];
      keys[i] = keys[c];
      i = c;
    }
    counts[i] = lastCount;
    keys[i] = lastKey;
    return true;
  }

  topCount = 0;
  topKey = 0;

  private before(countA: number, keyA: number, countB: number, keyB: number): boolean {
    return countA > countB || (countA === countB && keyA < keyB);
  }
}
