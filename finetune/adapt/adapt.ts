// `codefudge adapt`: learn a repository from its git history by training a LoRA adapter.
// Reads the history (time split: held-out commits never train), turns the examples into token
// sequences, sizes the run (steps from a time budget and measured speed), trains with
// checkpoints, and writes a PEFT adapter with its metadata and loss curve. An interrupted run
// resumes; an adapter from an earlier run is refreshed with what is new since its commit.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  defaultLoraSpec,
  fimTemplateFor,
  EMBEDDED_MODEL,
  LLAMA_PROJECTIONS,
  loadTokenizer,
  modelDirFor,
  openModelFolder,
  writePeftAdapter,
  type LoraAdapter,
  type FimTemplate,
  type ModelFolder,
  type SessionOptions,
  resolveQuantMode,
  type QuantMode,
} from '../../engine/index.js';
import { UserError, writeTextAtomic } from '../../common/index.js';
import {
  openRepository,
  type HistoryDataset,
  type HistoryOptions,
  type HistoryProgress,
  type HistoryRepository,
  type HistoryStats,
} from '../../history/index.js';
import { sampleExamples, HELDOUT_ITEMS_PER_SEQUENCE } from './history-sample.js';
import type { TrainExample } from '../trainer/batching.js';
import { TrainLoop, type TrainProgress } from '../trainer/train-loop.js';
import { loraTarget, type LoraTarget } from '../trainer/train-target.js';
import { checkNoSymlinks, defaultAdapterDir, keepOutOfGit, missingFolders, removeCreated } from './output-folder.js';
import { checkSameBase, existingAdapter, type AdapterMeta, type BaseModelRef } from './adapter-meta.js';
import { baseModelFingerprint } from './base-model.js';
import { formatSeconds } from './duration.js';
import { meanLosses } from './evaluate.js';
import type { FimLoss } from './fim-sequence.js';
import { heldoutSequences } from './heldout-sequences.js';
import { AdaptLock } from './lock.js';
import { batching, stepsForTime, thisMachine, warmupFor, type Machine } from './machine.js';
import { conflicts, readPlan, writePlan, type AdaptSettings, type Losses, type RunPlan, type SplitSetting } from './run-plan.js';
import { spreadEvenly } from './sampling.js';
import { DEFAULT_SEQUENCE_LENGTH, sequenceFormat } from '../../suggest/index.js';
import { secondsPerStep } from '../trainer/step-time.js';
import { pickMix, pickRefresh, toSequencesAsync, type ExamplePick } from './training-set.js';

// Other parts of finetune find the default folder here.
export { defaultAdapterDir };
export const CHECKPOINT_DIR = '.checkpoint';
export const TRAINING_LOG = 'training-log.json';

export const ADAPT_DEFAULTS = {
  rank: 8,
  alpha: 16,
  targets: [...LLAMA_PROJECTIONS] as string[],
  dropout: 0,
  lr: 1e-3,
  seq: DEFAULT_SEQUENCE_LENGTH,
  seed: 0,
  split: { holdoutPercent: 10 } as SplitSetting,
  commitDiffShare: 0.3,
  replayShare: 0.5,
  /** Every text token of a FIM example: several times the signal of the middle alone, and it lowered the held-out (middle) loss faster. */
  fimLoss: 'all' as FimLoss,
  maxExamples: 4096,
  /** The time budget when neither steps nor time is given. */
  timeSeconds: 15 * 60,
  /** A time budget never trains more passes over the data than this. */
  maxEpochs: 3,
  /** Training sequences the train loss is measured on. */
  trainSample: 32,
  /** Held-out sequences the held-out loss is measured on. */
  heldoutSample: 64,
};

