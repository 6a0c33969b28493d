// Which weights a quantized model stores at which width, and the default mode by model size.
import type { ModelConfig } from '../config.js';
import { UserError } from '../../common/index.js';
import { expectedTensors } from '../weight-layout.js';

export type QuantMode = 'none' | 'int4' | 'int8';

/**
 * How MatMulNBits treats the activations it multiplies a quantized weight with.
 * - 'float': float32 activations, blocks of W dequantized on the fly (accuracy_level 0): the result
 *   is the float model's on the dequantized weights, up to float32 rounding. Exact, so every check
 *   and the QLoRA training graphs use it. This onnxruntime (1.30, CPU) has a fast kernel for it only
 *   at 4 bits; at 8 bits it dequantizes the whole weight on every call (~80x slower at decode).
 * - 'int8': activations quantized to int8 per block inside the kernel and integer dot products
 *   (accuracy_level 4), as llama.cpp does for its Q4_0/Q8_0 dot products: 3x faster than 'float' at
 *   4 bits and the only fast route at 8 bits. The inference default.
 */
export type QuantActivations = 'float' | 'int8';
export const QUANT_MODES: readonly QuantMode[] = ['none', 'int4', 'int8'];

/**
 * Models with at least this many parameters default to int4. Below it (the embedded model has
 * about 7M) a whole forward pass is cheap at float32 and the weights are a few MB, so 4-bit
 * codes would cost accuracy for no felt speed; above it decode is bound by the bytes of weights
 * read per token, and 4 bits read about a seventh of float32's. 250M sits below the small code
 * models people run (Qwen2.5-Coder-0.5B has 494M, of which 136M are the tied embedding) and well
 * above anything trained here from scratch.
 */
export const INT4_DEFAULT_MIN_PARAMETERS = 250_000_000;

export function parseQuantMode(value: string | undefined, where = '--quant'): QuantMode | undefined {
  if (value === undefined) return undefined;
  if ((QUANT_MODES as readonly string[]).includes(value)) return value as QuantMode;
  throw new UserError(`${where} must be int4, int8 or none, got "${value}"`);
}

export function parameterCount(config: ModelConfig): number {
  return expectedTensors(config).reduce((s, t) => s + t.shape.reduce((p, d) => p * d, 1), 0);
}

/** The mode used when none is asked for: int4 from INT4_DEFAULT_MIN_PARAMETERS up, float32 below. */
export function defaultQuantMode(config: ModelConfig): QuantMode {
  return parameterCount(config) >= INT4_DEFAULT_MIN_PARAMETERS ? 'int4' : 'none';
}

export function resolveQuantMode(config: ModelConfig, asked: QuantMode | undefined): QuantMode {
  return asked ?? defaultQuantMode(config);
}

const PROJECTION = /^model\.layers\.(\d+)\.(self_attn\.(q|k|v|o)_proj|mlp\.(gate|up|down)_proj)\.weight$/;

/**
 * Identifies how quantized weights are made: the block quantizer (quantize.ts) and the widths chosen
 * here. Part of the compiled graphs' cache keys, since their data files hold the quantized weights:
 * change it whenever either changes.
 */
export const QUANT_METHOD = 'search-v1/ends-int8/head-draft4';

/**
 * The width a tensor of a `numLayers`-layer model is stored at under `mode`, or undefined for float32.
 *
 * - The seven projections take the mode's width: they are nearly all of a layer's bytes. Under int4
 *   those of the first and the last layer stay int8, as llama.cpp's Q4_K_M mixes keep more bits at
 *   the ends: the first layer's error reaches every later one, the last's reaches the logits
 *   unaveraged. On the embedded model's held-out positions int4 top-1 agreement with float32 goes
 *   from 93.4% to 95.6% this way (all v_proj and down_proj int8 instead: 95.1%, from 29% of the
 *   projection bytes; all blocks of 16 instead of 32: 94.3%). It costs 2 / numLayers of the
 *   projections at 9.25 bits per weight instead of 5.125: about 4% more bytes read per token at the
 *   0.5B shape (24 layers).
 * - lm_head (or the tied embedding it reads) is int8 in both modes: it is read in full every
 *   decoded token (a quarter of a 0.5B model), so it must shrink for decode speed, but its
 *   rows are compared against each other to pick the next token, and 4-bit error there flips
 *   top-1 choices far more often than in a projection whose error is averaged over a layer.
 *   Under int4 inference graphs also hold a 4-bit copy that scores the whole vocabulary, and
 *   only its best candidates are scored again through the int8 rows (see `lmHead`).
 * - The embedding is int8 too, and when lm_head is tied it is the same initializer: the lookup
 *   gathers a handful of rows and dequantizes only those, so it costs nothing per token and
 *   saves the float table's memory (544 MB at the 0.5B shape).
 * - Norm weights and biases stay float32: they are vectors (a few KB) applied elementwise.
 */
export function quantBitsFor(name: string, mode: QuantMode, numLayers: number): 4 | 8 | undefined {
  if (mode === 'none') return undefined;
  const projection = PROJECTION.exec(name);
  if (projection) {
    const layer = Number(projection[1]);
    return mode === 'int4' && layer !== 0 && layer !== numLayers - 1 ? 4 : 8;
  }
  if (name === 'lm_head.weight' || name === 'model.embed_tokens.weight') return 8;
  return undefined;
}

/**
 * The width of the draft copy an lm_head held at `bits` gets under `mode`, or undefined for none:
 * under int4 an int8 head scores the vocabulary through a 4-bit draft (see lmHead), so that is the
 * width decode reads it at.
 */
export function headDraftBits(mode: QuantMode, bits: 4 | 8 | undefined): 4 | undefined {
  return mode === 'int4' && bits === 8 ? 4 : undefined;
}
