import { checkedPairs } from './corpus.js';
import { splitWhitespace, trimEndWhitespace } from './text.js';
import { tokenize13a } from './tokenize-13a.js';

// BLEU as sacrebleu's BLEU(): 13a tokenisation of the right-trimmed text, word n-grams of
// order 1..4, clipped counts, brevity penalty, and "exp" smoothing (mteval-v13a's: the k-th
// order with no match gets precision 1 / (2^k · total)). Sentence BLEU uses the effective
// order (orders the hypothesis has no n-grams of are left out of the mean), as
// `sacrebleu.sentence_bleu` does; corpus BLEU does not, as `sacrebleu.corpus_bleu` does not.

export const BLEU_MAX_ORDER = 4;

/** Counts of one pair, or of a pooled corpus. */
export interface BleuStats {
  hypLength: number;
  refLength: number;
  /** Clipped matching n-grams per order 1..4. */
  correct: number[];
  /** Hypothesis n-grams per order 1..4. */
  total: number[];
}

function wordNgramCounts(words: readonly string[]): Map<string, number> {
  // Tokens never contain a space, so a space-joined key is unambiguous; the order is
  // kept apart by the number of spaces in the key.
  const counts = new Map<string, number>();
  for (let n = 1; n <= BLEU_MAX_ORDER; n++) {
    for (let i = 0; i + n <= words.length; i++) {
      const gram = words.slice(i, i + n).join(' ');
      counts.set(gram, (counts.get(gram) ?? 0) + 1);
    }
  }
  return counts;
}

function bleuWords(text: string): string[] {
  return splitWhitespace(tokenize13a(trimEndWhitespace(text)));
}

/** The BLEU statistics of one (hyp, ref) pair; add them over pairs for corpus BLEU. */
export function bleuStats(hyp: string, ref: string): BleuStats {
  const hypWords = bleuWords(hyp);
  const refWords = bleuWords(ref);
  const refCounts = wordNgramCounts(refWords);
  const correct = new Array<number>(BLEU_MAX_ORDER).fill(0);
  const total = new Array<number>(BLEU_MAX_ORDER).fill(0);
  for (const [gram, count] of wordNgramCounts(hypWords)) {
    const order = gram.split(' ').length - 1;
    total[order] += count;
    correct[order] += Math.min(count, refCounts.get(gram) ?? 0);
  }
  return { hypLength: hypWords.length, refLength: refWords.length, correct, total };
}

/** Pools the statistics of several pairs. */
export function addBleuStats(a: BleuStats, b: BleuStats): BleuStats {
  return {
    hypLength: a.hypLength + b.hypLength,
    refLength: a.refLength + b.refLength,
    correct: a.correct.map((v, i) => v + b.correct[i]),
    total: a.total.map((v, i) => v + b.total[i]),
  };
}

export function emptyBleuStats(): BleuStats {
  const zeros = new Array<number>(BLEU_MAX_ORDER).fill(0);
  return { hypLength: 0, refLength: 0, correct: [...zeros], total: [...zeros] };
}

// sacrebleu's log, floored so that a zero precision gives a score of (almost exactly) 0.
function flooredLog(x: number): number {
  return x === 0 ? -9999999999 : Math.log(x);
}

/** BLEU (0..100) from statistics, with exp smoothing; `effectiveOrder` as explained above. */
export function bleuFromStats(stats: BleuStats, effectiveOrder: boolean): number {
  const { hypLength, refLength, correct, total } = stats;
  let brevityPenalty = 1;
  if (hypLength < refLength) brevityPenalty = hypLength > 0 ? Math.exp(1 - refLength / hypLength) : 0;
  if (!correct.some((c) => c > 0)) return 0;
  const precisions = new Array<number>(BLEU_MAX_ORDER).fill(0);
  let smoothing = 1;
  let order = BLEU_MAX_ORDER;
  for (let n = 1; n <= BLEU_MAX_ORDER; n++) {
    if (total[n - 1] === 0) break;
    if (effectiveOrder) order = n;
    if (correct[n - 1] === 0) {
      smoothing *= 2;
      precisions[n - 1] = 100 / (smoothing * total[n - 1]);
    } else {
      precisions[n - 1] = (100 * correct[n - 1]) / total[n - 1];
    }
  }
  let logSum = 0;
  for (const p of precisions.slice(0, order)) logSum += flooredLog(p);
  return brevityPenalty * Math.exp(logSum / order);
}

/** sacrebleu's `sentence_bleu(hyp, [ref]).score`. */
export function sentenceBleu(hyp: string, ref: string): number {
  return bleuFromStats(bleuStats(hyp, ref), true);
}

/** sacrebleu's `corpus_bleu(hyps, [refs]).score`: statistics are pooled, not scores averaged. */
export function corpusBleu(hyps: readonly string[], refs: readonly string[]): number {
  const stats = checkedPairs(hyps, refs)
    .map(([h, r]) => bleuStats(h, r))
    .reduce(addBleuStats, emptyBleuStats());
  return bleuFromStats(stats, false);
}