export interface AdaptOptions {
  repo: string;
  /** The base model: a folder or a hub id; default the embedded model. Recorded in the adapter by this name. */
  model?: string;
  /** Default `<repo>/.codefudge/adapter`. */
  out?: string;
  /** Optimizer steps; or a time budget in seconds (steps from measured speed). Default: a 15-minute budget. */
  steps?: number;
  timeSeconds?: number;
  rank?: number;
  alpha?: number;
  targets?: string[];
  dropout?: number;
  lr?: number;
  warmup?: number;
  batch?: number;
  gradAccum?: number;
  seq?: number;
  seed?: number;
  split?: SplitSetting;
  include?: string[];
  exclude?: string[];
  /** Share of commit->diff sequences among the training sequences (default 0.3). */
  commitDiffShare?: number;
  /** A refresh's share of replayed old examples (default 0.5). */
  replayShare?: number;
  fimLoss?: FimLoss;
  /** A time budget trains at most this many passes over the data (default 3). */
  maxEpochs?: number;
  /** Most training examples tokenized (a seeded sample beyond that). */
  maxExamples?: number;
  /** Ignore an existing adapter and any interrupted run. */
  fromScratch?: boolean;
  session?: SessionOptions;
  /** Train over int4/int8 frozen weights (QLoRA) or float32 ones; undefined: the default for the model's size. */
  quant?: QuantMode;
  /** Stops training after the current step, with a checkpoint (Ctrl-C). */
  signal?: AbortSignal;
  onEvent?: (e: AdaptEvent) => void;
  /** Facts used to size the defaults (tests pass their own). */
  machine?: Machine;
}

export type AdaptEvent =
  | { kind: 'info'; message: string }
  | { kind: 'history'; progress: HistoryProgress }
  | { kind: 'train-start'; step: number; steps: number }
  | { kind: 'train'; progress: TrainProgress };

export interface AdaptResult {
  /** trained: adapter written; stopped: interrupted (resumable once training began); up-to-date: nothing new. */
  status: 'trained' | 'stopped' | 'up-to-date';
  outDir: string;
  mode: 'full' | 'refresh';
  resumed: boolean;
  trainedThrough: string | null;
  step: number;
  steps: number;
  examples: { fim: number; commitDiff: number; replay: number; heldout: number };
  sequences: { train: number; heldout: number };
  tokens: { train: number; heldout: number };
  before?: Losses;
  after?: Losses;
  /** Wall-clock seconds of this invocation, and of training over all invocations. */
  seconds: number;
  trainSeconds: number;
  /** Seconds of this invocation by phase, in order (history, tokenizing, loss before, speed, training, loss after). */
  phases: Array<[string, number]>;
}

/** The settings the user gave explicitly (undefined: not given), for checking against a plan. */
function givenSettings(o: AdaptOptions): Partial<AdaptSettings> {
  return {
    rank: o.rank,
    alpha: o.alpha,
    targets: o.targets,
    dropout: o.dropout,
    lr: o.lr,
    batch: o.batch,
    gradAccum: o.gradAccum,
    seq: o.seq,
    steps: o.steps,
    warmup: o.warmup,
    seed: o.seed,
    split: o.split,
    include: o.include,
    exclude: o.exclude,
    commitDiffShare: o.commitDiffShare,
    replayShare: o.replayShare,
    fimLoss: o.fimLoss,
    maxExamples: o.maxExamples,
  };
}

function historyOptions(
  s: Pick<AdaptSettings, 'split' | 'seed' | 'include' | 'exclude'>,
  onProgress: HistoryOptions['onProgress'],
  signal: AbortSignal | undefined,
): HistoryOptions {
  return {
    signal,
    split: 'cutoff' in s.split ? { cutoff: new Date(s.split.cutoff) } : s.split,
    seed: s.seed,
    // Every file version the training commits wrote, not only the newest: more, and more varied, FIM examples.
    fimRevisions: 'each',
    include: s.include ?? undefined,
    exclude: s.exclude,
    onProgress,
  };
}

const short = (sha: string | null) => (sha ? sha.slice(0, 7) : '-');
const tokensOf = (seqs: readonly TrainExample[]) => seqs.reduce((n, s) => n + s.ids.length, 0);

export async function adapt(opts: AdaptOptions): Promise<AdaptResult> {
  const started = performance.now();
  const repo = await openRepository(opts.repo);
  try {
    const outDir = path.resolve(opts.out ?? defaultAdapterDir(repo.path));
    checkNoSymlinks(repo.path, outDir);
    const modelDir = await modelDirFor(opts.model);
    const created = missingFolders(outDir);
    const lock = AdaptLock.acquire(outDir, repo.path);
    let result: AdaptResult | undefined;
    try {
      if (!opts.out) keepOutOfGit(path.dirname(outDir));
      result = await new AdaptRun(opts, repo, modelDir, outDir, started).run();
      return result;
    } finally {
      lock.release();
      if (result?.status !== 'trained') removeCreated(created);
    }
  } finally {
    repo.close();
  }
}

