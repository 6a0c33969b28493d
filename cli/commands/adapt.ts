import { EMBEDDED_MODEL } from '../../engine/index.js';
import { ProgressBar } from '../progress-bar.js';
import { UserError } from '../../common/index.js';
import { adapt, formatSeconds, parseDuration, type AdaptEvent, type AdaptResult } from '../../finetune/index.js';
import {
  deviceFlag,
  deviceOption,
  flagChoice,
  flagInt,
  flagNumber,
  flagPositiveInt,
  parseFlags,
  QUANT_USAGE,
  quantFlag,
  quantOption,
  type FlagValues,
  type OptionTable,
  type StringFlag,
} from '../flags.js';
import type { Command } from '../command.js';
import { pathFilterOptions, splitOptions, splitSpec } from '../history-flags.js';
import { registerFlags, registerTarget } from '../register-flags.js';

const OPTIONS = {
  model: { type: 'string' },
  out: { type: 'string' },
  time: { type: 'string' },
  steps: { type: 'string' },
  rank: { type: 'string' },
  alpha: { type: 'string' },
  targets: { type: 'string' },
  dropout: { type: 'string' },
  lr: { type: 'string' },
  warmup: { type: 'string' },
  batch: { type: 'string' },
  accum: { type: 'string' },
  seq: { type: 'string' },
  ...splitOptions,
  ...pathFilterOptions,
  mix: { type: 'string' },
  replay: { type: 'string' },
  'fim-loss': { type: 'string' },
  'max-examples': { type: 'string' },
  epochs: { type: 'string' },
  'from-scratch': { type: 'boolean' },
  seed: { type: 'string' },
  threads: { type: 'string' },
  ...deviceOption,
  quiet: { type: 'boolean' },
  ...quantOption,
  ...registerFlags.options,
} satisfies OptionTable;

type Values = FlagValues<typeof OPTIONS>;

function nonNegativeInt(values: Values, name: StringFlag<Values>): number | undefined {
  const n = flagInt(values, name);
  if (n !== undefined && n < 0) throw new UserError(`--${name} must be 0 or more, got "${values[name]}"`);
  return n;
}

function share(values: Values, name: StringFlag<Values>): number | undefined {
  const v = flagNumber(values, name);
  if (v !== undefined && !(v >= 0 && v <= 1)) throw new UserError(`--${name} must be a number from 0 to 1, got "${values[name]}"`);
  return v;
}

function positiveNumber(values: Values, name: StringFlag<Values>): number | undefined {
  const v = flagNumber(values, name);
  if (v !== undefined && !(v > 0)) throw new UserError(`--${name} must be a positive number, got "${values[name]}"`);
  return v;
}

/** Info lines and progress bars on stderr (a bar redraws on a terminal, prints every few seconds elsewhere). */
function reporter(quiet: boolean): { event(e: AdaptEvent): void; end(): void } {
  const bar = new ProgressBar({ unit: 'steps', logEveryMs: 5000 });
  const history = new ProgressBar({ unit: 'commits', logEveryMs: 5000 });
  let active: ProgressBar | undefined;
  const end = () => {
    active?.finish();
    active = undefined;
  };
  return {
    event(e) {
      if (quiet) return;
      if (e.kind === 'info') {
        end();
        process.stderr.write(`${e.message}\n`);
        return;
      }
      if (e.kind === 'history') {
        if (e.progress.phase !== 'commits') return;
        if (active !== history) {
          end();
          history.start('history', e.progress.total);
          active = history;
        }
        history.update(e.progress.done);
        return;
      }
      if (e.kind === 'train-start') {
        end();
        bar.start('training', e.steps, e.step);
        active = bar;
        return;
      }
      const p = e.progress;
      bar.update(p.step, { loss: p.loss.toFixed(3), 'tok/s': p.tokensPerSecond.toFixed(0) });
    },
    end,
  };
}

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v.toFixed(4));

function report(r: AdaptResult): string {
  const lines = [
    `adapter: ${r.outDir} (${r.mode === 'refresh' ? 'refreshed' : 'trained'}${r.resumed ? ', resumed' : ''}) through commit ${r.trainedThrough?.slice(0, 12)}`,
    `examples: ${r.examples.fim} FIM + ${r.examples.commitDiff} commit->diff${r.mode === 'refresh' ? ` new + ${r.examples.replay} replayed` : ''}` +
      ` -> ${r.sequences.train} sequences, ${r.tokens.train} tokens; held out: ${r.examples.heldout} changed files -> ${r.sequences.heldout} sequences, ${r.tokens.heldout} tokens`,
    `training: ${r.steps} steps in ${formatSeconds(r.trainSeconds)}; ${formatSeconds(r.seconds)} in all`,
    `time: ${r.phases.map(([name, s]) => `${name} ${formatSeconds(s)}${name === 'training' && r.seconds > 0 ? ` (${Math.round((100 * s) / r.seconds)}%)` : ''}`).join(', ')}`,
    `loss       before    after`,
    `train      ${fmt(r.before?.train).padEnd(9)} ${fmt(r.after?.train)}`,
    `held-out   ${fmt(r.before?.heldout).padEnd(9)} ${fmt(r.after?.heldout)}`,
  ];
  return lines.join('\n');
}

