// What a LoRA adapter is made of, in PEFT's terms: rank, alpha, dropout, which projections.
import { UserError } from '../../common/index.js';

/** The seven projections of a Llama-family layer, by the module's last name (PEFT's `target_modules`). */
export const LLAMA_PROJECTIONS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;

export interface LoraSpec {
  r: number;
  alpha: number;
  /** Probability of zeroing an input feature of the LoRA branch while training (0: none). */
  dropout: number;
  /** A list of module names (a module matches by equality or by its dotted suffix), or one regex matched against the whole path. */
  targets: readonly string[] | string;
  /** Scale alpha/sqrt(r) instead of alpha/r (rank-stabilised LoRA). */
  useRslora: boolean;
  /** Per-module overrides, keyed by a regex matched against the end of the module path (PEFT's rank_pattern/alpha_pattern). */
  rankPattern?: Readonly<Record<string, number>>;
  alphaPattern?: Readonly<Record<string, number>>;
  /** Only these layer indices get LoRA (PEFT's layers_to_transform, with a list of target names only); all layers when absent. */
  layers?: readonly number[];
  /** PEFT's layers_pattern: the names (regexes) a layer index follows in a module path; any name when absent. */
  layersPattern?: readonly string[];
}

export function defaultLoraSpec(overrides: Partial<LoraSpec> = {}): LoraSpec {
  const spec: LoraSpec = { r: 8, alpha: 16, dropout: 0, targets: [...LLAMA_PROJECTIONS], useRslora: false, ...overrides };
  checkLoraSpec(spec);
  return spec;
}

export function checkLoraSpec(spec: LoraSpec): void {
  if (!Number.isSafeInteger(spec.r) || spec.r <= 0) throw new UserError(`LoRA rank r must be a positive integer, got ${spec.r}`);
  if (!Number.isFinite(spec.alpha) || spec.alpha <= 0) throw new UserError(`lora_alpha must be a positive number, got ${spec.alpha}`);
  if (!(spec.dropout >= 0 && spec.dropout < 1)) throw new UserError(`lora_dropout must be in [0, 1), got ${spec.dropout}`);
  if (typeof spec.targets !== 'string' && spec.targets.length === 0) throw new UserError('LoRA target_modules is empty');
  if (spec.layers && !spec.layers.every((l) => Number.isSafeInteger(l) && l >= 0))
    throw new UserError(`LoRA layers_to_transform must be layer indices, got ${JSON.stringify(spec.layers)}`);
  // PEFT's LoraConfig refuses both with a regex, which names whole module paths itself.
  if (typeof spec.targets === 'string' && (spec.layers || spec.layersPattern))
    throw new UserError('LoRA layers_to_transform and layers_pattern need target_modules as a list of names, not a regex');
}

/** The factor the LoRA branch is multiplied by: alpha / r, or alpha / sqrt(r) with rsLoRA. */
export function loraScale(alpha: number, r: number, useRslora: boolean): number {
  return useRslora ? alpha / Math.sqrt(r) : alpha / r;
}

/** PEFT's get_pattern_key: the first pattern that matches the end of `module` at a dot boundary. */
export function patternValue(patterns: Readonly<Record<string, number>> | undefined, module: string): number | undefined {
  if (!patterns) return undefined;
  for (const [pattern, value] of Object.entries(patterns)) {
    if (new RegExp(`^(.*\\.)?(${pattern})$`).test(module)) return value;
  }
  return undefined;
}

/** The rank and scale one module gets under `spec`, after rank/alpha patterns. */
export function moduleRankAndScale(spec: LoraSpec, module: string): { r: number; scale: number } {
  const r = patternValue(spec.rankPattern, module) ?? spec.r;
  const alpha = patternValue(spec.alphaPattern, module) ?? spec.alpha;
  return { r, scale: loraScale(alpha, r, spec.useRslora) };
}

/** PEFT's layer index of a module path: the number after the last `.name.` (after one of `patterns` when given). */
export function layerIndexOf(module: string, patterns?: readonly string[]): number | undefined {
  for (const name of patterns ?? ['[^.]*']) {
    const m = new RegExp(`^.*\\.${name}\\.(\\d+)\\.`).exec(module);
    if (m) return Number(m[1]);
  }
  return undefined;
}

/**
 * PEFT's check_target_module_exists: a regex matches the whole path; a list names a module whole
 * (every layer) or by its dotted suffix, which layers_to_transform then limits to its layers.
 */
export function targetsModule(spec: Pick<LoraSpec, 'targets' | 'layers' | 'layersPattern'>, module: string): boolean {
  const { targets } = spec;
  if (typeof targets === 'string') return new RegExp(`^(?:${targets})$`).test(module);
  if (targets.includes(module)) return true;
  if (!targets.some((t) => module.endsWith(`.${t}`))) return false;
  if (!spec.layers) return true;
  const layer = layerIndexOf(module, spec.layersPattern);
  return layer !== undefined && spec.layers.includes(layer);
}
