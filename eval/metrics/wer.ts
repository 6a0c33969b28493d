import { levenshtein, wordIds } from './levenshtein.js';
import { checkedPairs } from './corpus.js';
import { splitWhitespace } from './text.js';

// WER = word-level Levenshtein distance / number of reference words, words being the runs
// between whitespace (see text.ts). Words compare exactly (case and punctuation count).
// Empty reference: the denominator is taken as at least 1, so both empty gives 0 and an
// empty reference against k hypothesis words gives k (every word is an insertion).
// Corpus WER pools: total errors / total reference words, with the same floor of 1.

export interface WerCounts {
  errors: number;
  refWords: number;
}

export function werCounts(hyp: string, ref: string): WerCounts {
  const refWords = splitWhitespace(ref);
  const [h, r] = wordIds(splitWhitespace(hyp), refWords);
  return { errors: levenshtein(h, r), refWords: refWords.length };
}

export function werFromCounts({ errors, refWords }: WerCounts): number {
  return errors / Math.max(1, refWords);
}

/** Word error rate of one pair (0 is perfect; can exceed 1 when the hypothesis is longer). */
export function wer(hyp: string, ref: string): number {
  return werFromCounts(werCounts(hyp, ref));
}

/** Corpus WER: errors and reference lengths are pooled, not per-pair rates averaged. */
export function corpusWer(hyps: readonly string[], refs: readonly string[]): number {
  let errors = 0;
  let refWords = 0;
  for (const [h, r] of checkedPairs(hyps, refs)) {
    const c = werCounts(h, r);
    errors += c.errors;
    refWords += c.refWords;
  }
  return werFromCounts({ errors, refWords });
}
