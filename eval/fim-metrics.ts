import type { PairScores } from './score.js';

/** The text metrics of a pair, and the model's cosine similarity of the two texts' hidden states. */
export type MetricKey = keyof PairScores | 'cosine';
export type MetricValues = Record<MetricKey, number>;

export interface MetricInfo {
  key: MetricKey;
  /** Column heading. */
  label: string;
  title: string;
  /** The metric's full range: 100 for chrF and BLEU, 1 for the rest (WER may exceed it). */
  scale: number;
  higherIsBetter: boolean;
  /** Pooled over a set's tasks (corpus statistics) rather than averaged. */
  pooled: boolean;
}

export const FIM_METRICS: readonly MetricInfo[] = [
  {
    key: 'exact_match',
    label: 'EM',
    title: 'exact match (trailing whitespace of each line trimmed)',
    scale: 1,
    higherIsBetter: true,
    pooled: false,
  },
  { key: 'exact_match_first_line', label: 'EM1', title: 'exact match of the first line', scale: 1, higherIsBetter: true, pooled: false },
  { key: 'chrf', label: 'chrF', title: 'chrF (sacrebleu, corpus: pooled statistics)', scale: 100, higherIsBetter: true, pooled: true },
  { key: 'bleu', label: 'BLEU', title: 'BLEU (sacrebleu, corpus: pooled statistics)', scale: 100, higherIsBetter: true, pooled: true },
  { key: 'wer', label: 'WER', title: 'word error rate (corpus: pooled errors)', scale: 1, higherIsBetter: false, pooled: true },
  { key: 'iou', label: 'IoU', title: 'IoU of the whitespace-token sets', scale: 1, higherIsBetter: true, pooled: false },
  {
    key: 'edit_sim',
    label: 'EditSim',
    title: 'edit similarity (1 - Levenshtein / longer length)',
    scale: 1,
    higherIsBetter: true,
    pooled: false,
  },
  {
    key: 'cosine',
    label: 'cos',
    title: 'cosine of mean-pooled final hidden states (base model as judge)',
    scale: 1,
    higherIsBetter: true,
    pooled: false,
  },
];

export const METRIC_KEYS: readonly MetricKey[] = FIM_METRICS.map((m) => m.key);

export function zeroMetrics(): MetricValues {
  return Object.fromEntries(METRIC_KEYS.map((k) => [k, 0])) as MetricValues;
}
