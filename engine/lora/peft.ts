// LoRA adapters in PEFT's folder format, so they move both ways between codefudge and Python:
// adapter_config.json + adapter_model.safetensors (keys base_model.model.<module>.lora_A|B.weight,
// A [r, in], B [out, r]). codefudge's own facts go to codefudge.json beside them, because PEFT
// releases before 0.14 refuse an adapter_config.json with keys they do not know.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeFolder, writeTextAtomic, UserError } from '../../common/index.js';
import { bf16ToF32, f16ToF32 } from '../float-convert.js';
import { SafetensorsFile, writeSafetensors, type Dtype } from '../safetensors.js';
import { checkLoraSpec, type LoraSpec } from './lora-spec.js';
import { parsePeftKey } from './lora-layout.js';
import { pythonJson } from './python-json.js';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
export const CODEFUDGE_META = 'codefudge.json';

/** Where a workspace keeps the adapter `codefudge adapt` trained on it, and where the editor looks for one. */
export function workspaceAdapterDir(root: string): string {
  return path.join(root, '.codefudge', 'adapter');
}

export type AdapterDtype = 'F32' | 'F16' | 'BF16' | 'F64';

/** A stored LoRA matrix: its bits exactly as in the file (F16/BF16 as raw Uint16Array bits). */
export interface AdapterTensor {
  dtype: AdapterDtype;
  shape: number[];
  data: Float32Array | Uint16Array | Float64Array;
}

export interface LoraAdapter {
  spec: LoraSpec;
  baseModel: string | null;
  /** By PEFT key, in the file's order. */
  tensors: Map<string, AdapterTensor>;
  /** adapter_config.json as an object: PEFT's fields, kept whole so fields we do not use survive a save. */
  config: Record<string, unknown>;
  /** The safetensors `__metadata__` (PEFT writes {"format": "pt"}). */
  metadata: Record<string, string>;
  /** codefudge.json: base model fingerprint, trained-through commit and the like; undefined when absent. */
  codefudge?: Record<string, unknown>;
  /** The config file's text as read; written back unchanged while `config` still says the same thing. */
  configText?: string;
}

/** Fields of LoraConfig that are Python floats (JSON cannot say so; Python writes 0.0, not 0). */
const FLOAT_FIELDS = new Set(['lora_dropout']);

/**
 * The adapter_config.json PEFT writes for `spec`, limited to fields PEFT has accepted since 0.9, so
 * older releases load it too (newer ones fill their new fields with defaults).
 */
export function peftConfigJson(spec: LoraSpec, baseModel: string | null): Record<string, unknown> {
  checkLoraSpec(spec);
  return {
    alpha_pattern: { ...(spec.alphaPattern ?? {}) },
    auto_mapping: null,
    base_model_name_or_path: baseModel,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: spec.layersPattern ? [...spec.layersPattern] : null,
    layers_to_transform: spec.layers ? [...spec.layers] : null,
    lora_alpha: spec.alpha,
    lora_dropout: spec.dropout,
    modules_to_save: null,
    peft_type: 'LORA',
    r: spec.r,
    rank_pattern: { ...(spec.rankPattern ?? {}) },
    revision: null,
    target_modules: typeof spec.targets === 'string' ? spec.targets : [...spec.targets].sort(),
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: spec.useRslora,
  };
}

function numberRecord(value: unknown, field: string, where: string): Record<string, number> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value) || !Object.values(value).every((v) => typeof v === 'number')) {
    throw new UserError(`${where}: "${field}" must be an object of numbers`);
  }
  return Object.keys(value).length ? (value as Record<string, number>) : undefined;
}

