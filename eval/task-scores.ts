// Per-task scores, and set aggregates that pool chrF, BLEU and WER statistics the way the corpus
// scores do, over any selection of tasks (a bootstrap resample included).
import { addBleuStats, bleuFromStats, bleuStats, emptyBleuStats, type BleuStats } from './metrics/bleu.js';
import { chrfFromStats, chrfStats, emptyChrfStats, type ChrfStats } from './metrics/chrf.js';
import { werCounts, werFromCounts, type WerCounts } from './metrics/wer.js';
import { METRIC_KEYS, zeroMetrics, type MetricKey, type MetricValues } from './fim-metrics.js';
import { scorePair } from './score.js';

export interface ScoredMiddle {
  scores: MetricValues;
  /** What pooled aggregates sum. */
  stats: { chrf: ChrfStats; bleu: BleuStats; wer: WerCounts };
}

export function scoreMiddle(generated: string, expected: string, cosine: number): ScoredMiddle {
  return {
    scores: { ...scorePair(generated, expected), cosine },
    stats: { chrf: chrfStats(generated, expected), bleu: bleuStats(generated, expected), wer: werCounts(generated, expected) },
  };
}

const MEANS: readonly MetricKey[] = METRIC_KEYS.filter((k) => k !== 'chrf' && k !== 'bleu' && k !== 'wer');

/**
 * Aggregate scores of `items[i]` for each i in `indices` (default: all, repeats allowed): chrF,
 * BLEU and WER from pooled statistics (as ScoreAccumulator.summary), the others as means. All 0 for none.
 */
export function aggregateScores(items: readonly ScoredMiddle[], indices?: ArrayLike<number>): MetricValues {
  const n = indices ? indices.length : items.length;
  const out = zeroMetrics();
  if (n === 0) return out;
  const chrf = emptyChrfStats();
  let bleu = emptyBleuStats();
  let errors = 0;
  let refWords = 0;
  for (let j = 0; j < n; j++) {
    const item = items[indices ? indices[j] : j];
    for (const k of MEANS) out[k] += item.scores[k];
    item.stats.chrf.forEach((v, i) => (chrf[i] += v));
    bleu = addBleuStats(bleu, item.stats.bleu);
    errors += item.stats.wer.errors;
    refWords += item.stats.wer.refWords;
  }
  for (const k of MEANS) out[k] /= n;
  out.chrf = chrfFromStats(chrf);
  out.bleu = bleuFromStats(bleu, false);
  out.wer = werFromCounts({ errors, refWords });
  return out;
}