class AdaptRun {
  private readonly say: (message: string) => void;
  private readonly ckptDir: string;

  constructor(
    private readonly opts: AdaptOptions,
    private readonly headRepo: HistoryRepository,
    private readonly modelDir: string,
    private readonly outDir: string,
    private readonly started: number,
  ) {
    this.say = (message) => opts.onEvent?.({ kind: 'info', message });
    this.ckptDir = path.join(outDir, CHECKPOINT_DIR);
  }

  private get stopping(): boolean {
    return this.opts.signal?.aborted === true;
  }

  async run(): Promise<AdaptResult> {
    const folder = openModelFolder(this.modelDir);
    try {
      return await this.runWith(folder);
    } finally {
      folder.weights.close();
    }
  }

  private async runWith(folder: ModelFolder): Promise<AdaptResult> {
    const o = this.opts;
    const tokenizer = await loadTokenizer(this.modelDir);
    const template = fimTemplateFor(this.modelDir, tokenizer, folder.config);
    const base: BaseModelRef = {
      fingerprint: baseModelFingerprint(folder),
      name: o.model ?? EMBEDDED_MODEL,
      path: path.resolve(this.modelDir),
    };

    if (o.fromScratch) fs.rmSync(this.ckptDir, { recursive: true, force: true });
    const plan = readPlan(this.ckptDir);
    // A full run (fresh, or resumed) replaces whatever adapter is there; only a refresh reads it.
    const previous = o.fromScratch || plan?.kind === 'full' ? undefined : existingAdapter(this.outDir);
    if (plan) this.checkResumable(plan, base, previous?.meta);
    else if (previous) {
      checkSameBase(previous.meta, base, this.outDir);
      this.checkSpecKept(previous.adapter);
    }

    // Everything that decides the data is fixed by the plan when resuming.
    const mode: 'full' | 'refresh' = plan?.kind ?? (previous ? 'refresh' : 'full');
    const since = plan?.since ?? (mode === 'refresh' ? previous!.meta.trained_through : null);
    const data = {
      split: plan?.settings.split ?? o.split ?? ADAPT_DEFAULTS.split,
      seed: plan?.settings.seed ?? o.seed ?? ADAPT_DEFAULTS.seed,
      include: plan ? plan.settings.include : (o.include ?? null),
      exclude: plan?.settings.exclude ?? o.exclude ?? [],
    };
    const repo = plan ? await this.openAt(plan.head) : this.headRepo;
    try {
      const hist = historyOptions(data, (progress) => o.onEvent?.({ kind: 'history', progress }), o.signal);
      if (plan) this.say(`resuming the interrupted ${mode === 'refresh' ? 'refresh' : 'run'} on commit ${short(plan.head)}`);
      this.say(`reading the history of ${repo.path}`);
      const full = await this.collect(repo, hist, plan?.settings.maxExamples);
      this.phase('history');
      const through = full.stats.cutoffSha;
      let fresh: HistoryDataset | undefined;
      if (mode === 'refresh') {
        if (!plan && through === since) return this.upToDate(mode, since, 'no newer training commits');
        fresh = await this.collectSince(repo, hist, since!);
        if (!plan && !fresh.train.fim.length && !fresh.train.commitDiff.length)
          return this.upToDate(mode, through, 'no new code in the newer commits');
      }
      return await this.train({ folder, tokenizer, template, base, plan, previous, mode, since, full, fresh, data, head: repo.head });
    } finally {
      if (repo !== this.headRepo) repo.close();
    }
  }

