// Runs task sets through a model (and the model with an adapter), scores every middle, and
// summarises each set with base-vs-adapter differences and bootstrap intervals.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ADAPTER_CONFIG, Completer, type Device, type GenerateOptions, type StopReason, type QuantMode } from '../engine/index.js';
import { UserError } from '../common/index.js';
import type { BootstrapOptions } from './bootstrap.js';
import { HiddenStateJudge } from './hidden-cosine.js';
import { summarizeSet, type SetSummary } from './set-summary.js';
import { applyStopRule, stopIndex } from './stop-rules.js';
import { scoreMiddle, type ScoredMiddle } from './task-scores.js';
import type { TaskSet } from './tasks/build.js';
import type { FimTask, StopRule } from './tasks/task.js';

/** Token budgets per stop rule when --max-tokens is not given. */
export const DEFAULT_MAX_TOKENS: Readonly<Record<StopRule, number>> = { line: 48, block: 128, none: 64 };

export type DecodingOptions = Pick<
  GenerateOptions,
  'temperature' | 'topK' | 'topP' | 'seed' | 'numBeams' | 'lengthPenalty' | 'repetitionPenalty'
> & {
  /** One budget for every task; default DEFAULT_MAX_TOKENS by stop rule. */
  maxNewTokens?: number;
  maxPrefixTokens?: number;
  maxSuffixTokens?: number;
};

export type EvalPhase = 'base' | 'adapter' | 'cosine';

export interface EvalProgress {
  phase: EvalPhase;
  done: number;
  total: number;
}

/** What generating the middles needs: the in-process Completer, or a remote backend that looks like one. */
export interface FimCompleter {
  complete: Completer['complete'];
  release(): Promise<void>;
  template: { family: string };
}

/** Middles generated elsewhere (a remote backend): the base column, and the adapter column when given. */
export interface FimCompleters {
  base: () => Promise<FimCompleter>;
  adapter?: () => Promise<FimCompleter>;
}

export interface FimEvalOptions {
  modelDir: string;
  /** Instead of loading modelDir (and adapterDir) here; modelDir still judges (cosine). */
  completers?: FimCompleters;
  adapterDir?: string;
  threads?: number;
  device?: Device;
  /** int4/int8 weights or none; undefined: by model size. */
  quant?: QuantMode;
  decoding?: DecodingOptions;
  bootstrap?: BootstrapOptions;
  onProgress?: (p: EvalProgress) => void;
}

export interface GeneratedMiddle extends ScoredMiddle {
  text: string;
  reason: StopReason;
  tokens: number;
  milliseconds: number;
}

export interface TaskResult {
  task: FimTask;
  base: GeneratedMiddle;
  adapter?: GeneratedMiddle;
}

export interface FimEvalResult {
  /** One per task set, in the order asked for. */
  sets: SetSummary[];
  /** Every task of every set together. */
  overall: SetSummary;
  results: TaskResult[];
  fimFamily: string;
  seconds: number;
}

type Raw = Omit<GeneratedMiddle, keyof ScoredMiddle>;

async function generateAll(
  completer: FimCompleter,
  tasks: readonly FimTask[],
  decoding: DecodingOptions,
  tick: () => void,
): Promise<Raw[]> {
  const { maxNewTokens, ...rest } = decoding;
  const out: Raw[] = [];
  for (const task of tasks) {
    const r = await completer.complete({
      ...rest,
      prefix: task.prefix,
      suffix: task.suffix,
      maxNewTokens: maxNewTokens ?? DEFAULT_MAX_TOKENS[task.stop],
      stopAt: (text) => stopIndex(text, task.stop),
      // As `serve` does: a completion that loops ends at its first copy.
      stopOnLoop: true,
    });
    out.push({ text: applyStopRule(r.text, task.stop), reason: r.reason, tokens: r.ids.length, milliseconds: r.milliseconds });
    tick();
  }
  return out;
}

export function checkAdapterDir(dir: string): void {
  if (!existsSync(dir)) throw new UserError(`adapter folder "${dir}" does not exist`);
  if (!existsSync(join(dir, ADAPTER_CONFIG))) throw new UserError(`adapter folder "${dir}" has no ${ADAPTER_CONFIG}`);
}

export async function runFimEval(sets: readonly TaskSet[], opts: FimEvalOptions): Promise<FimEvalResult> {
  const t0 = performance.now();
  if (opts.adapterDir) checkAdapterDir(opts.adapterDir);
  const tasks = sets.flatMap((s) => s.tasks);
  const decoding = opts.decoding ?? {};
  const progress = (phase: EvalPhase, total: number) => {
    let done = 0;
    opts.onProgress?.({ phase, done, total });
    return () => opts.onProgress?.({ phase, done: ++done, total });
  };
  let base: Raw[];
  let adapter: Raw[] | undefined;
  let fimFamily = '';
  if (opts.completers) {
    const run = async (open: () => Promise<FimCompleter>, phase: EvalPhase) => {
      const c = await open();
      try {
        fimFamily = c.template.family;
        return await generateAll(c, tasks, decoding, progress(phase, tasks.length));
      } finally {
        await c.release();
      }
    };
    base = await run(opts.completers.base, 'base');
    if (opts.completers.adapter) adapter = await run(opts.completers.adapter, 'adapter');
  } else {
    // One completer for both: the adapter is switched on after the base run (graph inputs, no reload).
    const completer = await Completer.load(opts.modelDir, { threads: opts.threads, device: opts.device, quant: opts.quant });
    try {
      base = await generateAll(completer, tasks, decoding, progress('base', tasks.length));
      if (opts.adapterDir) {
        await completer.setAdapter(opts.adapterDir);
        adapter = await generateAll(completer, tasks, decoding, progress('adapter', tasks.length));
      }
    } finally {
      await completer.release();
    }
    fimFamily = completer.template.family;
  }

  // One judge for both columns, the base model, so a difference in cos comes from the texts alone.
  const judge = await HiddenStateJudge.load(opts.modelDir, { threads: opts.threads, device: opts.device, quant: opts.quant });
  const results: TaskResult[] = [];
  try {
    const tick = progress('cosine', tasks.length * (adapter ? 2 : 1));
    const scored = async (raw: Raw, task: FimTask): Promise<GeneratedMiddle> => {
      const cosine = await judge.similarity(raw.text, task.middle);
      tick();
      return { ...raw, ...scoreMiddle(raw.text, task.middle, cosine) };
    };
    for (let i = 0; i < tasks.length; i++) {
      const r: TaskResult = { task: tasks[i], base: await scored(base[i], tasks[i]) };
      if (adapter) r.adapter = await scored(adapter[i], tasks[i]);
      results.push(r);
    }
  } finally {
    await judge.release();
  }

  const summarize = (name: string, rs: TaskResult[]) =>
    summarizeSet(
      name,
      rs.map((r) => r.base),
      adapter ? rs.map((r) => r.adapter!) : undefined,
      opts.bootstrap,
    );
  return {
    sets: sets.map((s) =>
      summarize(
        s.name,
        results.filter((r) => r.task.set === s.name),
      ),
    ),
    overall: summarize('all', results),
    results,
    fimFamily,
    seconds: (performance.now() - t0) / 1000,
  };
}
