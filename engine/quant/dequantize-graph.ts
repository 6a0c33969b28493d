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
  return b.emit(
    'MatMulNBits',
    [x, w.data, w.scales, w.zeroPoints],
    [{ dtype: x.dtype, shape }],
    {
      K: int(w.cols),
      N: int(w.rows),
      bits: int(w.bits),
      block_size: int(w.blockSize),
      accuracy_level: int(w.accuracyLevel ?? 0),
    },
    MS_DOMAIN,
  )[0];
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
 * zero points [R, zpBytes] (R may be symbolic: rows gathered for the embedding).
 */
export function dequantizeRows(
  b: Builder,
  rows: { data: Value; scales: Value; zeroPoints: Value },
  layout: { bits: 4 | 8; blockSize: number; cols: number },
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
  const scales = b.cast(rows.scales, f);
  const w = b.mul(b.sub(codes, b.unsqueeze(zp, [-1])), b.unsqueeze(scales, [-1]));
  const flat = b.reshape(w, [0, blocks * blockSize]);
  return blocks * blockSize === cols ? flat : b.slice(flat, [1], [0], [cols]);
}

/**
 * The whole weight [N, K] from its MatMulNBits tensors (1-D scales and zero points reshaped per row).
 * `keep`, a run-time true (see `runtimeTrue`), routes the three initializers through a Where first:
 * every op after it then depends on a run-time value, so onnxruntime cannot constant-fold the whole
 * dequantized matrix into a float initializer at session start (which would bring back all the
 * float weights' memory: 5.5 GB RSS for a 0.5B QLoRA graph before this). The copy costs one pass
 * over the quantized bytes.
 */
export function dequantizeValues(b: Builder, w: QuantizedValues, keep?: Value): Value {
  return dequantizeSlices(b, w, keep, w.rows)[0].w;
}

/**
 * The weight dequantized in slices of at most `rowsPerSlice` rows: [{ from, to, w [to - from, K] }].
 * A consumer that uses each slice as soon as it is made (the MatMulNBits gradient rule) holds one
 * slice's float copy at a time instead of the whole matrix (544 MB for a 0.5B model's lm_head).
 */
export function dequantizeSlices(
  b: Builder,
  w: QuantizedValues,
  keep: Value | undefined,
  rowsPerSlice: number,
): { from: number; to: number; w: Value }[] {
  if (rowsPerSlice >= w.rows) return [{ from: 0, to: w.rows, w: dequantizeRowRange(b, w, 0, w.rows, keep) }];
  const out: { from: number; to: number; w: Value }[] = [];
  for (let from = 0; from < w.rows; from += rowsPerSlice) {
    const to = Math.min(w.rows, from + rowsPerSlice);
    out.push({ from, to, w: dequantizeRowRange(b, w, from, to, keep) });
  }
  return out;
}

/**
 * Rows [from, to) of the weight, dequantized: [to - from, K]. With `keep` (see `dequantizeValues`) the
 * rows are cut at bounds offset by a run-time zero, so onnxruntime can neither fold the slice of an
 * initializer into a new initializer at session start nor needs a copy of the whole weight first.
 */
export function dequantizeRowRange(b: Builder, w: QuantizedValues, from: number, to: number, keep: Value | undefined): Value {
  const blocks = Math.ceil(w.cols / w.blockSize);
  const zpRow = zeroPointBytesPerRow(w.bits, blocks);
  // Elements [from * perRow, to * perRow) along axis 0 of a weight tensor (scales and zero points are 1-D).
  let cut: (v: Value, perRow: number) => Value;
  if (from === 0 && to === w.rows) cut = keep ? (v) => b.where(keep, v, v) : (v) => v;
  else if (!keep) cut = (v, perRow) => b.slice(v, [0], [from * perRow], [to * perRow]);
  else {
    const zero = b.sub(b.cast(keep, 'int64'), b.constant('int64', [], [1]));
    const bound = (at: number) => b.add(b.int64s([at]), zero);
    cut = (v, perRow) =>
      b.emit(
        'Slice',
        [v, bound(from * perRow), bound(to * perRow), b.int64s([0])],
        [{ dtype: v.dtype, shape: [(to - from) * perRow, ...v.shape.slice(1)] }],
      )[0];
  }
  const n = to - from;
  const rows = {
    data: cut(w.data, 1),
    scales: b.reshape(cut(w.scales, blocks), [n, blocks]),
    zeroPoints: b.reshape(cut(w.zeroPoints, zpRow), [n, zpRow]),
  };
  return dequantizeRows(b, rows, w);
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

/** A bool scalar, always true, that onnxruntime can only know by running the graph: it depends on `x`'s run-time size. */
export function runtimeTrue(b: Builder, x: Value): Value {
  const size = b.emit('Size', [x], [{ dtype: 'int64', shape: [] }])[0];
  return b.compare('GreaterOrEqual', size, b.constant('int64', [], [0]));
}

/** The static shapes of a quantized weight's three initializers. */
export function quantizedShapes(
  bits: 4 | 8,
  blockSize: number,
  rows: number,
  cols: number,
): { data: Dim[]; scales: Dim[]; zeroPoints: Dim[] } {
  const blocks = Math.ceil(cols / blockSize);
  return {
    data: [rows, blocks, blockBytes(bits, blockSize)],
    scales: [rows * blocks],
    zeroPoints: [rows * zeroPointBytesPerRow(bits, blocks)],
  };
}
