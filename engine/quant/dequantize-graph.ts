// Quantized weights as graph ops: the MatMulNBits node for x @ Wᵀ, and an exact dequantization
// from plain opset-18 ops (Cast, Floor, arithmetic) for the places MatMulNBits cannot serve: the
// embedding's row lookup, the backward pass's g @ W, and float64 graphs (MatMulNBits has no double kernel).
import type { Builder } from '../graph/builder.js';
import { int, type Dim, type Value } from '../graph/graph.js';
import { blockBytes, zeroPointBytesPerRow } from './quantize.js';

export const MS_DOMAIN = 'com.microsoft';

/** A quantized weight's three tensors in a graph, with the layout facts MatMulNBits takes as attributes. */
export interface QuantizedValues {
  bits: 4 | 8;
  blockSize: number;
  /** N: out features (rows of the stored [out, in] weight). */
  rows: number;
  /** K: in features. */
  cols: number;
  /** uint8 [N, blocks, blockSize*bits/8]. */
  data: Value;
  /** float32 [N * blocks]. */
  scales: Value;
  /** uint8 [N * ceil(blocks*bits/8)]. */
  zeroPoints: Value;
  /** MatMulNBits accuracy_level: 0 float activations (exact), 4 int8 activations (see QuantActivations). */
  accuracyLevel?: 0 | 4;
}

/**
 * x [..., K] @ Wᵀ -> [..., N] with onnxruntime's MatMulNBits, at the weight's accuracy level: 0 keeps
 * the activations in float32 (the kernel dequantizes blocks on the fly), so the result equals a float
 * matmul over the dequantized weight up to float rounding; 4 quantizes the activations to int8 per
 * block (faster, no longer exactly the dequantized float model).
 */
export function matMulNBits(b: Builder, x: Value, w: QuantizedValues): Value {
  const shape = [...x.shape.slice(0, -1), w.rows];
  return b.emit('MatMulNBits', [x, w.data, w.scales, w.zeroPoints], [{ dtype: x.dtype, shape }], {
    K: int(w.cols), N: int(w.rows), bits: int(w.bits), block_size: int(w.blockSize), accuracy_level: int(w.accuracyLevel ?? 0),
  }, MS_DOMAIN)[0];
}

/** Splits bytes (as floats 0..255) [..., n] into 4-bit codes [..., 2n], low nibble first. */
function unpackNibbles(b: Builder, bytes: Value): Value {
  const hi = b.unary('Floor', b.mul(bytes, b.scalar(1 / 16, bytes)));
  const lo = b.sub(bytes, b.mul(hi, b.scalar(16, bytes)));
  const pairs = b.concat([b.unsqueeze(lo, [-1]), b.unsqueeze(hi, [-1])], -1);
  const last = bytes.shape[bytes.shape.length - 1];
  const spec = [...bytes.shape.slice(0, -1).map(() => 0), typeof last === 'number' ? 2 * last : -1];
  return b.reshape(pairs, spec);
}

/**
 * The float weight [R, cols] of R quantized rows: data [R, blocks, bytes], scales [R, blocks],
 * zero points [R, zpBytes] (R may be symbolic: rows gathered for the embedding). `guard`, a
 * run-time 1, multiplies the scales so onnxruntime cannot constant-fold a whole dequantized
 * matrix into a float initializer at session start (which would undo the memory saving).
 */
export function dequantizeRows(
  b: Builder,
  rows: { data: Value; scales: Value; zeroPoints: Value },
  layout: { bits: 4 | 8; blockSize: number; cols: number },
  guard?: Value,
): Value {
  const { bits, blockSize, cols } = layout;
  const f = b.floatType;
  const blocks = Math.ceil(cols / blockSize);
  const bytes = b.cast(rows.data, f);
  const codes = bits === 8 ? bytes : unpackNibbles(b, bytes);
  let zp = b.cast(rows.zeroPoints, f);
  if (bits === 4) {
    zp = unpackNibbles(b, zp);
    if (zp.shape[zp.shape.length - 1] !== blocks) zp = b.slice(zp, [-1], [0], [blocks]);
  }
  let scales = b.cast(rows.scales, f);
  if (guard) scales = b.mul(scales, guard);
  const w = b.mul(b.sub(codes, b.unsqueeze(zp, [-1])), b.unsqueeze(scales, [-1]));
  const flat = b.reshape(w, [0, blocks * blockSize]);
  return blocks * blockSize === cols ? flat : b.slice(flat, [1], [0], [cols]);
}

/** The whole weight [N, K] from its MatMulNBits tensors (1-D scales and zero points reshaped per row). */
export function dequantizeValues(b: Builder, w: QuantizedValues, guard?: Value): Value {
  const blocks = Math.ceil(w.cols / w.blockSize);
  return dequantizeRows(b, {
    data: w.data,
    scales: b.reshape(w.scales, [w.rows, blocks]),
    zeroPoints: b.reshape(w.zeroPoints, [w.rows, zeroPointBytesPerRow(w.bits, blocks)]),
  }, w, guard);
}

/** Rows `ids` (int64, any shape) of a quantized [V, H] table, dequantized: [..., H]. The embedding lookup. */
export function gatherQuantizedRows(b: Builder, w: QuantizedValues, ids: Value): Value {
  const blocks = Math.ceil(w.cols / w.blockSize);
  const flatIds = ids.shape.length === 1 ? ids : b.reshape(ids, [-1]);
  const rows = {
    data: b.gather(w.data, flatIds, 0),
    scales: b.gather(b.reshape(w.scales, [w.rows, blocks]), flatIds, 0),
    zeroPoints: b.gather(b.reshape(w.zeroPoints, [w.rows, zeroPointBytesPerRow(w.bits, blocks)]), flatIds, 0),
  };
  return dequantizeRows(b, rows, w);
}

/** A float scalar equal to 1 that depends on `x` at run time (see `dequantizeRows`' guard). */
export function runtimeOne(b: Builder, x: Value): Value {
  const size = b.emit('Size', [x], [{ dtype: 'int64', shape: [] }])[0];
  return b.cast(b.compare('GreaterOrEqual', size, b.constant('int64', [], [0])), b.floatType);
}

/** The static shapes of a quantized weight's three initializers. */
export function quantizedShapes(bits: 4 | 8, blockSize: number, rows: number, cols: number): { data: Dim[]; scales: Dim[]; zeroPoints: Dim[] } {
  const blocks = Math.ceil(cols / blockSize);
  return {
    data: [rows, blocks, blockBytes(bits, blockSize)],
    scales: [rows * blocks],
    zeroPoints: [rows * zeroPointBytesPerRow(bits, blocks)],
  };
}
