// fim-eval's commit-diff task set end to end: held-out commits -> suggestions -> report.
import { UserError } from '../../common/index.js';
import { type Device, type QuantMode } from '../../engine/index.js';
import type { SplitSpec } from '../../history/index.js';
import { checkAdapterDir } from '../fim-eval.js';
import { runCommitDiffEval } from './commit-diff-eval.js';
import { buildCommitDiffReport, type CommitDiffReport } from './commit-diff-report.js';
import { readCommitDiffTasks } from './commit-diff-tasks.js';

export interface EvaluateCommitDiffOptions {
  dir: string;
  modelDir: string;
  adapterDir?: string;
  /** Most tasks; 0 for all. */
  limit: number;
  seed: number;
  split?: SplitSpec;
  beams?: number;
  maxNewTokens?: number;
  resamples: number;
  threads?: number;
  /** int4/int8 weights or none; undefined: by model size. */
  quant?: QuantMode;
  device?: Device;
  onProgress?: (p: { phase: 'history' | 'base' | 'adapter'; done: number; total: number }) => void;
}

export async function evaluateCommitDiff(opts: EvaluateCommitDiffOptions): Promise<CommitDiffReport> {
  const t0 = performance.now();
  if (opts.adapterDir) checkAdapterDir(opts.adapterDir);
  const found = await readCommitDiffTasks(opts.dir, {
    split: opts.split,
    limit: opts.limit,
    seed: opts.seed,
    onCommit: (done, total) => opts.onProgress?.({ phase: 'history', done, total }),
  });
  if (!found.tasks.length) throw new UserError(`no held-out commit of ${opts.dir} modifies a code file: no commit-diff tasks`);
  const bootstrap = { resamples: opts.resamples, level: 0.95, seed: opts.seed };
  const { results, summary } = await runCommitDiffEval(found.tasks, {
    modelDir: opts.modelDir,
    adapterDir: opts.adapterDir,
    beams: opts.beams,
    maxNewTokens: opts.maxNewTokens,
    threads: opts.threads,
    device: opts.device,
    quant: opts.quant,
    bootstrap,
    onProgress: opts.onProgress,
  });
  return buildCommitDiffReport({
    dir: opts.dir,
    modelDir: opts.modelDir,
    adapterDir: opts.adapterDir,
    found,
    results,
    summary,
    options: { limit: opts.limit, seed: opts.seed, beams: opts.beams ?? null, maxNewTokens: opts.maxNewTokens ?? null, bootstrap },
    seconds: (performance.now() - t0) / 1000,
  });
}

/** `--tasks` split into the FIM sets (undefined when none are named) and whether commit-diff is asked for. */
export function takeCommitDiffSet(tasks: string | undefined): { fimSets: string | undefined; commitDiff: boolean } {
  if (tasks === undefined) return { fimSets: undefined, commitDiff: false };
  const names = tasks.split(',').map((s) => s.trim());
  const rest = names.filter((n) => n !== 'commit-diff');
  return { fimSets: rest.filter(Boolean).length ? rest.join(',') : undefined, commitDiff: rest.length !== names.length };
}