  private checkResumable(plan: RunPlan, base: BaseModelRef, meta: AdapterMeta | undefined): void {
    if (plan.baseModel.fingerprint !== base.fingerprint) {
      throw new UserError(
        `the interrupted run in ${this.ckptDir} is for base model ${plan.baseModel.name} (fingerprint ${plan.baseModel.fingerprint}), not ${base.name}; pass --from-scratch to discard it`,
      );
    }
    const differ = conflicts(plan.settings, givenSettings(this.opts));
    if (differ.length) {
      throw new UserError(
        `an interrupted run in ${this.ckptDir} used other settings: ${differ.join(', ')}; rerun with its settings to resume, or pass --from-scratch`,
      );
    }
    if (plan.kind === 'refresh' && meta?.trained_through !== plan.since) {
      throw new UserError(`the adapter in ${this.outDir} changed since the interrupted refresh began; pass --from-scratch to discard it`);
    }
  }

  /** A refresh continues the adapter as it is: a different rank or target list needs a new adapter. */
  private checkSpecKept(adapter: LoraAdapter): void {
    const o = this.opts;
    const spec = adapter.spec;
    const targets = typeof spec.targets === 'string' ? spec.targets : [...spec.targets].sort().join(',');
    const differ = [
      o.rank !== undefined && o.rank !== spec.r ? `--rank ${o.rank} (it has ${spec.r})` : '',
      o.alpha !== undefined && o.alpha !== spec.alpha ? `--alpha ${o.alpha} (it has ${spec.alpha})` : '',
      o.targets !== undefined && [...o.targets].sort().join(',') !== targets ? `--targets ${o.targets.join(',')} (it has ${targets})` : '',
    ].filter(Boolean);
    if (differ.length) {
      throw new UserError(
        `refreshing the adapter in ${this.outDir} keeps its shape, but ${differ.join(', ')}; pass --from-scratch to train a new one`,
      );
    }
  }

  private async openAt(head: string): Promise<HistoryRepository> {
    try {
      return await openRepository(this.headRepo.path, head);
    } catch {
      throw new UserError(
        `the interrupted run was reading commit ${short(head)}, which is no longer in ${this.headRepo.path}; pass --from-scratch`,
      );
    }
  }

  /** The examples kept from the history: seeded samples in memory bounded by the example budget. */
  private collect(repo: HistoryRepository, hist: HistoryOptions, planned: number | undefined): Promise<HistoryDataset> {
    return sampleExamples(repo, hist, {
      maxExamples: planned ?? this.opts.maxExamples ?? ADAPT_DEFAULTS.maxExamples,
      maxHeldout: ADAPT_DEFAULTS.heldoutSample * HELDOUT_ITEMS_PER_SEQUENCE,
      seed: hist.seed ?? 0,
    });
  }

  private readonly phases: Array<[string, number]> = [];
  private phaseStart = performance.now();

  /** Ends the phase `name` now. */
  private phase(name: string): number {
    const now = performance.now();
    const seconds = (now - this.phaseStart) / 1000;
    this.phases.push([name, seconds]);
    this.phaseStart = now;
    return seconds;
  }

  private async collectSince(repo: HistoryRepository, hist: HistoryOptions, since: string): Promise<HistoryDataset> {
    try {
      return await this.collect(repo, { ...hist, since }, undefined);
    } catch (e) {
      if (e instanceof UserError)
        throw new UserError(`cannot refresh the adapter in ${this.outDir}: ${e.message}; pass --from-scratch to retrain`);
      throw e;
    }
  }

  private upToDate(mode: 'full' | 'refresh', through: string | null, why: string): AdaptResult {
    this.say(`the adapter in ${this.outDir} is up to date (trained through ${short(through)}; ${why}); --from-scratch retrains it`);
    return {
      status: 'up-to-date',
      outDir: this.outDir,
      mode,
      resumed: false,
      trainedThrough: through,
      step: 0,
      steps: 0,
      examples: { fim: 0, commitDiff: 0, replay: 0, heldout: 0 },
      sequences: { train: 0, heldout: 0 },
      tokens: { train: 0, heldout: 0 },
      seconds: (performance.now() - this.started) / 1000,
      trainSeconds: 0,
      phases: this.phases,
    };
  }

