// Paired bootstrap over tasks: resample task indices with replacement, recompute the statistic
// (for base and adapter on the same indices), and read the interval off the percentiles.
import { Rng } from '../common/index.js';

export interface BootstrapOptions {
  /** Default 1000. */
  resamples?: number;
  /** Default 0. */
  seed?: number;
  /** Coverage of the interval; default 0.95. */
  level?: number;
}

export interface Interval {
  low: number;
  high: number;
}

/** The q-quantile (0..1) of sorted values, interpolating linearly between order statistics (numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return NaN;
  const pos = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** The central `level` percentile interval of values. */
export function percentileInterval(values: readonly number[], level = 0.95): Interval {
  const sorted = [...values].sort((a, b) => a - b);
  const tail = (1 - level) / 2;
  return { low: quantile(sorted, tail), high: quantile(sorted, 1 - tail) };
}

/**
 * Percentile intervals for a vector statistic of n paired tasks. `statistic(indices)` returns one
 * number per component (e.g. adapter minus base for each metric) for the tasks at `indices`
 * (repeats allowed). Every component sees the same resamples. With n = 0 the intervals are NaN.
 */
export function pairedBootstrap(n: number, statistic: (indices: Uint32Array) => number[], opts: BootstrapOptions = {}): Interval[] {
  const resamples = opts.resamples ?? 1000;
  const rng = new Rng(opts.seed ?? 0);
  const draws: number[][] = [];
  const indices = new Uint32Array(n);
  for (let r = 0; r < resamples && n > 0; r++) {
    for (let i = 0; i < n; i++) indices[i] = rng.int(n);
    statistic(indices).forEach((v, k) => (draws[k] ??= []).push(v));
  }
  if (!draws.length) return statistic(indices).map(() => ({ low: NaN, high: NaN }));
  return draws.map((values) => percentileInterval(values, opts.level ?? 0.95));
}
