import { headWeightName } from '../engine/llama/decoder.js';
import { loadCausalLM } from '../engine/load.js';
import { openModelFolder, type ModelFolder } from '../engine/model-folder.js';
import { headDraftBits, quantBitsFor, resolveQuantMode, type QuantMode } from '../engine/quant/quant-mode.js';
import { blockBytes, DEFAULT_BLOCK_SIZE, zeroPointBytesPerRow } from '../engine/quant/quantize.js';
import { Rng } from '../common/index.js';
import { expectedTensors } from '../engine/weight-layout.js';
import { measureReadBandwidth } from './memory-bandwidth.js';
import { WARM_UP_DECODE, WARM_UP_PROMPT } from './llama-cpp.js';

export interface InferBenchOptions {
  model: string;
  promptTokens: number;
  decodeTokens: number;
  threads?: number;
  /** undefined: the default for the model's size. */
  quant?: QuantMode;
  log?: (line: string) => void;
}

export interface InferBenchResult {
  quant: QuantMode;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  weightBytes: number;
  readBandwidthBytesPerSecond: number;
  /** Tokens/s if a decode step cost only reading every weight once. */
  decodeBoundTokensPerSecond: number;
  decodeShareOfBound: number;
}

/** Bytes one [rows, cols] weight occupies at `bits` in blocks of `blockSize`: codes, float32 scales, zero points. */
function quantizedSize(rows: number, cols: number, bits: 4 | 8, blockSize = DEFAULT_BLOCK_SIZE): number {
  const blocks = Math.ceil(cols / blockSize);
  return rows * (blocks * blockBytes(bits, blockSize) + blocks * 4 + zeroPointBytesPerRow(bits, blocks));
}

/**
 * Bytes of weights one decode step must stream, as the graph stores them under `quant`: every
 * matrix (codes + scales + zero points when quantized, float32 otherwise) and the norms; the
 * embedding only when lm_head is tied to it (the lookup itself reads one row). A tensor the storage
 * holds quantized (GGUF) counts at its stored size.
 */
export function decodeWeightBytes(folder: ModelFolder, quant: QuantMode): number {
  const { config, weights } = folder;
  const head = headWeightName(config);
  let n = 0;
  for (const { name, shape } of expectedTensors(config)) {
    if (name === 'model.embed_tokens.weight' && !config.tieWordEmbeddings) continue;
    const bits = quantBitsFor(name, quant, config.numLayers);
    const stored = bits ? weights.quantizedLayout?.(name) : undefined;
    // A head with a draft is read through it; the rescored rows are a few KB (see lmHead).
    const read = (name === head ? headDraftBits(quant, bits) : undefined) ?? bits;
    if (stored) n += quantizedSize(shape[0], shape[1], stored.bits, stored.blockSize);
    else if (read) n += quantizedSize(shape[0], shape[1], read);
    else n += 4 * shape.reduce((a, b) => a * b, 1);
  }
  return n;
}

export async function benchInfer(o: InferBenchOptions): Promise<InferBenchResult> {
  const log = o.log ?? (() => {});
  const folder = openModelFolder(o.model);
  const quant = resolveQuantMode(folder.config, o.quant);
  log(`compiling ${o.model} (${quant === 'none' ? 'float32' : quant} weights) ...`);
  const lm = await loadCausalLM(folder, { logits: 'last', threads: o.threads, quant });
  const rng = new Rng(1);
  const prompt = Array.from({ length: o.promptTokens }, () => rng.int(folder.config.vocabSize));
  // Warm-up, the same for llama.cpp (llama-cpp.ts): a short prompt and a few decode steps. The first
  // decode steps of a process pay onnxruntime's one-time costs (arena growth, kernel planning for
  // the one-token shapes): 35-60 ms each against ~17 ms after.
  let warm = await lm.forward([prompt.slice(0, WARM_UP_PROMPT)], lm.emptyCache(1));
  for (let i = 0; i < WARM_UP_DECODE; i++) warm = await lm.forward([[rng.int(folder.config.vocabSize)]], warm.cache);
  const t0 = performance.now();
  let out = await lm.forward([prompt], lm.emptyCache(1));
  const prefillSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  for (let i = 0; i < o.decodeTokens; i++) out = await lm.forward([[rng.int(folder.config.vocabSize)]], out.cache);
  const decodeSeconds = (performance.now() - t1) / 1000;
  await lm.release();
  const weightBytes = decodeWeightBytes(folder, quant);
  const bandwidth = await measureReadBandwidth();
  const decodeTps = o.decodeTokens / decodeSeconds;
  const bound = bandwidth / weightBytes;
  return {
    quant,
    prefillTokensPerSecond: o.promptTokens / prefillSeconds,
    decodeTokensPerSecond: decodeTps,
    weightBytes,
    readBandwidthBytesPerSecond: bandwidth,
    decodeBoundTokensPerSecond: bound,
    decodeShareOfBound: decodeTps / bound,
  };
}
