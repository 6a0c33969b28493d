// Runs the commit-diff tasks through the model (and the model with an adapter, switched on after
// the base run), scores every suggestion, and summarises both with paired bootstrap intervals.
import { Completer, type Device, type QuantMode } from '../../engine/index.js';
import { suggestDiff, trainedSequenceLength, type SuggestDiffOptions } from '../../suggest/index.js';
import { pairedBootstrap, type BootstrapOptions, type Interval } from '../bootstrap.js';
import { chrfFromStats, emptyChrfStats } from '../metrics/chrf.js';
import { scoreCommitDiff, type CommitDiffScore } from './commit-diff-score.js';
import type { CommitDiffTask } from './commit-diff-tasks.js';

export interface CommitDiffOutput extends CommitDiffScore {
  /** The applied diff, or the best candidate's own text when none applied ('' when nothing was generated). */
  text: string;
  /** Which candidate applied (0: the best beam); null when none did. */
  candidate: number | null;
  candidates: number;
  milliseconds: number;
}

export interface CommitDiffResult {
  task: CommitDiffTask;
  base: CommitDiffOutput;
  adapter?: CommitDiffOutput;
}

export const COMMIT_DIFF_METRICS = [
  { key: 'applies', label: 'applies', description: 'share of suggestions that apply to the file (patch -p1, no fuzz)' },
  { key: 'chrf', label: 'chrF', description: 'chrF (0-100, pooled) of the suggested hunks against the real ones' },
  { key: 'hunks', label: 'hunks', description: 'share of the real hunks the suggestions have exactly' },
  { key: 'exact', label: 'exact', description: 'share of suggestions that are the real change exactly' },
] as const;
export type CommitDiffMetric = (typeof COMMIT_DIFF_METRICS)[number]['key'];
export type CommitDiffValues = Record<CommitDiffMetric, number>;

export interface CommitDiffSummary {
  tasks: number;
  base: CommitDiffValues;
  adapter?: CommitDiffValues;
  /** Adapter minus base, with its bootstrap interval. */
  delta?: Record<CommitDiffMetric, Interval & { value: number }>;
}

export interface CommitDiffEvalOptions extends Pick<SuggestDiffOptions, 'beams' | 'maxNewTokens' | 'contextTokens'> {
  modelDir: string;
  adapterDir?: string;
  threads?: number;
  device?: Device;
  /** int4/int8 weights or none; undefined: by model size. */
  quant?: QuantMode;
  bootstrap?: BootstrapOptions;
  onProgress?: (p: { phase: 'base' | 'adapter'; done: number; total: number }) => void;
}

export function aggregateCommitDiff(outputs: readonly CommitDiffOutput[], idx?: ArrayLike<number>): CommitDiffValues {
  const pick = idx ? Array.from(idx, (i) => outputs[i]) : outputs;
  const chrf = emptyChrfStats();
  let applies = 0;
  let exact = 0;
  let matched = 0;
  let hunks = 0;
  for (const o of pick) {
    o.chrf.forEach((v, k) => {
      chrf[k] += v;
    });
    applies += o.applies ? 1 : 0;
    exact += o.exact ? 1 : 0;
    matched += o.hunksMatched;
    hunks += o.hunks;
  }
  const n = pick.length;
  return {
    applies: n ? applies / n : NaN,
    chrf: n ? chrfFromStats(chrf) : NaN,
    hunks: hunks ? matched / hunks : NaN,
    exact: n ? exact / n : NaN,
  };
}

export function summarizeCommitDiff(results: readonly CommitDiffResult[], opts: BootstrapOptions = {}): CommitDiffSummary {
  const base = results.map((r) => r.base);
  const summary: CommitDiffSummary = { tasks: results.length, base: aggregateCommitDiff(base) };
  if (!results.every((r) => r.adapter)) return summary;
  const adapter = results.map((r) => r.adapter!);
  summary.adapter = aggregateCommitDiff(adapter);
  const keys = COMMIT_DIFF_METRICS.map((m) => m.key);
  const intervals = pairedBootstrap(
    results.length,
    (idx) => {
      const a = aggregateCommitDiff(adapter, idx);
      const b = aggregateCommitDiff(base, idx);
      return keys.map((k) => a[k] - b[k]);
    },
    opts,
  );
  summary.delta = Object.fromEntries(
    keys.map((k, i) => [k, { value: summary.adapter![k] - summary.base[k], ...intervals[i] }]),
  ) as CommitDiffSummary['delta'];
  return summary;
}

async function suggestAll(
  completer: Completer,
  tasks: readonly CommitDiffTask[],
  opts: CommitDiffEvalOptions,
  tick: () => void,
): Promise<CommitDiffOutput[]> {
  const out: CommitDiffOutput[] = [];
  for (const task of tasks) {
    const s = await suggestDiff(completer, { message: task.message, path: task.path, before: task.before }, opts);
    const written = s.candidates[0]?.text ?? '';
    out.push({
      ...scoreCommitDiff(s.applied?.diff, written, task.diff),
      text: s.applied?.diff ?? written,
      candidate: s.applied ? s.applied.candidate.rank : null,
      candidates: s.candidates.length,
      milliseconds: s.milliseconds,
    });
    tick();
  }
  return out;
}

export async function runCommitDiffEval(
  tasks: readonly CommitDiffTask[],
  opts: CommitDiffEvalOptions,
): Promise<{ results: CommitDiffResult[]; summary: CommitDiffSummary }> {
  const progress = (phase: 'base' | 'adapter') => {
    let done = 0;
    opts.onProgress?.({ phase, done, total: tasks.length });
    return () => opts.onProgress?.({ phase, done: ++done, total: tasks.length });
  };
  // Base and adapter see the same prompts: the adapter's training length for both.
  const same = { ...opts, contextTokens: opts.contextTokens ?? trainedSequenceLength(opts.adapterDir) };
  const completer = await Completer.load(opts.modelDir, { threads: opts.threads, device: opts.device, quant: opts.quant });
  let base: CommitDiffOutput[];
  let adapter: CommitDiffOutput[] | undefined;
  try {
    base = await suggestAll(completer, tasks, same, progress('base'));
    if (opts.adapterDir) {
      await completer.setAdapter(opts.adapterDir);
      adapter = await suggestAll(completer, tasks, same, progress('adapter'));
    }
  } finally {
    await completer.release();
  }
  const results = tasks.map((task, i) => ({ task, base: base[i], ...(adapter ? { adapter: adapter[i] } : {}) }));
  return { results, summary: summarizeCommitDiff(results, opts.bootstrap) };
}
