// A Hugging Face model folder: config.json plus one or more safetensors files, checked against each other.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readModelConfig, type ModelConfig } from './config.js';
import { UserError } from '../common/index.js';
import { SafetensorsFile, type Dtype } from './safetensors.js';
import { expectedTensors } from './weight-layout.js';
import type { QuantizedWeight } from './quant/quantized-weight.js';
import { isGgufFile, openGgufModel } from './gguf/gguf-model.js';

export const INDEX_FILE = 'model.safetensors.index.json';
export const SINGLE_FILE = 'model.safetensors';

/** Read access to a model's tensors by Hugging Face name, wherever they are stored. */
export interface WeightSource {
  /** The safetensors files the weights come from, in a stable order. */
  readonly files: readonly string[];
  names(): string[];
  has(name: string): boolean;
  shape(name: string): number[];
  dtype(name: string): Dtype;
  /** Reads the tensor now, converted to float32. */
  float32(name: string): Float32Array;
  /** The tensor as stored quantized blocks (GGUF Q4_0/Q8_0), when the storage holds it that way; else undefined. */
  quantized?(name: string): QuantizedWeight | undefined;
  /** What `quantized` would give, read from the header alone: its width and block size. */
  quantizedLayout?(name: string): { bits: 4 | 8; blockSize: number } | undefined;
  /** Changes when any weight file is replaced, resized or touched (for caches keyed by weights). */
  fingerprint(): string;
  close(): void;
}

export interface ModelFolder {
  dir: string;
  config: ModelConfig;
  weights: WeightSource;
}

class SafetensorsWeights implements WeightSource {
  private readonly owner = new Map<string, SafetensorsFile>();

  constructor(
    private readonly shards: SafetensorsFile[],
    private readonly extraFiles: string[] = [],
  ) {
    for (const shard of shards) {
      for (const name of shard.names()) {
        const other = this.owner.get(name);
        if (other) throw new UserError(`tensor "${name}" is in both ${path.basename(other.path)} and ${path.basename(shard.path)}`);
        this.owner.set(name, shard);
      }
    }
  }

  get files(): string[] {
    return this.shards.map((s) => s.path);
  }

  names(): string[] {
    return [...this.owner.keys()].sort();
  }

  has(name: string): boolean {
    return this.owner.has(name);
  }

  shape(name: string): number[] {
    return this.shard(name).info(name).shape;
  }

  dtype(name: string): Dtype {
    return this.shard(name).info(name).dtype;
  }

  float32(name: string): Float32Array {
    return this.shard(name).float32(name);
  }

  fileOf(name: string): string | undefined {
    return this.owner.get(name)?.path;
  }

  fingerprint(): string {
    const hash = createHash('sha256');
    for (const file of [...this.files, ...this.extraFiles]) {
      const st = fs.statSync(file);
      hash.update(`${path.resolve(file)}\0${st.size}\0${st.mtimeMs}\n`);
    }
    return hash.digest('hex').slice(0, 16);
  }

  close(): void {
    for (const shard of this.shards) shard.close();
  }

  private shard(name: string): SafetensorsFile {
    const shard = this.owner.get(name);
    if (!shard) throw new UserError(`the model has no tensor named "${name}"`);
    return shard;
  }
}

function openAll(files: string[]): SafetensorsFile[] {
  const opened: SafetensorsFile[] = [];
  try {
    for (const file of files) {
      // A FIFO or a device would block the read for ever: only regular files are weights.
      if (!fs.statSync(file).isFile()) throw new UserError(`${file} is not a regular file`);
      opened.push(SafetensorsFile.open(file));
    }
  } catch (e) {
    for (const f of opened) f.close();
    throw e;
  }
  return opened;
}

