// What a training run trains: LoRA matrices on a frozen model (adapt), or every weight (pretrain).
import {
  attachAdapter,
  expectedTensors,
  initLoraMatrices,
  layoutForSpec,
  makeLoraAdapter,
  type LoraAdapter,
  type LoraLayout,
  type LoraSpec,
  type ModelConfig,
  type ModelFolder,
  type TrainingGraphSpec,
  type WeightReader,
  type QuantMode,
} from '../../engine/index.js';
import { Rng } from '../../common/index.js';

export interface TrainTarget {
  /** The training graph without its `gradients` switch (the loop compiles a loss-only one too). */
  graph: Omit<TrainingGraphSpec, 'gradients'>;
  /** The trainable tensors' starting values (a fresh LoRA init draws from `seed`). */
  initialValues(seed: number): Map<string, Float32Array>;
  /** Whether AdamW's weight decay applies to a tensor. */
  decays(name: string): boolean;
  /** Identifies the set-up, so a checkpoint is only resumed into the run that wrote it. */
  key: string;
}

export interface LoraTarget extends TrainTarget {
  layout: LoraLayout;
  spec: LoraSpec;
  /** The trained matrices as a PEFT adapter. */
  toAdapter(values: ReadonlyMap<string, Float32Array>, baseModel: string | null, codefudge?: Record<string, unknown>): LoraAdapter;
}

/**
 * LoRA on the projections `spec` targets; `from` continues training an existing adapter instead of a
 * fresh init; `quant` int4/int8 trains over quantized frozen weights (QLoRA).
 */
export function loraTarget(folder: ModelFolder, spec: LoraSpec, from?: LoraAdapter, quant: QuantMode = 'none'): LoraTarget {
  const layout = from ? attachAdapter(folder.config, from).layout : layoutForSpec(folder.config, spec);
  const effective = from ? from.spec : spec;
  return {
    layout,
    spec: effective,
    graph: {
      config: folder.config,
      weights: folder.weights,
      weightsKey: folder.weights.fingerprint(),
      lora: { layout, dropout: effective.dropout },
      quant,
    },
    initialValues(seed) {
      if (from) {
        const attached = attachAdapter(folder.config, from);
        return new Map(layout.modules.flatMap((m) => [m.keyA, m.keyB]).map((k) => [k, Float32Array.from(attached.matrix(k))]));
      }
      return new Map([...initLoraMatrices(layout, new Rng(seed))].map(([k, t]) => [k, t.data]));
    },
    decays: () => true,
    key: JSON.stringify({
      lora: layout.modules,
      dropout: effective.dropout,
      weights: folder.weights.fingerprint(),
      ...(quant !== 'none' ? { quant } : {}),
    }),
    toAdapter(values, baseModel, codefudge) {
      const matrices = new Map<string, { shape: number[]; data: Float32Array }>();
      for (const m of layout.modules) {
        matrices.set(m.keyA, { shape: [m.r, m.inFeatures], data: values.get(m.keyA)! });
        matrices.set(m.keyB, { shape: [m.outFeatures, m.r], data: values.get(m.keyB)! });
      }
      return makeLoraAdapter(effective, baseModel, matrices, codefudge);
    },
  };
}

/** Every weight of the model trained (pretraining), starting from `initial`; norms and biases are not decayed. */
export function fullTarget(config: ModelConfig, initial: WeightReader): TrainTarget {
  const names = expectedTensors(config).map((t) => t.name);
  return {
    graph: { config, weightsKey: 'all-trainable', trainableWeights: names },
    initialValues: () => new Map(names.map((n) => [n, Float32Array.from(initial.float32(n))])),
    decays: (name) => !name.endsWith('norm.weight') && !name.endsWith('.bias'),
    key: JSON.stringify({ full: names.length, config: config.raw }),
  };
}
