// The engine's one quantized-weight layout: exactly onnxruntime's MatMulNBits inputs, so a weight
// quantized here at load and a GGUF Q4_0/Q8_0 block stored on disk both reach the graph unchanged.

/**
 * A [rows, cols] linear weight (rows = out features N, cols = in features K, the Hugging Face layout)
 * quantized in blocks of `blockSize` along K: w[n][k] = (q[n][k] - zeroPoint[n][k / blockSize]) * scale[n][k / blockSize].
 */
export interface QuantizedWeight {
  bits: 4 | 8;
  blockSize: number;
  rows: number;
  cols: number;
  /** MatMulNBits `B`: [rows, blocks, blockSize * bits / 8]; at 4 bits element 2i is the low nibble, 2i+1 the high. */
  data: Uint8Array;
  /** MatMulNBits `scales`: [rows * blocks]. */
  scales: Float32Array;
  /** MatMulNBits `zero_points`: [rows * ceil(blocks * bits / 8)], packed like `data` (low nibble first at 4 bits). */
  zeroPoints: Uint8Array;
}

export function blocksPerRow(w: Pick<QuantizedWeight, 'cols' | 'blockSize'>): number {
  return Math.ceil(w.cols / w.blockSize);
}
