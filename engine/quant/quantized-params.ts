// Quantized weights as graph initializers: for each weight the mode quantizes, three initializers
// (codes, scales, zero points) filled lazily when the graph is written, one weight at a time.
import type { Builder } from '../graph/builder.js';
import type { QuantizedValues } from './dequantize-graph.js';
import { quantizedShapes } from './dequantize-graph.js';
import { quantBitsFor, type QuantActivations, type QuantMode } from './quant-mode.js';
import { checkQuantizedWeight, DEFAULT_BLOCK_SIZE, quantizeWeight } from './quantize.js';
import type { QuantizedWeight } from './quantized-weight.js';

/** How a graph holds its weights: the quant mode, MatMulNBits' activations (default 'float') and the model's layer count (see quantBitsFor). */
export interface QuantChoice {
  mode: QuantMode;
  activations?: QuantActivations;
  numLayers: number;
}

/** Where quantized weights come from: stored blocks when the storage has them (GGUF), else float32 to quantize. */
export interface QuantSource {
  float32(name: string): Float32Array;
  quantized?(name: string): QuantizedWeight | undefined;
  /** What `quantized` would give, its width and block size, without converting the tensor. */
  quantizedLayout?(name: string): { bits: 4 | 8; blockSize: number } | undefined;
}

/**
 * The weight `name` of shape [rows, cols] at `bits`: the storage's own blocks when it holds the
 * tensor quantized (a GGUF Q4_0/Q8_0 tensor is used as it is, at its own width, never
 * re-quantized), else the float weight quantized now.
 */
export function quantizedWeightOf(source: QuantSource, name: string, rows: number, cols: number, bits: 4 | 8): QuantizedWeight {
  const stored = source.quantized?.(name);
  if (stored) {
    if (stored.rows !== rows || stored.cols !== cols)
      throw new Error(`quantized "${name}" is [${stored.rows}, ${stored.cols}], expected [${rows}, ${cols}]`);
    checkQuantizedWeight(stored, name);
    return stored;
  }
  return quantizeWeight(source.float32(name), rows, cols, bits, DEFAULT_BLOCK_SIZE);
}

/** The bits and block size the graph will hold `name` at: the stored tensor's when there is one (its header only). */
function layoutOf(source: QuantSource, name: string, bits: 4 | 8): { bits: 4 | 8; blockSize: number } {
  const stored = source.quantizedLayout ? source.quantizedLayout(name) : source.quantized?.(name);
  return stored ? { bits: stored.bits, blockSize: stored.blockSize } : { bits, blockSize: DEFAULT_BLOCK_SIZE };
}

/**
 * Returns `quantized(name, shape, bits?)`: the weight's initializers when `mode` quantizes it (made on
 * first use, shared by later uses, e.g. a tied embedding and lm_head), else undefined. `bits` asks for
 * a second copy at that width (see draftHead); a tensor the storage holds quantized keeps its own.
 */
export function quantizedInitializers(
  b: Builder,
  source: QuantSource,
  quant: QuantChoice,
): (name: string, shape: number[], bits?: 4 | 8) => QuantizedValues | undefined {
  const { mode, activations = 'float', numLayers } = quant;
  // A weight is quantized when the first of its three initializers is written and dropped after the
  // third. They are written one after another, or (stacked, see Builder.stack) the codes of q, k and
  // v, then their scales, then their zero points: at most a stack's few quantized matrices are held.
  const held = new Map<string, { w: QuantizedWeight; reads: number }>();
  const read = (name: string, rows: number, cols: number, bits: 4 | 8) => {
    const key = `${name} ${bits}`;
    let h = held.get(key);
    if (!h) held.set(key, (h = { w: quantizedWeightOf(source, name, rows, cols, bits), reads: 0 }));
    if (++h.reads === 3) held.delete(key);
    return h.w;
  };
  // By name and asked width, and by name and the width held (a stored tensor keeps its own).
  const made = new Map<string, QuantizedValues>();
  return (name, shape, asked) => {
    const wanted = asked ?? quantBitsFor(name, mode, numLayers);
    if (wanted === undefined) return undefined;
    const hit = made.get(`${name} ${wanted}`);
    if (hit) return hit;
    const { bits, blockSize } = layoutOf(source, name, wanted);
    const same = made.get(`${name} ${bits}`);
    if (same) {
      made.set(`${name} ${wanted}`, same);
      return same;
    }
    const [rows, cols] = shape;
    const shapes = quantizedShapes(bits, blockSize, rows, cols);
    const values: QuantizedValues = {
      bits,
      blockSize,
      rows,
      cols,
      accuracyLevel: activations === 'int8' ? 4 : 0,
      data: b.initializer(`${name}.q${bits}`, 'uint8', shapes.data, () => read(name, rows, cols, bits).data),
      scales: b.initializer(`${name}.q${bits}_scales`, 'float32', shapes.scales, () => read(name, rows, cols, bits).scales),
      zeroPoints: b.initializer(`${name}.q${bits}_zero_points`, 'uint8', shapes.zeroPoints, () => read(name, rows, cols, bits).zeroPoints),
    };
    made.set(`${name} ${bits}`, values).set(`${name} ${wanted}`, values);
    return values;
  };
}