  private async train(c: TrainContext): Promise<AdaptResult> {
    const o = this.opts;
    const { folder, plan } = c;
    // The interrupted run's settings when resuming, else what the user gave (undefined: the default).
    const given = <K extends keyof AdaptSettings>(key: K): AdaptSettings[K] | undefined =>
      plan ? plan.settings[key] : givenSettings(o)[key];
    const seq = Math.min(given('seq') ?? ADAPT_DEFAULTS.seq, folder.config.maxPositionEmbeddings);
    const fmt = sequenceFormat(c.tokenizer, c.template, folder.config, seq);
    const mix = {
      commitDiffShare: given('commitDiffShare') ?? ADAPT_DEFAULTS.commitDiffShare,
      max: given('maxExamples') ?? ADAPT_DEFAULTS.maxExamples,
      seed: c.data.seed,
    };
    const replayShare = given('replayShare') ?? ADAPT_DEFAULTS.replayShare;
    const fimLoss = given('fimLoss') ?? ADAPT_DEFAULTS.fimLoss;
    let picks: { fresh: ExamplePick; replay?: ExamplePick };
    if (c.fresh) picks = pickRefresh(c.full, c.fresh, { ...mix, replayShare });
    else picks = { fresh: pickMix(c.full.train.fim, c.full.train.commitDiff, mix) };
    if (this.stopping) return this.stoppedEarly(c, { fim: 0, commitDiff: 0, replay: 0, heldout: 0 }, [], []);
    this.say('tokenizing');
    const train = [
      ...(await toSequencesAsync(fmt, picks.fresh, fimLoss, o.signal)),
      ...(picks.replay ? await toSequencesAsync(fmt, picks.replay, fimLoss, o.signal) : []),
    ];
    if (this.stopping) return this.stoppedEarly(c, { fim: 0, commitDiff: 0, replay: 0, heldout: 0 }, train, []);
    if (!train.length) throw new UserError(`no training example fits in ${seq} tokens`);
    const heldout = heldoutSequences(fmt, c.full.heldout, { max: ADAPT_DEFAULTS.heldoutSample });
    const trainSample = spreadEvenly(train, ADAPT_DEFAULTS.trainSample);
    const examples = {
      fim: picks.fresh.fim.length,
      commitDiff: picks.fresh.commitDiff.length,
      replay: picks.replay ? picks.replay.fim.length + picks.replay.commitDiff.length : 0,
      heldout: c.full.heldout.length,
    };
    const stats = c.full.stats;
    this.phase('tokenizing');
    this.say(
      `${stats.commits} commits (${stats.trainCommits} train through ${short(stats.cutoffSha)}, ${stats.heldoutCommits} held out)${sampledNote(stats)}${unreadableNote(stats)}; ` +
        (c.mode === 'refresh'
          ? `refreshing the adapter trained through ${short(c.since)}: ${examples.fim + examples.commitDiff} new examples + ${examples.replay} replayed old ones`
          : `${examples.fim} FIM + ${examples.commitDiff} commit->diff examples`) +
        ` -> ${train.length} sequences, ${tokensOf(train)} tokens; ${heldout.length} held-out sequences`,
    );
    if (!heldout.length) this.say('no held-out commit adds code: the held-out loss cannot be measured');

    const spec =
      c.previous?.adapter.spec ??
      defaultLoraSpec({
        r: given('rank') ?? ADAPT_DEFAULTS.rank,
        alpha: given('alpha') ?? ADAPT_DEFAULTS.alpha,
        dropout: given('dropout') ?? ADAPT_DEFAULTS.dropout,
        targets: given('targets') ?? ADAPT_DEFAULTS.targets,
      });
    const quant = resolveQuantMode(folder.config, o.quant);
    if (quant !== 'none') this.say(`training over ${quant} base weights (QLoRA); the adapter applies to the float model too`);
    const target = loraTarget(folder, spec, c.previous?.adapter, quant);
    const sizes = batching(folder.config, seq, o.machine ?? thisMachine(), {
      batch: given('batch'),
      gradAccum: given('gradAccum'),
    });
    const lr = given('lr') ?? ADAPT_DEFAULTS.lr;
    const seed = c.data.seed;
    if (this.stopping) return this.stoppedEarly(c, examples, train, heldout);

    let before = plan?.before;
    if (!before) {
      this.say(`measuring the loss ${c.mode === 'refresh' ? 'of the current adapter' : 'of the base model'}`);
      before = await this.losses(target, target.initialValues(seed), trainSample, heldout, sizes.batch);
    }
    // Measuring the loss after costs what measuring it before did: that, not the time spent so far, is reserved.
    const evalSeconds = this.phase('loss before');
    let steps = plan?.settings.steps ?? o.steps;
    if (steps === undefined) {
      steps = await this.stepsForBudget(target, train, sizes, lr, seed, evalSeconds);
      this.phase('speed');
      if (this.stopping) return this.stoppedEarly(c, examples, train, heldout);
    }
    const settings: AdaptSettings = {
      rank: spec.r,
      alpha: spec.alpha,
      targets: typeof spec.targets === 'string' ? [spec.targets] : [...spec.targets],
      dropout: spec.dropout,
      lr,
      batch: sizes.batch,
      gradAccum: sizes.gradAccum,
      seq,
      steps,
      warmup: given('warmup') ?? warmupFor(steps),
      seed,
      split: c.data.split,
      include: c.data.include,
      exclude: c.data.exclude,
      commitDiffShare: mix.commitDiffShare,
      replayShare,
      fimLoss,
      maxExamples: mix.max,
    };
    const runPlan: RunPlan = plan ?? {
      format: 1,
      kind: c.mode,
      head: c.head,
      since: c.since,
      baseModel: c.base,
      settings,
      before,
      started: new Date().toISOString(),
      trainSeconds: 0,
    };
    writePlan(this.ckptDir, runPlan);

    const loop = await TrainLoop.create({
      target,
      train,
      steps,
      batchSize: settings.batch,
      gradAccum: settings.gradAccum,
      lr,
      warmupSteps: settings.warmup,
      seed,
      weightDecay: 0,
      checkpointDir: this.ckptDir,
      checkpointEvery: Math.max(1, Math.min(50, Math.ceil(steps / 10))),
      session: o.session,
      onProgress: (progress) => o.onEvent?.({ kind: 'train', progress }),
    });
    let result;
    const trainStart = performance.now();
    try {
      if (loop.step > 0) this.say(`resuming at step ${loop.step} of ${steps}`);
      this.say(`training ${steps} steps of ${settings.batch} x ${settings.gradAccum} sequences (rank ${spec.r}, lr ${lr})`);
      o.onEvent?.({ kind: 'train-start', step: loop.step, steps });
      result = await loop.run({ signal: o.signal });
      if (result.stopped) loop.checkpoint();
    } finally {
      await loop.close();
    }
    this.phase('training');
    const trainSeconds = runPlan.trainSeconds + (performance.now() - trainStart) / 1000;
    const summary = {
      outDir: this.outDir,
      mode: c.mode,
      resumed: !!plan,
      trainedThrough: stats.cutoffSha,
      step: result.step,
      steps,
      examples,
      sequences: { train: train.length, heldout: heldout.length },
      tokens: { train: tokensOf(train), heldout: tokensOf(heldout) },
      before,
    };
    if (result.stopped) {
      writePlan(this.ckptDir, { ...runPlan, trainSeconds });
      this.say(`stopped at step ${result.step} of ${steps}, checkpoint saved; run the same command again to resume`);
      return { ...summary, status: 'stopped', seconds: (performance.now() - this.started) / 1000, trainSeconds, phases: this.phases };
    }

    this.say('measuring the loss of the trained adapter');
    const after = await this.losses(target, loop.values, trainSample, heldout, settings.batch);
    this.phase('loss after');
    const meta: AdapterMeta = {
      format: 1,
      base_model: c.base,
      repository: this.headRepo.path,
      trained_through: stats.cutoffSha!,
      trained_through_date: stats.cutoffDate,
      runs: [
        ...(c.previous?.meta.runs ?? []),
        { kind: c.mode, since: c.since, through: stats.cutoffSha!, steps, finished: new Date().toISOString() },
      ],
      settings,
      fim_template: c.template.family,
    };
    writePeftAdapter(this.outDir, target.toAdapter(loop.values, c.base.name, meta));
    writeTextAtomic(
      path.join(this.outDir, TRAINING_LOG),
      `${JSON.stringify(
        {
          format: 1,
          kind: c.mode,
          since: c.since,
          trained_through: stats.cutoffSha,
          base_model: c.base,
          settings,
          examples,
          sequences: summary.sequences,
          tokens: summary.tokens,
          history: stats,
          steps,
          train_seconds: trainSeconds,
          loss_curve: result.losses.map((loss, i) => ({ step: i + 1, loss })),
          before,
          after,
        },
        null,
        2,
      )}\n`,
    );
    fs.rmSync(this.ckptDir, { recursive: true, force: true });
    return { ...summary, status: 'trained', after, seconds: (performance.now() - this.started) / 1000, trainSeconds, phases: this.phases };
  }