/** Reads the shard index; returns the shard files and the tensor → shard map it promises. */
function readIndex(dir: string): { files: string[]; weightMap: Map<string, string> } {
  const indexPath = path.join(dir, INDEX_FILE);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(indexPath, 'utf8'));
  } catch (e) {
    throw new UserError(`${INDEX_FILE} in "${dir}" cannot be read as JSON: ${(e as Error).message}`);
  }
  const map = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new UserError(`${INDEX_FILE}: missing object "weight_map"`);
  const weightMap = new Map<string, string>();
  for (const [name, file] of Object.entries(map)) {
    if (typeof file !== 'string' || file !== path.basename(file) || !file.endsWith('.safetensors')) {
      throw new UserError(`${INDEX_FILE}: tensor "${name}" maps to ${JSON.stringify(file)}, not a .safetensors file in the folder`);
    }
    weightMap.set(name, file);
  }
  const files = [...new Set(weightMap.values())].sort().map((f) => path.join(dir, f));
  for (const file of files) {
    if (!fs.existsSync(file)) throw new UserError(`${INDEX_FILE} names shard "${path.basename(file)}", which is not in "${dir}"`);
  }
  return { files, weightMap };
}

/** Opens the folder's weights: the shard index if there is one, else model.safetensors, else every *.safetensors. */
export function openWeights(dir: string): WeightSource {
  if (fs.existsSync(path.join(dir, INDEX_FILE))) {
    const { files, weightMap } = readIndex(dir);
    const weights = new SafetensorsWeights(openAll(files), [path.join(dir, INDEX_FILE)]);
    for (const [name, file] of weightMap) {
      if (weights.fileOf(name) !== path.join(dir, file)) {
        weights.close();
        throw new UserError(`${INDEX_FILE} says tensor "${name}" is in ${file}, but it is not there`);
      }
    }
    return weights;
  }
  const single = path.join(dir, SINGLE_FILE);
  if (fs.existsSync(single)) return new SafetensorsWeights(openAll([single]));
  const all = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.safetensors'))
    .sort()
    .map((f) => path.join(dir, f));
  if (all.length === 0) throw new UserError(`model folder "${dir}" has no *.safetensors weights`);
  return new SafetensorsWeights(openAll(all));
}

const FLOAT_DTYPES: readonly Dtype[] = ['F32', 'F16', 'BF16', 'F64'];

/** One more than the highest N of the weights' `model.layers.N.` tensors: the layers they hold (0 when none). */
function layersIn(weights: WeightSource): number {
  let layers = 0;
  for (const name of weights.names()) {
    const m = /^model\.layers\.(\d+)\./.exec(name);
    if (m) layers = Math.max(layers, Number(m[1]) + 1);
  }
  return layers;
}

/**
 * Every tensor the config calls for must be there, with the right shape and a float dtype, and the
 * weights must hold exactly the config's layers (a config with fewer would silently drop the rest);
 * other extra tensors are ignored.
 */
export function checkWeights(config: ModelConfig, weights: WeightSource): void {
  const layers = layersIn(weights);
  if (layers !== config.numLayers) {
    const held = layers === 0 ? 'no model.layers.N tensors' : `${layers} layers (model.layers.0 to model.layers.${layers - 1})`;
    throw new UserError(`config.json says num_hidden_layers = ${config.numLayers}, but the weights have ${held}`);
  }
  for (const { name, shape } of expectedTensors(config)) {
    if (!weights.has(name))
      throw new UserError(`the weights have no tensor "${name}" (expected shape [${shape.join(', ')}] from config.json)`);
    const actual = weights.shape(name);
    if (actual.length !== shape.length || actual.some((d, i) => d !== shape[i])) {
      throw new UserError(`tensor "${name}" has shape [${actual.join(', ')}], but config.json implies [${shape.join(', ')}]`);
    }
    const dtype = weights.dtype(name);
    if (!FLOAT_DTYPES.includes(dtype)) throw new UserError(`tensor "${name}" has dtype ${dtype}; weights must be F32, F16, BF16 or F64`);
  }
}

/** Opens a model folder, or a GGUF model file (`dir` is then the file's path). */
export function openModelFolder(dir: string): ModelFolder {
  if (isGgufFile(dir)) return openGgufModel(dir);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch {
    throw new UserError(`model folder "${dir}" does not exist`);
  }
  if (!stat.isDirectory()) throw new UserError(`model folder "${dir}" is not a folder`);
  const config = readModelConfig(dir);
  const weights = openWeights(dir);
  try {
    checkWeights(config, weights);
  } catch (e) {
    weights.close();
    throw e;
  }
  return { dir, config, weights };
}
