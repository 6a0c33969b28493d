import { pairedBootstrap, type BootstrapOptions } from './bootstrap.js';
import { METRIC_KEYS, type MetricKey, type MetricValues } from './fim-metrics.js';
import { aggregateScores, type ScoredMiddle } from './task-scores.js';

/** Adapter minus base, with its bootstrap interval. */
export interface Delta {
  value: number;
  low: number;
  high: number;
}

export interface SetSummary {
  name: string;
  tasks: number;
  base: MetricValues;
  adapter?: MetricValues;
  delta?: Record<MetricKey, Delta>;
}

/** Aggregates of one set (or all tasks) for base and, paired task by task, the adapter. */
export function summarizeSet(
  name: string,
  base: readonly ScoredMiddle[],
  adapter: readonly ScoredMiddle[] | undefined,
  opts: BootstrapOptions = {},
): SetSummary {
  const summary: SetSummary = { name, tasks: base.length, base: aggregateScores(base) };
  if (!adapter) return summary;
  if (adapter.length !== base.length) throw new Error(`${name}: ${base.length} base results but ${adapter.length} adapter results`);
  summary.adapter = aggregateScores(adapter);
  const intervals = pairedBootstrap(
    base.length,
    (idx) => {
      const b = aggregateScores(base, idx);
      const a = aggregateScores(adapter, idx);
      return METRIC_KEYS.map((k) => a[k] - b[k]);
    },
    opts,
  );
  const delta = {} as Record<MetricKey, Delta>;
  METRIC_KEYS.forEach((k, i) => {
    delta[k] = { value: summary.adapter![k] - summary.base[k], ...intervals[i] };
  });
  summary.delta = delta;
  return summary;
}