  private async losses(
    target: LoraTarget,
    values: ReadonlyMap<string, Float32Array>,
    trainSample: TrainExample[],
    heldout: TrainExample[],
    batch: number,
  ): Promise<Losses> {
    const [train, held] = await meanLosses(target, values, [trainSample, heldout], batch, this.opts.session);
    return { train, heldout: held };
  }

  /** Steps that fit the time budget after what is spent already (history, tokenizing, the loss before, and after). */
  private async stepsForBudget(
    target: LoraTarget,
    train: TrainExample[],
    sizes: { batch: number; gradAccum: number },
    lr: number,
    seed: number,
    evalSeconds: number,
  ): Promise<number> {
    const budget = this.opts.timeSeconds ?? ADAPT_DEFAULTS.timeSeconds;
    this.say('measuring training speed');
    const perStep = await secondsPerStep({
      target,
      train,
      batchSize: sizes.batch,
      gradAccum: sizes.gradAccum,
      lr,
      seed,
      session: this.opts.session,
    });
    const maxEpochs = this.opts.maxEpochs ?? ADAPT_DEFAULTS.maxEpochs;
    const epochCap = Math.max(1, Math.ceil((maxEpochs * train.length) / (sizes.batch * sizes.gradAccum)));
    const steps = stepsForTime({
      budget,
      spent: (performance.now() - this.started) / 1000,
      evalSeconds,
      secondsPerStep: perStep,
      cap: epochCap,
    });
    this.say(
      `${formatSeconds(perStep)} per step: ${steps} steps fit in ${formatSeconds(budget)}` +
        (steps === epochCap ? ` (capped at ${maxEpochs} passes over the data)` : ''),
    );
    return steps;
  }

