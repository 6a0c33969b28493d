import { EMBEDDED_MODEL } from '../../engine/index.js';
import { ProgressBar } from '../progress-bar.js';
import { UserError } from '../../common/index.js';
import { adapt, formatSeconds, parseDuration, type AdaptEvent, type AdaptResult, type FimLoss } from '../../finetune/index.js';
import {
  checkFlags,
  deviceFlag,
  flagBool,
  flagInt,
  flagNumber,
  flagString,
  parseArgs,
  QUANT_USAGE,
  quantFlag,
  type Args,
} from '../args.js';
import type { Command } from '../command.js';
import { splitSpec, takeRepeated } from '../history-flags.js';
import { registerFlags, registerTarget } from '../register-flags.js';

const REPEATABLE = ['include', 'exclude'];
const FLAGS = [
  'model',
  'out',
  'time',
  'steps',
  'rank',
  'alpha',
  'targets',
  'dropout',
  'lr',
  'warmup',
  'batch',
  'accum',
  'seq',
  'cutoff',
  'holdout',
  'mix',
  'replay',
  'fim-loss',
  'max-examples',
  'epochs',
  'from-scratch',
  'seed',
  'threads',
  'device',
  'quiet',
  'quant',
  ...registerFlags.names,
];

/** A flag's value when given, else undefined (so the run's defaults, or an interrupted run's settings, apply). */
function optional<T>(args: Args, name: string, read: (args: Args, name: string) => T): T | undefined {
  return args.flags.has(name) ? read(args, name) : undefined;
}

function positiveInt(args: Args, name: string): number {
  const n = flagInt(args, name, 0);
  if (n <= 0) throw new UserError(`--${name} must be a positive integer, got "${args.flags.get(name)}"`);
  return n;
}

function nonNegativeInt(args: Args, name: string): number {
  const n = flagInt(args, name, 0);
  if (n < 0) throw new UserError(`--${name} must be 0 or more, got "${args.flags.get(name)}"`);
  return n;
}

function share(args: Args, name: string): number {
  const v = flagNumber(args, name, 0);
  if (!(v >= 0 && v <= 1)) throw new UserError(`--${name} must be a number from 0 to 1, got "${args.flags.get(name)}"`);
  return v;
}

function positiveNumber(args: Args, name: string): number {
  const v = flagNumber(args, name, 0);
  if (!(v > 0)) throw new UserError(`--${name} must be a positive number, got "${args.flags.get(name)}"`);
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
  summary: 'learn a repository from its git history: train a LoRA adapter (resumable, refreshes incrementally)',
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
  async run(argv) {
    const { rest, values } = takeRepeated(argv, REPEATABLE);
    const args = parseArgs(rest, ['from-scratch', 'quiet']);
    checkFlags(args, FLAGS);
    if (args.positionals.length !== 1) throw new UserError('adapt takes exactly one repository path');
    if (args.flags.has('time') && args.flags.has('steps')) throw new UserError('give --time or --steps, not both');
    const fimLoss = flagString(args, 'fim-loss');
    if (fimLoss !== undefined && fimLoss !== 'middle' && fimLoss !== 'all')
      throw new UserError(`--fim-loss must be middle or all, got "${fimLoss}"`);
    const device = deviceFlag(args) ?? 'cpu';
    const split =
      args.flags.has('cutoff') || args.flags.has('holdout')
        ? splitSpec(flagString(args, 'cutoff'), flagString(args, 'holdout'))
        : undefined;
    const targets = flagString(args, 'targets')
      ?.split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    if (targets && !targets.length) throw new UserError('--targets needs at least one projection name');

    // Checked before training, so a wrong URL does not waste the run.
    const register = await registerTarget(args, args.positionals[0], flagString(args, 'out'));

    const controller = new AbortController();
    const progress = reporter(flagBool(args, 'quiet'));
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
        repo: args.positionals[0],
        model: flagString(args, 'model'),
        out: flagString(args, 'out'),
        steps: optional(args, 'steps', positiveInt),
        timeSeconds: args.flags.has('time') ? parseDuration(args.flags.get('time')!) : undefined,
        rank: optional(args, 'rank', positiveInt),
        alpha: optional(args, 'alpha', positiveNumber),
        targets,
        dropout: optional(args, 'dropout', share),
        lr: optional(args, 'lr', positiveNumber),
        warmup: optional(args, 'warmup', nonNegativeInt),
        batch: optional(args, 'batch', positiveInt),
        gradAccum: optional(args, 'accum', positiveInt),
        seq: optional(args, 'seq', positiveInt),
        seed: optional(args, 'seed', (a, n) => flagInt(a, n, 0)),
        split: split && ('cutoff' in split ? { cutoff: split.cutoff.toISOString() } : split),
        include: values.get('include')!.length ? values.get('include') : undefined,
        exclude: values.get('exclude')!.length ? values.get('exclude') : undefined,
        commitDiffShare: optional(args, 'mix', share),
        replayShare: optional(args, 'replay', share),
        fimLoss: fimLoss as FimLoss | undefined,
        maxExamples: optional(args, 'max-examples', positiveInt),
        maxEpochs: optional(args, 'epochs', positiveNumber),
        fromScratch: flagBool(args, 'from-scratch'),
        quant: quantFlag(args),
        session: { device, threads: optional(args, 'threads', positiveInt) },
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
