// The training graph: decoder + causal-LM loss + the gradients of the trainable tensors, as one
// ordinary ONNX graph. Trainable tensors (LoRA A/B, or model weights when pretraining) are graph
// inputs; frozen weights are initializers. A loss-only variant serves evaluation.
import type { ModelConfig } from '../config.js';
import { checkpointedGrad } from '../autodiff/checkpoint.js';
import { grad } from '../autodiff/grad.js';
import { Builder } from '../graph/builder.js';
import type { DType } from '../graph/dtype.js';
import type { Value } from '../graph/graph.js';
import { compiledGraph } from '../graph-cache.js';
import { buildDecoder, type ModelParams } from '../llama/decoder.js';
import type { WeightReader } from '../llama/inference-graph.js';
import { buildCausalLmLoss, causalLmTargets, lossFeeds } from '../llama/loss.js';
import { openSession, ort, type SessionOptions } from '../session.js';
import { expectedTensors } from '../weight-layout.js';
import { QUANT_METHOD, type QuantMode } from '../quant/quant-mode.js';
import { quantizedInitializers } from '../quant/quantized-params.js';
import { loraHook } from './lora-hook.js';
import type { LoraLayout } from './lora-layout.js';

export const DROPOUT_SEED_INPUT = 'lora_dropout_seed';
export const LOSS_OUTPUT = 'loss_sum';
export const gradOutput = (name: string) => `grad.${name}`;

export interface TrainingGraphSpec {
  config: ModelConfig;
  /** Where frozen weights come from (every weight not trained); unused when all are trained. */
  weights?: WeightReader;
  /** Identifies `weights` in the graph cache (e.g. the weight files' fingerprint). */
  weightsKey: string;
  /** Model weights (Hugging Face names) trained as graph inputs: all of them for pretraining. */
  trainableWeights?: readonly string[];
  /** LoRA matrices trained as graph inputs named by PEFT key, with the branch's dropout. */
  lora?: { layout: LoraLayout; dropout: number };
  /** false: loss only (evaluation); no gradients, no dropout. */
  gradients: boolean;
  /** float64 for gradient checks; float32 otherwise. */
  floatType?: DType;
  /**
   * Frozen weights stored int4/int8 (QLoRA): the forward pass runs MatMulNBits over them and the
   * backward pass dequantizes each one in the graph for dx. 'none' (default): float.
   */
  quant?: QuantMode;
  /**
   * Activation checkpointing (autodiff/checkpoint.ts): keep only each decoder layer's input from the
   * forward pass and recompute the layer in the backward pass. Default: on over a quantized base
   * (QLoRA is chosen to save memory; the recomputation costs about one more forward pass), off otherwise.
   */
  checkpointLayers?: boolean;
}

/** Whether a graph of `spec` recomputes its layers in the backward pass. */
export function checkpointsLayers(spec: Pick<TrainingGraphSpec, 'quant' | 'checkpointLayers'>): boolean {
  return spec.checkpointLayers ?? (spec.quant ?? 'none') !== 'none';
}

export interface TrainableTensor {
  name: string;
  shape: number[];
}

/** The tensors a graph of `spec` trains, in input order: model weights first, then LoRA A, B per module. */
export function trainableTensors(spec: TrainingGraphSpec): TrainableTensor[] {
  const weights = new Set(spec.trainableWeights ?? []);
  const out = expectedTensors(spec.config)
    .filter((t) => weights.has(t.name))
    .map((t) => ({ name: t.name, shape: t.shape }));
  if (out.length !== weights.size) {
    const known = new Set(out.map((t) => t.name));
    throw new Error(`not a weight of this model: ${[...weights].filter((w) => !known.has(w)).join(', ')}`);
  }
  for (const m of spec.lora?.layout.modules ?? []) {
    out.push({ name: m.keyA, shape: [m.r, m.inFeatures] }, { name: m.keyB, shape: [m.outFeatures, m.r] });
  }
  return out;
}

const toFloat64 = (a: Float32Array) => Float64Array.from(a);