  private stoppedEarly(c: TrainContext, examples: AdaptResult['examples'], train: TrainExample[], heldout: TrainExample[]): AdaptResult {
    this.say('stopped before training began; nothing saved');
    return {
      status: 'stopped',
      outDir: this.outDir,
      mode: c.mode,
      resumed: false,
      trainedThrough: c.full.stats.cutoffSha,
      step: 0,
      steps: 0,
      examples,
      sequences: { train: train.length, heldout: heldout.length },
      tokens: { train: tokensOf(train), heldout: tokensOf(heldout) },
      seconds: (performance.now() - this.started) / 1000,
      trainSeconds: 0,
      phases: this.phases,
    };
  }
}

/** How the history was sampled, when it was: it was longer than the example budget needs. */
function sampledNote(stats: HistoryStats): string {
  const r = stats.readCommits;
  if (r.train >= stats.trainCommits && r.heldout >= stats.heldoutCommits) return '';
  return (
    `, read ${r.train} of the training and ${r.heldout} of the held-out commits, spread evenly over the history` +
    ' (more than the example budget needs)'
  );
}

function unreadableNote(stats: HistoryStats): string {
  const parts = [
    stats.unreadableBlobs ? `${stats.unreadableBlobs} blobs unreadable, skipped` : '',
    stats.unreadableCommits ? `${stats.unreadableCommits} commits unreadable, skipped` : '',
  ].filter(Boolean);
  return parts.length ? ` (${parts.join('; ')}; nothing was fetched)` : '';
}

interface TrainContext {
  folder: ModelFolder;
  tokenizer: Awaited<ReturnType<typeof loadTokenizer>>;
  template: FimTemplate;
  base: BaseModelRef;
  plan: RunPlan | undefined;
  /** The adapter a refresh continues. */
  previous: { adapter: LoraAdapter; meta: AdapterMeta } | undefined;
  mode: 'full' | 'refresh';
  since: string | null;
  full: HistoryDataset;
  fresh: HistoryDataset | undefined;
  data: { split: SplitSetting; seed: number; include: string[] | null; exclude: string[] };
  head: string;
}
