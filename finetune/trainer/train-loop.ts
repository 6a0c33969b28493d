// The training loop that `adapt` (LoRA) and `pretrain` (every weight) share: seeded data order,
// gradient accumulation, global-norm clipping, AdamW under a warm-up + cosine schedule, periodic
// evaluation, and checkpoints that resume to the same losses bit for bit.
import { createHash } from 'node:crypto';
import { TrainingSession, type SessionOptions } from '../../engine/index.js';
import { UserError } from '../../common/index.js';
import { AdamW } from './adamw.js';
import { checkExamples, collate, type TrainExample } from './batching.js';
import { loadCheckpoint, saveCheckpoint, type TrainState } from './checkpoint.js';
import { DataOrder } from './data-order.js';
import { clipGradNorm, globalNorm } from './grad-clip.js';
import { cosineWithWarmup } from './schedule.js';
import type { TrainTarget } from './train-target.js';

export interface TrainLoopOptions {
  target: TrainTarget;
  train: readonly TrainExample[];
  eval?: readonly TrainExample[];
  /** Optimizer steps in the whole run (the schedule's length). */
  steps: number;
  /** Examples per micro-batch. */
  batchSize: number;
  /** Micro-batches per optimizer step (default 1). */
  gradAccum?: number;
  lr: number;
  warmupSteps?: number;
  minLrRatio?: number;
  weightDecay?: number;
  betas?: [number, number];
  eps?: number;
  /** Clip the global gradient norm to this (default 1.0); null: no clipping. */
  maxGradNorm?: number | null;
  seed?: number;
  /** Evaluate every N steps (and after the last); 0 or absent: only when asked. */
  evalEvery?: number;
  checkpointDir?: string;
  /** Write a checkpoint every N steps (and after the last) when checkpointDir is set. */
  checkpointEvery?: number;
  /** Continue from the checkpoint in checkpointDir when there is one (default true). */
  resume?: boolean;
  padId?: number;
  onProgress?: (p: TrainProgress) => void;
  session?: SessionOptions;
}

export interface TrainProgress {
  step: number;
  totalSteps: number;
  /** Mean cross-entropy of this step's labelled tokens. */
  loss: number;
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Input tokens (padding excluded) in this step. */
  tokens: number;
  tokensPerSecond: number;
  elapsedSeconds: number;
  etaSeconds: number;
  /** Present on steps that evaluated. */
  evalLoss?: number;
}

export interface TrainResult {
  step: number;
  losses: number[];
  evalLosses: { step: number; loss: number }[];
  stopped: boolean;
}