/** Builds the graph: inputs input_ids, attention_mask, position_ids, label_positions, labels, the trainables -> loss_sum, grad.*. */
export function buildTrainingGraph(spec: TrainingGraphSpec): Builder {
  const floatType = spec.floatType ?? 'float32';
  const b = new Builder(floatType);
  const trainable = trainableTensors(spec);
  const trainableWeights = new Set(spec.trainableWeights ?? []);
  const inputs: Value[] = [];
  const quant = spec.quant ?? 'none';
  const quantized =
    quant !== 'none' && spec.weights
      ? quantizedInitializers(b, spec.weights, { mode: quant, numLayers: spec.config.numLayers })
      : undefined;
  const params: ModelParams = {
    quantized: quantized && ((name, shape) => (trainableWeights.has(name) ? undefined : quantized(name, shape))),
    get(name, shape) {
      if (b.has(name)) return b.value(name);
      if (trainableWeights.has(name)) {
        const v = b.input(name, floatType, shape);
        inputs.push(v);
        return v;
      }
      const weights = spec.weights;
      if (!weights) throw new Error(`frozen weight "${name}" has no source`);
      return b.initializer(
        name,
        floatType,
        shape,
        floatType === 'float64' ? () => toFloat64(weights.float32(name)) : () => weights.float32(name),
      );
    },
  };
  const loraValues = new Map<string, Value>();
  let hook;
  if (spec.lora) {
    const dropoutP = spec.gradients ? spec.lora.dropout : 0;
    const seed = dropoutP > 0 ? b.input(DROPOUT_SEED_INPUT, 'int64', []) : undefined;
    const input = (name: string, shape: number[]) => {
      let v = loraValues.get(name);
      if (!v) loraValues.set(name, (v = b.input(name, floatType, shape)));
      return v;
    };
    hook = loraHook(spec.lora.layout, {
      scaleInGraph: true,
      dropout: seed ? { p: dropoutP, seed } : undefined,
      matrices: (_, m) => ({ A: input(m.keyA, [m.r, m.inFeatures]), B: input(m.keyB, [m.outFeatures, m.r]) }),
    });
  }
  const dec = buildDecoder(b, spec.config, params, { kvCache: false, linearHook: hook });
  const ce = buildCausalLmLoss(b, spec.config, params, dec, { reduction: 'sum', gradient: spec.gradients });
  b.output(ce.loss, LOSS_OUTPUT);
  if (spec.gradients) {
    const byName = new Map([...inputs, ...loraValues.values()].map((v) => [v.name, v]));
    const values = trainable.map((t) => {
      const v = byName.get(t.name);
      if (!v) throw new Error(`trainable "${t.name}" is not used by the model`);
      return v;
    });
    // The backward pass starts from the loss's own closed-form gradient (cheaper in memory than
    // differentiating the loss ops), at the logits or, over a quantized lm_head, at the hidden rows.
    const start = ce.backwardStart();
    const grads = checkpointsLayers(spec)
      ? checkpointedGrad(b, start.value, values, { segments: dec.layers, rebuild: dec.rebuildLayer }, { seed: start.seed })
      : grad(b, start.value, values, { seed: start.seed });
    for (const v of values) b.output(grads.get(v.name)!, gradOutput(v.name));
  }
  b.removeDeadNodes();
  return b;
}

/** One micro-batch: equal-length rows (right-padded), labels aligned with ids (-100 = not predicted). */
export interface TrainingBatch {
  ids: number[][];
  labels: number[][];
  /** 1 for real tokens, 0 for padding; all ones when absent. */
  attention?: number[][];
}

export interface TrainingStepResult {
  /** Sum over the labelled positions of -log p(label). */
  lossSum: number;
  /** How many positions were labelled. */
  count: number;
  /** d lossSum / d tensor, by trainable name (absent for a loss-only graph). */
  grads?: Map<string, Float32Array | Float64Array>;
}

const int64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0].length]);

/** A compiled training (or evaluation) graph, opened once and run per micro-batch. */
export class TrainingSession {
  private constructor(
    readonly spec: TrainingGraphSpec,
    readonly trainable: TrainableTensor[],
    private readonly session: ort.InferenceSession,
  ) {}

  static async open(spec: TrainingGraphSpec, opts: SessionOptions = {}): Promise<TrainingSession> {
    const parts = {
      kind: spec.gradients ? 'train' : 'loss',
      config: spec.config,
      weights: spec.weightsKey,
      floatType: spec.floatType ?? 'float32',
      quant: spec.quant ?? 'none',
      quantMethod: (spec.quant ?? 'none') === 'none' ? null : QUANT_METHOD,
      checkpointLayers: spec.gradients && checkpointsLayers(spec),
      trainableWeights: spec.trainableWeights ?? [],
      lora: spec.lora ? { modules: spec.lora.layout.modules, dropout: spec.gradients ? spec.lora.dropout : 0 } : null,
    };
    const path = compiledGraph(parts, () => buildTrainingGraph(spec));
    return new TrainingSession(
      spec,
      trainableTensors(spec),
      await openSession(path, {
        ...opts,
        memoryPattern: opts.memoryPattern ?? false,
        optimization: opts.optimization ?? (spec.floatType === 'float64' ? 'basic' : 'all'),
      }),
    );
  }

  get usesDropoutSeed(): boolean {
    return this.spec.gradients && (this.spec.lora?.dropout ?? 0) > 0;
  }

  /** Runs one micro-batch with the trainable tensors' current values. */
  async run(batch: TrainingBatch, tensors: ReadonlyMap<string, Float32Array | Float64Array>, dropoutSeed = 0): Promise<TrainingStepResult> {
    const targets = causalLmTargets(batch.labels, this.spec.config.vocabSize);
    const seq = batch.ids[0].length;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64(batch.ids),
      attention_mask: int64(batch.attention ?? batch.ids.map(() => new Array<number>(seq).fill(1))),
      position_ids: int64(batch.ids.map(() => Array.from({ length: seq }, (_, i) => i))),
      ...lossFeeds(targets),
    };
    const type = this.spec.floatType === 'float64' ? 'float64' : 'float32';
    for (const t of this.trainable) {
      const data = tensors.get(t.name);
      if (!data) throw new Error(`no value for trainable tensor "${t.name}"`);
      feeds[t.name] = new ort.Tensor(type, data, t.shape);
    }
    if (this.usesDropoutSeed) feeds[DROPOUT_SEED_INPUT] = new ort.Tensor('int64', BigInt64Array.of(BigInt(dropoutSeed)), []);
    const out = await this.session.run(feeds);
    const lossSum = Number((out[LOSS_OUTPUT].data as Float32Array)[0]);
    if (!this.spec.gradients) return { lossSum, count: targets.labels.length };
    const grads = new Map<string, Float32Array | Float64Array>();
    for (const t of this.trainable) grads.set(t.name, out[gradOutput(t.name)].data as Float32Array | Float64Array);
    return { lossSum, count: targets.labels.length, grads };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