/** Checks a PEFT LoRA config and reads the spec out of it; anything we cannot apply faithfully is refused. */
export function specFromPeftConfig(json: Record<string, unknown>, where = ADAPTER_CONFIG): LoraSpec {
  const fail = (problem: string): never => {
    throw new UserError(`${where}: ${problem}`);
  };
  if (json.peft_type !== 'LORA') fail(`peft_type is ${JSON.stringify(json.peft_type)}; only "LORA" adapters are supported`);
  if (json.use_dora) fail('DoRA adapters (use_dora) are not supported');
  if (json.bias !== undefined && json.bias !== 'none') fail(`bias "${json.bias}" is not supported (only "none")`);
  if (json.lora_bias) fail('lora_bias is not supported');
  const modulesToSave = json.modules_to_save;
  if (Array.isArray(modulesToSave) && modulesToSave.length > 0) fail(`modules_to_save (${modulesToSave.join(', ')}) is not supported`);
  const targets = json.target_modules;
  const okTargets = typeof targets === 'string' || (Array.isArray(targets) && targets.every((t) => typeof t === 'string'));
  if (!okTargets) fail('"target_modules" must be a list of module names or a regex string');
  const r = json.r ?? 8;
  const alpha = json.lora_alpha ?? 8;
  const dropout = json.lora_dropout ?? 0;
  if (typeof r !== 'number' || typeof alpha !== 'number' || typeof dropout !== 'number')
    fail('"r", "lora_alpha" and "lora_dropout" must be numbers');
  const spec: LoraSpec = {
    r: r as number,
    alpha: alpha as number,
    dropout: dropout as number,
    targets: targets as string | string[],
    useRslora: json.use_rslora === true,
    rankPattern: numberRecord(json.rank_pattern, 'rank_pattern', where),
    alphaPattern: numberRecord(json.alpha_pattern, 'alpha_pattern', where),
    layers: layerList(json.layers_to_transform, where),
    layersPattern: patternList(json.layers_pattern, where),
  };
  try {
    checkLoraSpec(spec);
  } catch (e) {
    fail((e as Error).message);
  }
  for (const [name, patterns] of [
    ['rank_pattern', Object.keys(spec.rankPattern ?? {})],
    ['alpha_pattern', Object.keys(spec.alphaPattern ?? {})],
    ['layers_pattern', spec.layersPattern ?? []],
  ] as const) {
    for (const key of patterns) {
      try {
        new RegExp(key);
      } catch {
        fail(`"${name}" ${name === 'layers_pattern' ? 'entry' : 'key'} ${JSON.stringify(key)} is not a valid regular expression`);
      }
    }
  }
  return spec;
}

/** PEFT's layers_to_transform: one layer index or a list of them; null or an empty list means every layer. */
function layerList(value: unknown, where: string): number[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((l) => Number.isSafeInteger(l) && l >= 0))
    throw new UserError(`${where}: "layers_to_transform" must be a layer index or a list of them, got ${JSON.stringify(value)}`);
  return list.length ? (list as number[]) : undefined;
}

/** PEFT's layers_pattern: a name or a list of names; null, "" or an empty list means any name. */
function patternList(value: unknown, where: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((p) => typeof p === 'string'))
    throw new UserError(`${where}: "layers_pattern" must be a name or a list of names, got ${JSON.stringify(value)}`);
  const names = (list as string[]).filter(Boolean);
  return names.length ? names : undefined;
}

function readJson(file: string): { text: string; json: Record<string, unknown> } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new UserError(`${file} is not a JSON object`);
  return { text, json: json as Record<string, unknown> };
}

function readTensor(file: SafetensorsFile, key: string): AdapterTensor {
  const { dtype, shape } = file.info(key);
  const raw = file.bytes(key);
  const view = <T>(Ctor: new (b: ArrayBufferLike, o: number, n: number) => T, size: number) =>
    new Ctor(raw.buffer, raw.byteOffset, raw.length / size);
  switch (dtype) {
    case 'F32':
      return { dtype, shape, data: view(Float32Array, 4) };
    case 'F16':
    case 'BF16':
      return { dtype, shape, data: view(Uint16Array, 2) };
    case 'F64':
      return { dtype, shape, data: view(Float64Array, 8) };
    default:
      throw new UserError(`${ADAPTER_WEIGHTS}: tensor "${key}" has dtype ${dtype}; LoRA matrices must be F32, F16, BF16 or F64`);
  }
}

/** A matrix whose rank disagrees with adapter_config.json, or with NaN/Inf in it, would train or infer garbage silently. */
function checkTensor(weightsPath: string, key: string, t: AdapterTensor, spec: LoraSpec): void {
  const values = adapterFloat32(t);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new UserError(`${weightsPath}: tensor "${key}" holds NaN or infinite values`);
  }
  const patterned = Object.keys(spec.rankPattern ?? {}).length > 0;
  if (patterned || t.shape.length !== 2) return;
  const rank = key.includes('lora_A') ? t.shape[0] : t.shape[1];
  if (rank !== spec.r) throw new UserError(`${weightsPath}: tensor "${key}" has rank ${rank} but adapter_config.json says r = ${spec.r}`);
}

