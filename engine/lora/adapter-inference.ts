// Running a model with a LoRA adapter, unmerged (the matrices are graph inputs: one compiled graph
// serves every adapter on the same modules, and switching adapters is just other feeds) or merged
// (folded into the weights at load, then an ordinary graph).
import { CausalLM } from '../causal-lm.js';
import type { ModelConfig } from '../config.js';
import { initializerParams } from '../llama/inference-graph.js';
import type { LoadOptions } from '../load.js';
import { openModelFolder, type ModelFolder } from '../model-folder.js';
import { resolveQuantMode } from '../quant/quant-mode.js';
import { ort } from '../session.js';
import { loraHook, loraInputs } from './lora-hook.js';
import { layoutForTensors, layoutModulesKey, type LoraLayout } from './lora-layout.js';
import { adapterFingerprint, mergedWeights } from './merge.js';
import { adapterFloat32, readPeftAdapter, type LoraAdapter } from './peft.js';

/** An adapter checked against a model: its layout and its matrices as float32. */
export interface AttachedAdapter {
  layout: LoraLayout;
  matrix(key: string): Float32Array;
}

export function attachAdapter(cfg: ModelConfig, adapter: LoraAdapter): AttachedAdapter {
  const shapes = new Map([...adapter.tensors].map(([k, t]) => [k, t.shape]));
  const layout = layoutForTensors(cfg, adapter.spec, shapes);
  const cache = new Map<string, Float32Array>();
  return {
    layout,
    matrix(key) {
      let v = cache.get(key);
      if (!v) {
        const t = adapter.tensors.get(key);
        if (!t) throw new Error(`adapter has no tensor "${key}"`);
        cache.set(key, (v = adapterFloat32(t)));
      }
      return v;
    },
  };
}

/** CausalLM options that add the adapter-input LoRA branch to the modules of `layout`. */
export function unmergedGraphOptions(layout: LoraLayout) {
  return {
    linearHook: loraHook(layout, { matrices: loraInputs(true), scaleInGraph: false }),
    variant: { lora: layoutModulesKey(layout) },
  };
}

/** The feeds of an unmerged graph for one adapter: A as stored, B pre-multiplied by the module's scale. */
export function adapterFeeds(attached: AttachedAdapter): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const m of attached.layout.modules) {
    const b = attached.matrix(m.keyB);
    const scaled = new Float32Array(b.length);
    for (let i = 0; i < b.length; i++) scaled[i] = b[i] * m.scale;
    feeds[m.keyA] = new ort.Tensor('float32', attached.matrix(m.keyA), [m.r, m.inFeatures]);
    feeds[m.keyB] = new ort.Tensor('float32', scaled, [m.outFeatures, m.r]);
  }
  return feeds;
}

/** Feeds that switch the LoRA branch off on an unmerged graph (rank-1 zero matrices): the base model. */
export function noAdapterFeeds(layout: LoraLayout): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const m of layout.modules) {
    feeds[m.keyA] = new ort.Tensor('float32', new Float32Array(m.inFeatures), [1, m.inFeatures]);
    feeds[m.keyB] = new ort.Tensor('float32', new Float32Array(m.outFeatures), [m.outFeatures, 1]);
  }
  return feeds;
}

export interface AdaptedModel {
  lm: CausalLM;
  attached: AttachedAdapter;
  /** The adapter's inputs, already set as `lm.fixedFeeds` (empty when merged). */
  feeds: Record<string, ort.Tensor>;
  merged: boolean;
}

export interface AdapterLoadOptions extends LoadOptions {
  /** Fold the adapter into the weights (a graph compiled for this adapter) instead of feeding it. */
  merge?: boolean;
}

/** A model folder with an adapter folder (or a loaded adapter) applied. */
export async function loadAdaptedCausalLM(
  folder: ModelFolder | string,
  adapter: LoraAdapter | string,
  opts: AdapterLoadOptions,
): Promise<AdaptedModel> {
  const f = typeof folder === 'string' ? openModelFolder(folder) : folder;
  const a = typeof adapter === 'string' ? readPeftAdapter(adapter) : adapter;
  const attached = attachAdapter(f.config, a);
  const { merge, ...rest } = opts;
  const quant = resolveQuantMode(f.config, opts.quant);
  const quantActivations = opts.quantActivations ?? 'int8';
  if (merge) {
    const weights = mergedWeights(f.weights, attached.layout, (k) => attached.matrix(k));
    const lm = await CausalLM.create(f.config, {
      ...rest,
      quant,
      quantActivations,
      weightsKey: `${f.weights.fingerprint()}+lora:${adapterFingerprint(attached.layout, (k) => attached.matrix(k))}`,
      params: (b) => initializerParams(b, weights, { mode: quant, activations: quantActivations, numLayers: f.config.numLayers }),
    });
    return { lm, attached, feeds: {}, merged: true };
  }
  const lm = await CausalLM.create(f.config, {
    ...rest,
    ...unmergedGraphOptions(attached.layout),
    quant,
    quantActivations,
    weightsKey: f.weights.fingerprint(),
    params: (b) => initializerParams(b, f.weights, { mode: quant, activations: quantActivations, numLayers: f.config.numLayers }),
  });
  const feeds = adapterFeeds(attached);
  lm.fixedFeeds = feeds;
  return { lm, attached, feeds, merged: false };
}
