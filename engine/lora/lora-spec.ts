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
  /** Only these layer indices get LoRA (PEFT's layers_to_transform); all layers when absent. */
  layers?: readonly number[];
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

/** The layer index in a `model.layers.N.` path, or undefined for modules outside the layers. */
export function layerIndexOf(module: string): number | undefined {
  const m = /(?:^|\.)layers\.(\d+)\./.exec(module);
  return m ? Number(m[1]) : undefined;
}

/** PEFT's check_target_module_exists for a plain list or a regex, then its layers_to_transform filter. */
export function targetsModule(spec: Pick<LoraSpec, 'targets' | 'layers'>, module: string): boolean {
  const { targets } = spec;
  const named =
    typeof targets === 'string'
      ? new RegExp(`^(?:${targets})$`).test(module)
      : targets.some((t) => module === t || module.endsWith(`.${t}`));
  if (!named || !spec.layers) return named;
  const layer = layerIndexOf(module);
  return layer !== undefined && spec.layers.includes(layer);
}
