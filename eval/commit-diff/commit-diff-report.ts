// The commit-diff run as a JSON record and as a terminal table (base, adapter, Δ and its interval).
import { resolve } from 'node:path';
import type { BootstrapOptions } from '../bootstrap.js';
import { COMMIT_DIFF_METRICS, type CommitDiffResult, type CommitDiffSummary, type CommitDiffValues } from './commit-diff-eval.js';
import type { CommitDiffTasks } from './commit-diff-tasks.js';

export const COMMIT_DIFF_REPORT_FORMAT = 'codefudge-commit-diff-eval';

export interface CommitDiffReport {
  format: typeof COMMIT_DIFF_REPORT_FORMAT;
  version: 1;
  created: string;
  source: { path: string; cutoffSha: string | null; heldoutCommits: number; candidates: number };
  model: { dir: string; adapter: string | null };
  options: { limit: number; seed: number; beams: number | null; maxNewTokens: number | null; bootstrap: Required<BootstrapOptions> };
  metrics: typeof COMMIT_DIFF_METRICS;
  summary: CommitDiffSummary;
  tasks: {
    id: string;
    sha: string;
    path: string;
    message: string;
    expected: string;
    base: Omit<CommitDiffResult['base'], 'chrf'>;
    adapter?: Omit<CommitDiffResult['base'], 'chrf'>;
  }[];
  seconds: number;
}

export interface CommitDiffReportInput {
  dir: string;
  modelDir: string;
  adapterDir?: string;
  found: CommitDiffTasks;
  results: CommitDiffResult[];
  summary: CommitDiffSummary;
  options: CommitDiffReport['options'];
  seconds: number;
}

export function buildCommitDiffReport(r: CommitDiffReportInput): CommitDiffReport {
  const output = ({ chrf: _c, ...rest }: CommitDiffResult['base']) => rest;
  return {
    format: COMMIT_DIFF_REPORT_FORMAT,
    version: 1,
    created: new Date().toISOString(),
    source: { path: resolve(r.dir), cutoffSha: r.found.cutoffSha, heldoutCommits: r.found.heldoutCommits, candidates: r.found.candidates },
    model: { dir: resolve(r.modelDir), adapter: r.adapterDir ? resolve(r.adapterDir) : null },
    options: r.options,
    metrics: COMMIT_DIFF_METRICS,
    summary: r.summary,
    tasks: r.results.map(({ task, base, adapter }) => ({
      id: task.id,
      sha: task.sha,
      path: task.path,
      message: task.message,
      expected: task.diff,
      base: output(base),
      ...(adapter ? { adapter: output(adapter) } : {}),
    })),
    seconds: Math.round(r.seconds * 10) / 10,
  };
}

const percent = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '-');
const chrf = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');
const signed = (v: number, f: (x: number) => string) => (Number.isFinite(v) ? `${v < 0 ? '-' : '+'}${f(Math.abs(v))}` : '-');

function cells(v: CommitDiffValues): string[] {
  return COMMIT_DIFF_METRICS.map((m) => (m.key === 'chrf' ? chrf(v[m.key]) : percent(v[m.key])));
}

export function formatCommitDiffTable(report: CommitDiffReport): string {
  const s = report.summary;
  const rows: string[][] = [['task set', 'tasks', ...(s.adapter ? ['model'] : []), ...COMMIT_DIFF_METRICS.map((m) => m.label)]];
  if (!s.adapter || !s.delta) rows.push(['commit-diff', String(s.tasks), ...cells(s.base)]);
  else {
    const d = s.delta;
    const fmt = (k: keyof CommitDiffValues) => (k === 'chrf' ? chrf : percent);
    const level = Math.round(report.options.bootstrap.level * 100);
    rows.push(
      ['commit-diff', String(s.tasks), 'base', ...cells(s.base)],
      ['', '', 'adapter', ...cells(s.adapter)],
      ['', '', 'Δ', ...COMMIT_DIFF_METRICS.map((m) => signed(d[m.key].value, fmt(m.key)))],
      [
        '',
        '',
        `${level}% CI`,
        ...COMMIT_DIFF_METRICS.map((m) => `[${signed(d[m.key].low, fmt(m.key))},${signed(d[m.key].high, fmt(m.key))}]`),
      ],
    );
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const labels = s.adapter ? 3 : 2;
  const table = rows
    .map((r) =>
      r
        .map((cell, c) => (c === 1 || c >= labels ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
  const notes = COMMIT_DIFF_METRICS.map((m) => `${m.label}: ${m.description}.`);
  return `${table}\n\n${notes.join('\n')}\n`;
}
