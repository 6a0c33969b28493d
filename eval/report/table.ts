// The terminal table: rows are task sets (and all tasks together); columns are metrics. With an
// adapter each set has four rows: base, adapter, the difference, and its 95% bootstrap interval.
import type { MetricInfo, MetricValues } from '../fim-metrics.js';
import type { SetSummary } from '../set-summary.js';
import { formatInterval, formatSigned, formatValue } from './format.js';
import type { FimEvalReport } from './json-report.js';

function render(rows: string[][], rightAligned: (col: number) => boolean): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (rightAligned(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A set without tasks has no scores: its cells show '-'. */
function valueCells(metrics: readonly MetricInfo[], values: MetricValues, tasks: number): string[] {
  return metrics.map((m) => (tasks ? formatValue(m, values[m.key]) : '-'));
}

function setRows(metrics: readonly MetricInfo[], s: SetSummary, level: number): string[][] {
  const name = s.name;
  const tasks = String(s.tasks);
  if (!s.adapter || !s.delta) return [[name, tasks, ...valueCells(metrics, s.base, s.tasks)]];
  const delta = s.delta;
  return [
    [name, tasks, 'base', ...valueCells(metrics, s.base, s.tasks)],
    ['', '', 'adapter', ...valueCells(metrics, s.adapter, s.tasks)],
    ['', '', 'Δ', ...metrics.map((m) => (s.tasks ? formatSigned(m, delta[m.key].value) : '-'))],
    ['', '', `${level}% CI`, ...metrics.map((m) => formatInterval(m, delta[m.key]))],
  ];
}

export function formatTable(report: FimEvalReport): string {
  const metrics = report.metrics;
  const paired = report.model.adapter !== null;
  const level = Math.round(report.options.bootstrap.level * 100);
  const header = ['task set', 'tasks', ...(paired ? ['model'] : []), ...metrics.map((m) => m.label)];
  const rows: string[][] = [header];
  for (const s of [...report.sets, report.overall]) {
    rows.push(...setRows(metrics, s, level));
  }
  const labelCols = paired ? 3 : 2;
  const table = render(rows, (c) => c === 1 || c >= labelCols);
  const notes = [
    `chrF and BLEU 0-100 (pooled over a set's tasks, as is WER); EM, EM1, IoU, EditSim, cos are means over tasks.`,
    `cos: cosine of mean-pooled final hidden states of generated vs expected text, judged by the base model.`,
    ...(paired
      ? [
          `Δ = adapter - base; ${level}% CI: paired bootstrap over tasks (${report.options.bootstrap.resamples} resamples, seed ${report.options.bootstrap.seed}).`,
        ]
      : []),
    ...boundaryNotes(report),
  ];
  return `${table}\n\n${notes.join('\n')}\n`;
}

export function boundaryNotes(report: FimEvalReport): string[] {
  const heuristic = Object.entries(report.source.boundaries)
    .filter(([, s]) => s === 'heuristic')
    .map(([l]) => l);
  if (!heuristic.length) return [];
  return [`function/block boundaries for ${heuristic.join(', ')}: HEURISTIC (indentation/braces), tree-sitter grammar not loadable.`];
}
