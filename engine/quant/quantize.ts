// Block-wise quantization of a [rows, cols] float weight into the engine's QuantizedWeight
// (onnxruntime's MatMulNBits layout), and its inverse. Written here rather than taken from a
// library: no npm package produces MatMulNBits' packed layout, and onnxruntime's own quantizer
// is Python. Plain loops over typed arrays; a 0.5B model's projections take a few seconds.
import { UserError } from '../../common/index.js';
import { blocksPerRow, type QuantizedWeight } from './quantized-weight.js';

export const DEFAULT_BLOCK_SIZE = 32;

/** Bytes of `data` per block and of `zeroPoints` per row. */
export function blockBytes(bits: 4 | 8, blockSize: number): number {
  return (blockSize * bits) / 8;
}

export function zeroPointBytesPerRow(bits: 4 | 8, blocks: number): number {
  return Math.ceil((blocks * bits) / 8);
}

/**
 * Asymmetric block-wise quantization: each block of `blockSize` values along a row gets
 * scale = (max - min) / (2^bits - 1) and an integer zero point, over the block's range widened
 * to include 0 so the zero point is a representable code and 0 stays exact. Every value is then
 * within scale / 2 of its dequantized value. A tail block shorter than `blockSize` is padded
 * with codes equal to the zero point (value 0), as MatMulNBits expects.
 */
export function quantizeWeight(w: Float32Array, rows: number, cols: number, bits: 4 | 8, blockSize = DEFAULT_BLOCK_SIZE): QuantizedWeight {
  if (w.length !== rows * cols) throw new Error(`quantizeWeight: ${w.length} values for a [${rows}, ${cols}] weight`);
  if (blockSize < 16 || (blockSize & (blockSize - 1)) !== 0)
    throw new UserError(`quantization block size must be a power of two ≥ 16, got ${blockSize}`);
  const blocks = blocksPerRow({ cols, blockSize });
  const bytesPerBlock = blockBytes(bits, blockSize);
  const zpRow = zeroPointBytesPerRow(bits, blocks);
  const data = new Uint8Array(rows * blocks * bytesPerBlock);
  const scales = new Float32Array(rows * blocks);
  const zeroPoints = new Uint8Array(rows * zpRow);
  const levels = (1 << bits) - 1;
  const codes = new Uint8Array(blockSize);
  for (let r = 0; r < rows; r++) {
    const rowAt = r * cols;
    for (let k = 0; k < blocks; k++) {
      const start = k * blockSize;
      const end = Math.min(cols, start + blockSize);
      let lo = 0;
      let hi = 0;
      for (let i = rowAt + start; i < rowAt + end; i++) {
        const v = w[i];
        if (v < lo) lo = v;
        else if (v > hi) hi = v;
        else if (v !== v) lo = NaN;
      }
      if (!Number.isFinite(lo) || !Number.isFinite(hi))
        throw new UserError(`cannot quantize: row ${r} of the weight holds a non-finite value`);
      // The scale is rounded to float32 first, so codes are chosen against the scale that is stored.
      const scale = Math.fround((hi - lo) / levels);
      let zp = 0;
      if (scale > 0) {
        zp = Math.min(levels, Math.max(0, Math.round(-lo / scale)));
        // floor(x + 0.5) is Math.round; with zp + 0.5 folded in, one multiply-add per value.
        const inv = 1 / scale;
        const offset = zp + 0.5;
        for (let i = start; i < end; i++) {
          const q = Math.floor(w[rowAt + i] * inv + offset);
          codes[i - start] = q < 0 ? 0 : q > levels ? levels : q;
        }
      } else {
        codes.fill(0, 0, end - start);
      }
      codes.fill(zp, end - start);
      const blk = r * blocks + k;
      scales[blk] = scale;
      const out = blk * bytesPerBlock;
      if (bits === 8) data.set(codes, out);
      else for (let i = 0; i < bytesPerBlock; i++) data[out + i] = codes[2 * i] | (codes[2 * i + 1] << 4);
      if (bits === 8) zeroPoints[r * zpRow + k] = zp;
      else zeroPoints[r * zpRow + (k >> 1)] |= (k & 1) === 0 ? zp : zp << 4;
    }
  }
  return { bits, blockSize, rows, cols, data, scales, zeroPoints };
}

/** The code of element `i` of block `blk` (row-major over [rows, blocks]). */
function code(q: QuantizedWeight, bytesPerBlock: number, blk: number, i: number): number {
  if (q.bits === 8) return q.data[blk * bytesPerBlock + i];
  const byte = q.data[blk * bytesPerBlock + (i >> 1)];
  return (i & 1) === 0 ? byte & 15 : byte >> 4;
}

export function zeroPointOf(q: QuantizedWeight, row: number, block: number): number {
  const blocks = blocksPerRow(q);
  if (q.bits === 8) return q.zeroPoints[row * blocks + block];
  const byte = q.zeroPoints[row * zeroPointBytesPerRow(4, blocks) + (block >> 1)];
  return (block & 1) === 0 ? byte & 15 : byte >> 4;
}

/** w[r][c] = (q - zp) * scale, as float32 [rows, cols]: the weights a quantized graph computes with. */
export function dequantizeWeight(q: QuantizedWeight): Float32Array {
  checkQuantizedWeight(q, 'dequantizeWeight');
  const { rows, cols, blockSize } = q;
  const blocks = blocksPerRow(q);
  const bytesPerBlock = blockBytes(q.bits, blockSize);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < blocks; k++) {
      const blk = r * blocks + k;
      const scale = q.scales[blk];
      const zp = zeroPointOf(q, r, k);
      const end = Math.min(blockSize, cols - k * blockSize);
      const at = r * cols + k * blockSize;
      for (let i = 0; i < end; i++) out[at + i] = (code(q, bytesPerBlock, blk, i) - zp) * scale;
    }
  }
  return out;
}

/** Throws when the arrays' sizes do not match the declared shape (a GGUF reader's bug, or a corrupt cache). */
export function checkQuantizedWeight(q: QuantizedWeight, where: string): void {
  const blocks = blocksPerRow(q);
  const want = {
    data: q.rows * blocks * blockBytes(q.bits, q.blockSize),
    scales: q.rows * blocks,
    zeroPoints: q.rows * zeroPointBytesPerRow(q.bits, blocks),
  };
  if (q.bits !== 4 && q.bits !== 8) throw new Error(`${where}: bits must be 4 or 8, got ${q.bits}`);
  for (const [k, n] of Object.entries(want)) {
    const have = (q as unknown as Record<string, ArrayLike<number>>)[k].length;
    if (have !== n)
      throw new Error(
        `${where}: ${k} has ${have} elements, a ${q.bits}-bit [${q.rows}, ${q.cols}] weight in blocks of ${q.blockSize} needs ${n}`,
      );
  }
}

/** Bytes the weight occupies (codes, scales, zero points): what one matmul over it streams from memory. */
export function quantizedBytes(q: Pick<QuantizedWeight, 'data' | 'scales' | 'zeroPoints'>): number {
  return q.data.byteLength + q.scales.byteLength + q.zeroPoints.byteLength;
}
