// Which projections of a model carry LoRA, with their sizes, ranks and scales.
import type { ModelConfig } from '../config.js';
import { UserError } from '../../common/index.js';
import { expectedTensors } from '../weight-layout.js';
import {
  checkLoraSpec,
  LLAMA_PROJECTIONS,
  loraScale,
  moduleRankAndScale,
  patternValue,
  targetsModule,
  type LoraSpec,
} from './lora-spec.js';

export interface LoraModule {
  /** The projection's module path, e.g. `model.layers.3.self_attn.q_proj`. */
  module: string;
  inFeatures: number;
  outFeatures: number;
  r: number;
  scale: number;
  /** PEFT state-dict keys of A [r, in] and B [out, r]. */
  keyA: string;
  keyB: string;
}

/** The LoRA modules of one adapter on one model, in the model's layer order. */
export interface LoraLayout {
  modules: LoraModule[];
}

/** PEFT's saved key of a LoRA matrix: the adapter name is dropped, the PeftModel prefix kept. */
export function peftKey(module: string, which: 'A' | 'B'): string {
  return `base_model.model.${module}.lora_${which}.weight`;
}

const PEFT_KEY = /^base_model\.model\.(.+)\.lora_([AB])\.weight$/;

/** The module and matrix a PEFT key names, or undefined for any other key. */
export function parsePeftKey(key: string): { module: string; which: 'A' | 'B' } | undefined {
  const m = PEFT_KEY.exec(key);
  return m ? { module: m[1], which: m[2] as 'A' | 'B' } : undefined;
}

/** Every linear projection of the model's layers as [module, out, in], in order. */
export function projections(cfg: ModelConfig): { module: string; out: number; in: number }[] {
  return expectedTensors(cfg)
    .filter((t) => t.name.startsWith('model.layers.') && t.name.endsWith('.weight') && t.shape.length === 2)
    .map((t) => ({ module: t.name.slice(0, -'.weight'.length), out: t.shape[0], in: t.shape[1] }));
}

function loraModule(module: string, out: number, inDim: number, r: number, scale: number): LoraModule {
  return { module, inFeatures: inDim, outFeatures: out, r, scale, keyA: peftKey(module, 'A'), keyB: peftKey(module, 'B') };
}

/**
 * Refuses a spec that names what the model does not have: a target_modules name (or regex) that
 * matches no projection, a layers_to_transform index past its layers, a layers_pattern that finds
 * no layer. PEFT would skip such a name silently (or fail only when nothing at all matches).
 */
function checkSpecFits(cfg: ModelConfig, spec: LoraSpec): void {
  checkLoraSpec(spec);
  const modules = projections(cfg).map((p) => p.module);
  const known = `the model's projections are ${LLAMA_PROJECTIONS.join(', ')}`;
  const names = typeof spec.targets === 'string' ? [] : spec.targets;
  for (const name of names) {
    if (!modules.some((m) => targetsModule({ targets: [name] }, m)))
      throw new UserError(`LoRA target_modules names "${name}", which matches no projection of the model (${known})`);
  }
  if (typeof spec.targets === 'string' && !modules.some((m) => targetsModule(spec, m)))
    throw new UserError(`LoRA target_modules regex ${JSON.stringify(spec.targets)} matches no projection of the model (${known})`);
  const past = spec.layers?.find((l) => l >= cfg.numLayers);
  if (past !== undefined)
    throw new UserError(
      `LoRA layers_to_transform names layer ${past}, but the model has ${cfg.numLayers} layers (0 to ${cfg.numLayers - 1})`,
    );
  if (!modules.some((m) => targetsModule(spec, m)))
    throw new UserError(
      `LoRA layers_pattern ${JSON.stringify(spec.layersPattern)} finds no layer index in the model's module paths (model.layers.N.…)`,
    );
}

/** The layout `spec` gives on a model: every projection its targets match. */
export function layoutForSpec(cfg: ModelConfig, spec: LoraSpec): LoraLayout {
  checkSpecFits(cfg, spec);
  const modules = projections(cfg)
    .filter((p) => targetsModule(spec, p.module))
    .map((p) => {
      const { r, scale } = moduleRankAndScale(spec, p.module);
      return loraModule(p.module, p.out, p.in, r, scale);
    });
  return { modules };
}

/**
 * The layout of stored LoRA matrices on a model: modules come from the keys, ranks from the
 * shapes, scales from `spec`. Every matrix must fit the projection it names. As PEFT does, only
 * the modules `spec` targets (target_modules, layers_to_transform) get LoRA: matrices of others
 * are not applied.
 */
export function layoutForTensors(cfg: ModelConfig, spec: LoraSpec, shapes: ReadonlyMap<string, readonly number[]>): LoraLayout {
  checkSpecFits(cfg, spec);
  const byModule = new Map(projections(cfg).map((p) => [p.module, p]));
  const found = new Map<string, { A?: readonly number[]; B?: readonly number[] }>();
  for (const [key, shape] of shapes) {
    const parsed = parsePeftKey(key);
    if (!parsed)
      throw new UserError(`adapter tensor "${key}" is not a LoRA matrix (expected base_model.model.<module>.lora_A|lora_B.weight)`);
    if (!byModule.has(parsed.module))
      throw new UserError(`adapter tensor "${key}" names module "${parsed.module}", which the model does not have`);
    const entry = found.get(parsed.module) ?? {};
    entry[parsed.which] = shape;
    found.set(parsed.module, entry);
  }
  const modules: LoraModule[] = [];
  for (const p of projections(cfg)) {
    const pair = found.get(p.module);
    if (!pair || !targetsModule(spec, p.module)) continue;
    const { A, B } = pair;
    if (!A || !B) throw new UserError(`adapter has lora_${A ? 'A' : 'B'} but no lora_${A ? 'B' : 'A'} for module "${p.module}"`);
    const r = A[0];
    if (A.length !== 2 || A[1] !== p.in || B.length !== 2 || B[0] !== p.out || B[1] !== r) {
      throw new UserError(
        `adapter matrices of "${p.module}" have shapes A [${A.join(', ')}] and B [${B.join(', ')}]; the model needs A [r, ${p.in}] and B [${p.out}, r]`,
      );
    }
    // The stored rank is the truth (PEFT sizes each layer from r and rank_pattern when it saves).
    const alpha = patternValue(spec.alphaPattern, p.module) ?? spec.alpha;
    modules.push(loraModule(p.module, p.out, p.in, r, loraScale(alpha, r, spec.useRslora)));
  }
  if (modules.length === 0)
    throw new UserError('adapter has no LoRA matrices for the modules its target_modules and layers_to_transform select');
  return { modules };
}

/** The modules alone: all an adapter-input inference graph depends on (ranks are symbolic, scales folded into B). */
export function layoutModulesKey(layout: LoraLayout): string[] {
  return layout.modules.map((m) => m.module);
}