export const command: Command = {
  name: 'adapt',
  usage: `usage: codefudge adapt <repo> [options]
  Trains a LoRA adapter on the repository's history (FIM examples from its files, commit->diff
  examples from its commits; the newest commits are held out to measure the loss on) and writes
  it in PEFT format to <repo>/.codefudge/adapter/ with codefudge.json and training-log.json.
  Ctrl-C stops with a checkpoint: run the same command again to resume. Run it again after new
  commits to refresh the adapter with what is new.
  --model DIR|ID       base model (default: the embedded model ${EMBEDDED_MODEL})
  --out DIR            adapter folder (<repo>/.codefudge/adapter)
  --time 20m           time budget; steps from measured speed (default 15m)
  --epochs N           a time budget trains at most N passes over the data (3)
  --steps N            train exactly N optimizer steps instead
  --rank N             LoRA rank (8)          --alpha N      LoRA alpha (16)
  --targets LIST       projections, comma-separated (q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj)
  --dropout P          LoRA dropout (0)       --lr LR        peak learning rate (1e-3)
  --warmup N           warm-up steps (5 percent of the steps)
  --batch N            sequences per micro-batch, --accum N micro-batches per step (sized to memory; 8 per step)
  --seq N              longest sequence in tokens (512)
  --cutoff DATE        commits from this date on are held out, or
  --holdout P%         the newest P% of commits (10%)
  --include GLOB       only files matching (repeatable)   --exclude GLOB  leave files out (repeatable)
  --mix P              share of commit->diff examples (0.3)
  --replay P           refresh: share of replayed old examples (0.5)
  --fim-loss all|middle   learn every text token of a FIM example, or only the middle (all)
  --max-examples N     most training examples, a seeded sample beyond (4096)
  --from-scratch       ignore the existing adapter and any interrupted run
${QUANT_USAGE}
                       (int4/int8: QLoRA, the adapter trains over the quantized frozen weights)
  --seed N             (0)   --threads N   --device cpu|cuda   --quiet
${registerFlags.help}`,
  options: OPTIONS,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, OPTIONS);
    if (positionals.length !== 1) throw new UserError('adapt takes exactly one repository path');
    const repo = positionals[0];
    if (values.time !== undefined && values.steps !== undefined) throw new UserError('give --time or --steps, not both');
    const fimLoss = flagChoice(values, 'fim-loss', ['middle', 'all']);
    const device = deviceFlag(values) ?? 'cpu';
    const split = values.cutoff !== undefined || values.holdout !== undefined ? splitSpec(values.cutoff, values.holdout) : undefined;
    const targets = values.targets
      ?.split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    if (targets && !targets.length) throw new UserError('--targets needs at least one projection name');

    // Checked before training, so a wrong URL does not waste the run.
    const register = await registerTarget(values, repo, values.out);

    const controller = new AbortController();
    const progress = reporter(values.quiet ?? false);
    const onSignal = () => {
      // A second Ctrl-C quits at once; the last checkpoint is whole (written atomically), the lock is stale.
      if (controller.signal.aborted) process.exit(130);
      progress.end();
      process.stderr.write('stopping after this step (Ctrl-C again to quit at once)\n');
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let result: AdaptResult;
    try {
      result = await adapt({
        repo,
        model: values.model,
        out: values.out,
        steps: flagPositiveInt(values, 'steps'),
        timeSeconds: values.time !== undefined ? parseDuration(values.time) : undefined,
        rank: flagPositiveInt(values, 'rank'),
        alpha: positiveNumber(values, 'alpha'),
        targets,
        dropout: share(values, 'dropout'),
        lr: positiveNumber(values, 'lr'),
        warmup: nonNegativeInt(values, 'warmup'),
        batch: flagPositiveInt(values, 'batch'),
        gradAccum: flagPositiveInt(values, 'accum'),
        seq: flagPositiveInt(values, 'seq'),
        seed: flagInt(values, 'seed'),
        split: split && ('cutoff' in split ? { cutoff: split.cutoff.toISOString() } : split),
        include: values.include,
        exclude: values.exclude,
        commitDiffShare: share(values, 'mix'),
        replayShare: share(values, 'replay'),
        fimLoss,
        maxExamples: flagPositiveInt(values, 'max-examples'),
        maxEpochs: positiveNumber(values, 'epochs'),
        fromScratch: values['from-scratch'] ?? false,
        quant: quantFlag(values),
        session: { device, threads: flagPositiveInt(values, 'threads') },
        signal: controller.signal,
        onEvent: (e) => progress.event(e),
      });
    } finally {
      progress.end();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    if (result.status === 'stopped') {
      process.exitCode = 130;
      return;
    }
    if (result.status === 'trained') process.stdout.write(`${report(result)}\n`);
    if (register) process.stdout.write(`${await register(result.outDir)}\n`);
  },
};