/** Reads a PEFT LoRA adapter folder. */
export function readPeftAdapter(dir: string): LoraAdapter {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UserError(`adapter folder "${dir}" does not exist`);
  const configPath = path.join(dir, ADAPTER_CONFIG);
  if (!fs.existsSync(configPath)) throw new UserError(`adapter folder "${dir}" has no ${ADAPTER_CONFIG}`);
  const { text, json } = readJson(configPath);
  const spec = specFromPeftConfig(json, configPath);
  const weightsPath = path.join(dir, ADAPTER_WEIGHTS);
  if (!fs.existsSync(weightsPath)) {
    const bin = fs.existsSync(path.join(dir, 'adapter_model.bin'))
      ? ' (only the pickle adapter_model.bin, which cannot be read safely: re-save it with safe_serialization=True)'
      : '';
    throw new UserError(`adapter folder "${dir}" has no ${ADAPTER_WEIGHTS}${bin}`);
  }
  const file = SafetensorsFile.open(weightsPath);
  try {
    const tensors = new Map<string, AdapterTensor>();
    for (const key of file.names()) {
      if (!parsePeftKey(key)) {
        throw new UserError(
          `${weightsPath}: tensor "${key}" is not a LoRA matrix (expected base_model.model.<module>.lora_A|lora_B.weight)`,
        );
      }
      const t = readTensor(file, key);
      checkTensor(weightsPath, key, t, spec);
      tensors.set(key, t);
    }
    const metaPath = path.join(dir, CODEFUDGE_META);
    const codefudge = fs.existsSync(metaPath) ? readJson(metaPath).json : undefined;
    const baseModel = typeof json.base_model_name_or_path === 'string' ? json.base_model_name_or_path : null;
    return { spec, baseModel, tensors, config: json, metadata: { ...file.metadata }, codefudge, configText: text };
  } finally {
    file.close();
  }
}

/** A new adapter from float32 LoRA matrices keyed by PEFT key (as training produces them). */
export function makeLoraAdapter(
  spec: LoraSpec,
  baseModel: string | null,
  matrices: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>,
  codefudge?: Record<string, unknown>,
): LoraAdapter {
  const tensors = new Map<string, AdapterTensor>();
  for (const [key, t] of matrices) tensors.set(key, { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(t.data) });
  return { spec, baseModel, tensors, config: peftConfigJson(spec, baseModel), metadata: { format: 'pt' }, codefudge };
}

/** A stored matrix as float32 values. */
export function adapterFloat32(t: AdapterTensor): Float32Array {
  switch (t.dtype) {
    case 'F32':
      return t.data as Float32Array;
    case 'F16':
      return f16ToF32(t.data as Uint16Array);
    case 'BF16':
      return bf16ToF32(t.data as Uint16Array);
    case 'F64':
      return Float32Array.from(t.data as Float64Array);
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameJson((a as never)[k], (b as never)[k]))
  );
}

/**
 * Writes the adapter folder, each file atomically, weights before config so a reader never sees a
 * config whose weights are missing. An adapter read and saved unchanged gives identical bytes.
 */
export function writePeftAdapter(dir: string, adapter: LoraAdapter): void {
  makeFolder(dir);
  const tensors = [...adapter.tensors].map(([name, t]) => ({ name, dtype: t.dtype as Dtype, shape: t.shape, data: t.data }));
  writeSafetensors(path.join(dir, ADAPTER_WEIGHTS), tensors, adapter.metadata);
  if (adapter.codefudge) writeTextAtomic(path.join(dir, CODEFUDGE_META), `${JSON.stringify(adapter.codefudge, null, 2)}\n`);
  const unchanged = adapter.configText !== undefined && sameJson(JSON.parse(adapter.configText), adapter.config);
  writeTextAtomic(path.join(dir, ADAPTER_CONFIG), unchanged ? adapter.configText! : pythonJson(adapter.config, FLOAT_FIELDS));
}