/** The dropout seed of one micro-batch: a function of the run seed, step and micro-batch only. */
export function dropoutSeed(seed: number, step: number, micro: number): number {
  let h = (Math.imul(seed ^ 0x5bd1e995, 0x01000193) ^ Math.imul(step + 1, 0x9e3779b1) ^ Math.imul(micro + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39) >>> 0;
  return (h ^ (h >>> 15)) & 0x7fffffff;
}

function dataFingerprint(examples: readonly TrainExample[]): string {
  const hash = createHash('sha256');
  for (const e of examples) hash.update(`${e.ids.join(',')}|${e.labels?.join(',') ?? ''}\n`);
  return hash.digest('hex').slice(0, 16);
}

function checkOptions(o: TrainLoopOptions): void {
  const positiveInt = (v: number | undefined, what: string) => {
    if (v !== undefined && (!Number.isSafeInteger(v) || v <= 0)) throw new UserError(`${what} must be a positive integer, got ${v}`);
  };
  positiveInt(o.steps, 'steps');
  positiveInt(o.batchSize, 'batch size');
  positiveInt(o.gradAccum, 'gradient accumulation');
  if (!(o.lr > 0)) throw new UserError(`learning rate must be positive, got ${o.lr}`);
  if (o.warmupSteps !== undefined && !(o.warmupSteps >= 0)) throw new UserError(`warm-up steps must be >= 0, got ${o.warmupSteps}`);
}

export class TrainLoop {
  private readonly adam: AdamW;
  private readonly order: DataOrder;
  private state: TrainState;
  private evalSession?: TrainingSession;
  private accum = new Map<string, Float64Array>();

  private constructor(
    private readonly opts: TrainLoopOptions,
    private readonly session: TrainingSession,
    private readonly trainable: Map<string, Float32Array>,
    state: TrainState,
    adam: AdamW,
  ) {
    this.state = state;
    this.adam = adam;
    this.order = new DataOrder(opts.train.length, state.seed, state.data);
  }

  /** Compiles (or finds) the training graph and sets up the run, resuming from a checkpoint when there is one. */
  static async create(opts: TrainLoopOptions): Promise<TrainLoop> {
    checkOptions(opts);
    const vocab = opts.target.graph.config.vocabSize;
    checkExamples(opts.train, vocab, 'training');
    if (opts.eval?.length) checkExamples(opts.eval, vocab, 'evaluation');
    const seed = opts.seed ?? 0;
    const setup = createHash('sha256')
      .update(
        JSON.stringify({
          target: opts.target.key,
          data: dataFingerprint(opts.train),
          steps: opts.steps,
          batch: opts.batchSize,
          accum: opts.gradAccum ?? 1,
          lr: opts.lr,
          warmup: opts.warmupSteps ?? 0,
          minLr: opts.minLrRatio ?? 0,
          wd: opts.weightDecay ?? 0.01,
          betas: opts.betas ?? null,
          eps: opts.eps ?? null,
          clip: opts.maxGradNorm ?? 1,
          seed,
        }),
      )
      .digest('hex')
      .slice(0, 16);
    const adam = new AdamW({ betas: opts.betas, eps: opts.eps, weightDecay: opts.weightDecay });
    const ckpt = opts.checkpointDir && opts.resume !== false ? loadCheckpoint(opts.checkpointDir) : undefined;
    let values: Map<string, Float32Array>;
    let state: TrainState;
    if (ckpt) {
      if (ckpt.state.setup !== setup) {
        throw new UserError(
          `the checkpoint in "${opts.checkpointDir}" is from a run with other settings or data; delete it or repeat those settings`,
        );
      }
      values = ckpt.values;
      state = ckpt.state;
      adam.step = state.adamStep;
      for (const [k, m] of ckpt.moments) adam.moments.set(k, m);
    } else {
      values = opts.target.initialValues(seed);
      state = { step: 0, data: { epoch: 0, index: 0 }, seed, adamStep: 0, losses: [], evalLosses: [], setup };
    }
    const session = await TrainingSession.open({ ...opts.target.graph, gradients: true }, opts.session);
    for (const t of session.trainable) if (!values.has(t.name)) throw new UserError(`checkpoint has no tensor "${t.name}"`);
    return new TrainLoop(opts, session, values, state, adam);
  }

  /** Optimizer steps done. */
  get step(): number {
    return this.state.step;
  }

  /** The trainable tensors' current values (updated in place by each step). */
  get values(): ReadonlyMap<string, Float32Array> {
    return this.trainable;
  }

  get losses(): readonly number[] {
    return this.state.losses;
  }

  private lrAt(step: number): number {
    const o = this.opts;
    return cosineWithWarmup({ peakLr: o.lr, warmupSteps: o.warmupSteps ?? 0, totalSteps: o.steps, minLrRatio: o.minLrRatio }, step);
  }

  /** One optimizer step over `gradAccum` micro-batches; returns its mean loss, gradient norm and token count. */
  private async trainStep(): Promise<{ loss: number; gradNorm: number; tokens: number; lr: number }> {
    const o = this.opts;
    let lossSum = 0;
    let count = 0;
    let tokens = 0;
    for (const g of this.accum.values()) g.fill(0);
    for (let micro = 0; micro < (o.gradAccum ?? 1); micro++) {
      const batch = collate(
        this.order.take(o.batchSize).map((i) => o.train[i]),
        o.padId,
      );
      const out = await this.session.run(batch, this.trainable, dropoutSeed(this.state.seed, this.state.step, micro));
      lossSum += out.lossSum;
      count += out.count;
      tokens += batch.tokens;
      for (const [name, g] of out.grads!) {
        let acc = this.accum.get(name);
        if (!acc) this.accum.set(name, (acc = new Float64Array(g.length)));
        for (let i = 0; i < g.length; i++) acc[i] += g[i];
      }
    }
    // Sums over every labelled token of the step, so the mean weighs micro-batches by their tokens.
    for (const g of this.accum.values()) for (let i = 0; i < g.length; i++) g[i] /= count;
    const gradNorm = o.maxGradNorm === null ? globalNorm(this.accum.values()) : clipGradNorm(this.accum.values(), o.maxGradNorm ?? 1);
    const lr = this.lrAt(this.state.step);
    this.adam.update(this.trainable, this.accum, lr, (n) => this.opts.target.decays(n));
    this.state.step++;
    this.state.adamStep = this.adam.step;
    this.state.data = this.order.position;
    const loss = lossSum / count;
    this.state.losses.push(loss);
    return { loss, gradNorm, tokens, lr };
  }

  /** Mean loss over the evaluation examples (fixed order, no dropout). */
  async evaluate(): Promise<number> {
    const o = this.opts;
    if (!o.eval?.length) throw new Error('no evaluation examples');
    // The training graph also gives the loss; a second session would hold a second copy of the
    // frozen weights, so it is only opened when the training graph's loss differs (dropout).
    const needsOwn = (o.target.graph.lora?.dropout ?? 0) > 0 || !o.target.graph.weights;
    if (needsOwn && !this.evalSession) this.evalSession = await TrainingSession.open({ ...o.target.graph, gradients: false }, o.session);
    const session = needsOwn ? this.evalSession! : this.session;
    let lossSum = 0;
    let count = 0;
    for (let i = 0; i < o.eval.length; i += o.batchSize) {
      const out = await session.run(collate(o.eval.slice(i, i + o.batchSize), o.padId), this.trainable);
      lossSum += out.lossSum;
      count += out.count;
    }
    return lossSum / count;
  }

  checkpoint(): void {
    const dir = this.opts.checkpointDir;
    if (!dir) throw new Error('no checkpoint folder');
    saveCheckpoint(dir, { state: this.state, values: this.trainable, moments: this.adam.moments });
  }

  /** Trains until `steps` (or `untilStep`, or the signal) and returns the loss history. */
  async run(until: { untilStep?: number; signal?: AbortSignal } = {}): Promise<TrainResult> {
    const o = this.opts;
    const last = Math.min(o.steps, until.untilStep ?? o.steps);
    const started = performance.now();
    const firstStep = this.state.step;
    let stopped = false;
    while (this.state.step < last) {
      if (until.signal?.aborted) {
        stopped = true;
        break;
      }
      const t0 = performance.now();
      const { loss, gradNorm, tokens, lr } = await this.trainStep();
      const stepSeconds = (performance.now() - t0) / 1000;
      const step = this.state.step;
      let evalLoss: number | undefined;
      if (o.eval?.length && o.evalEvery && (step % o.evalEvery === 0 || step === o.steps)) {
        evalLoss = await this.evaluate();
        this.state.evalLosses.push({ step, loss: evalLoss });
      }
      if (o.checkpointDir && o.checkpointEvery && (step % o.checkpointEvery === 0 || step === o.steps)) this.checkpoint();
      const now = performance.now();
      const perStep = (now - started) / 1000 / (step - firstStep);
      o.onProgress?.({
        step,
        totalSteps: o.steps,
        loss,
        lr,
        gradNorm,
        tokens,
        tokensPerSecond: tokens / stepSeconds,
        elapsedSeconds: (now - started) / 1000,
        etaSeconds: perStep * (o.steps - step),
        evalLoss,
      });
    }
    return { step: this.state.step, losses: [...this.state.losses], evalLosses: [...this.state.evalLosses], stopped };
  }

  async close(): Promise<void> {
    await this.session.release();
    await this.evalSession?.release();
  }
}
