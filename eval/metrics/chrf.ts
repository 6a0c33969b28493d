import { checkedPairs, sumStats } from './corpus.js';
import { codePoints, removeWhitespace } from './text.js';

// chrF as sacrebleu's CHRF() with its defaults: character n-grams of order 1..6 over the
// text with all whitespace removed, no word n-grams, beta 2, case-sensitive, and
// eps_smoothing=False, i.e. precision and recall are averaged over the "effective" orders
// (those where both hypothesis and reference have n-grams) before the F-score is taken.

export const CHRF_CHAR_ORDER = 6;
export const CHRF_BETA = 2;

/** Per order n = 1..6: [hyp n-grams, ref n-grams, matched n-grams], flattened (length 18). */
export type ChrfStats = number[];

function charNgramCounts(chars: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= chars.length; i++) {
    const gram = chars.slice(i, i + n).join('');
    counts.set(gram, (counts.get(gram) ?? 0) + 1);
  }
  return counts;
}

/** Statistics of no pairs at all: the starting point for pooling. */
export function emptyChrfStats(): ChrfStats {
  return new Array<number>(3 * CHRF_CHAR_ORDER).fill(0);
}

/** The n-gram statistics of one (hyp, ref) pair; sum them over pairs for corpus chrF. */
export function chrfStats(hyp: string, ref: string): ChrfStats {
  const h = codePoints(removeWhitespace(hyp));
  const r = codePoints(removeWhitespace(ref));
  const stats: ChrfStats = [];
  for (let n = 1; n <= CHRF_CHAR_ORDER; n++) {
    const hypGrams = charNgramCounts(h, n);
    const refGrams = charNgramCounts(r, n);
    let hypCount = 0;
    let matches = 0;
    for (const [gram, count] of hypGrams) {
      hypCount += count;
      matches += Math.min(count, refGrams.get(gram) ?? 0);
    }
    const refCount = Math.max(0, r.length - n + 1);
    // sacrebleu counts no hypothesis n-grams for an order the reference has none of.
    stats.push(refGrams.size > 0 ? hypCount : 0, refCount, matches);
  }
  return stats;
}

/** chrF (0..100) from statistics of one pair or of a pooled corpus. */
export function chrfFromStats(stats: ChrfStats): number {
  const factor = CHRF_BETA ** 2;
  let precisionSum = 0;
  let recallSum = 0;
  let effectiveOrder = 0;
  for (let i = 0; i < CHRF_CHAR_ORDER; i++) {
    const [hyp, ref, match] = stats.slice(3 * i, 3 * i + 3);
    if (hyp > 0 && ref > 0) {
      precisionSum += match / hyp;
      recallSum += match / ref;
      effectiveOrder++;
    }
  }
  if (effectiveOrder === 0) return 0;
  const precision = precisionSum / effectiveOrder;
  const recall = recallSum / effectiveOrder;
  if (precision + recall === 0) return 0;
  return 100 * (((1 + factor) * precision * recall) / (factor * precision + recall));
}

/** sacrebleu's `sentence_chrf(hyp, [ref]).score`. */
export function sentenceChrf(hyp: string, ref: string): number {
  return chrfFromStats(chrfStats(hyp, ref));
}

/** sacrebleu's `corpus_chrf(hyps, [refs]).score`: statistics are pooled, not scores averaged. */
export function corpusChrf(hyps: readonly string[], refs: readonly string[]): number {
  return chrfFromStats(sumStats([emptyChrfStats(), ...checkedPairs(hyps, refs).map(([h, r]) => chrfStats(h, r))]));
}
