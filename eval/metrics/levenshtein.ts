/**
 * Levenshtein distance (unit-cost insert, delete, substitute) between two sequences of
 * integers. O(n·m) time and O(min(n, m)) memory: one row over the shorter sequence.
 */
export function levenshtein(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const [long, short] = a.length >= b.length ? [a, b] : [b, a];
  const m = short.length;
  if (m === 0) return long.length;
  const row = new Uint32Array(m + 1);
  for (let j = 0; j <= m; j++) row[j] = j;
  for (let i = 1; i <= long.length; i++) {
    const x = long[i - 1];
    let diagonal = row[0]; // row[i-1][j-1]
    row[0] = i;
    for (let j = 1; j <= m; j++) {
      const above = row[j];
      const cost = x === short[j - 1] ? 0 : 1;
      let best = diagonal + cost;
      if (above + 1 < best) best = above + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diagonal = above;
    }
  }
  return row[m];
}

/** Maps two word lists onto shared integer ids, so words can go through `levenshtein`. */
export function wordIds(a: readonly string[], b: readonly string[]): [Uint32Array, Uint32Array] {
  const ids = new Map<string, number>();
  const toIds = (words: readonly string[]): Uint32Array =>
    Uint32Array.from(words, (w) => {
      let id = ids.get(w);
      if (id === undefined) ids.set(w, (id = ids.size));
      return id;
    });
  return [toIds(a), toIds(b)];
}
