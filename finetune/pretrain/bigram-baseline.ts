// The bigram model the embedded model is compared against: next-token probabilities from token-pair
// counts over the same training rows, interpolated with add-one unigrams so no token has p = 0.

export interface BigramResult {
  /** Mean cross-entropy (nats/token) on the validation rows. */
  loss: number;
  /** The interpolation weight of the bigram estimate that gave that loss (best of a small grid). */
  lambda: number;
}

export function bigramBaseline(train: Iterable<ArrayLike<number>>, validation: Iterable<ArrayLike<number>>, vocab: number): BigramResult {
  const pair = new Map<number, number>();
  const context = new Float64Array(vocab);
  const unigram = new Float64Array(vocab).fill(1);
  let total = vocab;
  for (const row of train) {
    for (let i = 0; i < row.length; i++) {
      unigram[row[i]]++;
      total++;
      if (i === 0) continue;
      const key = row[i - 1] * vocab + row[i];
      pair.set(key, (pair.get(key) ?? 0) + 1);
      context[row[i - 1]]++;
    }
  }
  const rows = [...validation];
  let best: BigramResult = { loss: Infinity, lambda: 0 };
  for (const lambda of [0.5, 0.7, 0.8, 0.9, 0.95, 0.99]) {
    let nll = 0;
    let n = 0;
    for (const row of rows) {
      for (let i = 1; i < row.length; i++) {
        const a = row[i - 1];
        const b = row[i];
        const bi = context[a] > 0 ? (pair.get(a * vocab + b) ?? 0) / context[a] : 0;
        const p = (context[a] > 0 ? lambda * bi : 0) + (context[a] > 0 ? 1 - lambda : 1) * (unigram[b] / total);
        nll -= Math.log(p);
        n++;
      }
    }
    if (nll / n < best.loss) best = { loss: nll / n, lambda };
  }
  return best;
}
