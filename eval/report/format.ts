import type { MetricInfo } from '../fim-metrics.js';
import type { Delta } from '../set-summary.js';

/** A metric's value: one decimal on the 0-100 scales, three on 0-1. */
export function formatValue(metric: MetricInfo, value: number): string {
  if (!Number.isFinite(value)) return '-';
  return value.toFixed(metric.scale === 100 ? 1 : 3);
}

export function formatSigned(metric: MetricInfo, value: number): string {
  if (!Number.isFinite(value)) return '-';
  const text = formatValue(metric, Math.abs(value));
  return `${value < 0 && Number(text) !== 0 ? '-' : '+'}${text}`;
}

/** An interval, one decimal shorter than values so a table column stays narrow. */
export function formatInterval(metric: MetricInfo, d: Delta): string {
  if (!Number.isFinite(d.low) || !Number.isFinite(d.high)) return '-';
  const digits = metric.scale === 100 ? 1 : 2;
  const signed = (v: number) => {
    const text = Math.abs(v).toFixed(digits);
    return `${v < 0 && Number(text) !== 0 ? '-' : '+'}${text}`;
  };
  return `[${signed(d.low)},${signed(d.high)}]`;
}

/** Whether a difference is an improvement (for WER, lower is better), worse, or neither by its interval. */
export function verdict(metric: MetricInfo, d: Delta): 'better' | 'worse' | 'unclear' {
  if (!(d.low > 0 || d.high < 0)) return 'unclear';
  return d.low > 0 === metric.higherIsBetter ? 'better' : 'worse';
}
