// ggml block formats we read and write: dequantization (exact: every value is q·d in float32, as
// llama.cpp computes it), quantization the way llama.cpp's reference code does it (quantize_row_q8_0_ref,
// quantize_row_q4_0_ref, float32 arithmetic step by step), and the lossless repacking of Q4_0/Q8_0 blocks
// into onnxruntime's MatMulNBits layout (engine/quant/quantized-weight.ts).
import { UserError } from '../../common/index.js';
import { bf16ToF32, f16BitsToF32, f16ToF32, f32BitsToF16 } from '../float-convert.js';
import type { QuantizedWeight } from '../quant/quantized-weight.js';
import { GgmlType, ggmlTypeName } from './gguf-format.js';

export const QK = 32; // elements per Q4_0/Q8_0 block
export const Q4_0_BYTES = 18; // f16 d, 16 bytes of nibbles
export const Q8_0_BYTES = 34; // f16 d, 32 int8

/** Types whose values we can reproduce exactly as float32. */
export const DEQUANTIZABLE: readonly GgmlType[] = [
  GgmlType.F32,
  GgmlType.F16,
  GgmlType.BF16,
  GgmlType.Q8_0,
  GgmlType.Q4_0,
  GgmlType.Q4_K,
  GgmlType.Q6_K,
];

const fr = Math.fround;

/** `raw` (a whole number of rows of `type`) as float32 values. */
export function dequantize(type: GgmlType, raw: Buffer, count: number, what: string): Float32Array {
  switch (type) {
    case GgmlType.F32:
      return new Float32Array(raw.buffer, raw.byteOffset, count);
    case GgmlType.F16:
      return f16ToF32(new Uint16Array(raw.buffer, raw.byteOffset, count));
    case GgmlType.BF16:
      return bf16ToF32(new Uint16Array(raw.buffer, raw.byteOffset, count));
    case GgmlType.Q8_0: {
      const out = new Float32Array(count);
      for (let b = 0, o = 0; o < count; b += Q8_0_BYTES) {
        const d = f16BitsToF32(raw[b] | (raw[b + 1] << 8));
        for (let j = 0; j < QK; j++, o++) out[o] = fr(((raw[b + 2 + j] << 24) >> 24) * d);
      }
      return out;
    }
    case GgmlType.Q4_0: {
      const out = new Float32Array(count);
      for (let b = 0, o = 0; o < count; b += Q4_0_BYTES, o += QK) {
        const d = f16BitsToF32(raw[b] | (raw[b + 1] << 8));
        for (let j = 0; j < QK / 2; j++) {
          const q = raw[b + 2 + j];
          out[o + j] = fr(((q & 15) - 8) * d);
          out[o + j + QK / 2] = fr(((q >> 4) - 8) * d);
        }
      }
      return out;
    }
    case GgmlType.Q4_K:
      return dequantizeQ4K(raw, count);
    case GgmlType.Q6_K:
      return dequantizeQ6K(raw, count);
    default:
      throw new UserError(
        `${what} is stored as ${ggmlTypeName(type)}, which codefudge cannot load exactly (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K); requantize the GGUF to Q8_0 or Q4_0 with llama-quantize`,
      );
  }
}

/** Rows of float32 values (a multiple of 32 each) as Q8_0 blocks, like quantize_row_q8_0_ref. */
export function quantizeQ8_0(x: Float32Array): Buffer {
  if (x.length % QK !== 0) throw new Error(`Q8_0 needs a multiple of ${QK} values, got ${x.length}`);
  const out = Buffer.alloc((x.length / QK) * Q8_0_BYTES);
  for (let i = 0, b = 0; i < x.length; i += QK, b += Q8_0_BYTES) {
    let amax = 0;
    for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(x[i + j]));
    const d = fr(amax / 127);
    const id = d ? fr(1 / d) : 0;
    out.writeUInt16LE(f32BitsToF16(d), b);
    for (let j = 0; j < QK; j++) {
      const v = fr(x[i + j] * id);
      const q = Math.sign(v) * Math.floor(Math.abs(v) + 0.5); // roundf: halves away from zero
      out[b + 2 + j] = q & 0xff;
    }
  }
  return out;
}

/** Rows of float32 values as Q4_0 blocks, like quantize_row_q4_0_ref (scale from the signed value of largest magnitude). */
export function quantizeQ4_0(x: Float32Array): Buffer {
  if (x.length % QK !== 0) throw new Error(`Q4_0 needs a multiple of ${QK} values, got ${x.length}`);
  const out = Buffer.alloc((x.length / QK) * Q4_0_BYTES);
  for (let i = 0, b = 0; i < x.length; i += QK, b += Q4_0_BYTES) {
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK; j++) {
      const v = x[i + j];
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = fr(max / -8);
    const id = d ? fr(1 / d) : 0;
    out.writeUInt16LE(f32BitsToF16(d), b);
    const nib = (v: number) => Math.min(15, Math.trunc(fr(fr(v * id) + 8.5)));
    for (let j = 0; j < QK / 2; j++) out[b + 2 + j] = nib(x[i + j]) | (nib(x[i + QK / 2 + j]) << 4);
  }
  return out;
}

/** The MatMulNBits width and block size toMatMulNBits gives a `type` tensor of `cols` columns; undefined: none. */
export function matMulNBitsLayout(type: GgmlType, cols: number): { bits: 4 | 8; blockSize: number } | undefined {
  if (cols % QK !== 0) return undefined;
  if (type === GgmlType.Q8_0) return { bits: 8, blockSize: QK };
  if (type === GgmlType.Q4_0) return { bits: 4, blockSize: QK };
  return undefined;
}

/**
 * Q4_0/Q8_0 rows ([rows, cols] with cols along the blocks) repacked losslessly as MatMulNBits inputs:
 * Q4_0 → 4 bits, zero point 8, nibbles reordered from llama.cpp's (qs[j]: low x[j], high x[j+16]) to
 * consecutive pairs (byte i: low x[2i], high x[2i+1]); Q8_0 → 8 bits, q+128, zero point 128. The scale is
 * the block's f16 d widened to float32, so (q − zp)·scale is exactly ggml's q·d.
 */
export function toMatMulNBits(type: GgmlType, raw: Buffer, rows: number, cols: number): QuantizedWeight | undefined {
  if (!matMulNBitsLayout(type, cols)) return undefined;
  const blocks = cols / QK;
  const scales = new Float32Array(rows * blocks);
  if (type === GgmlType.Q8_0) {
    const data = new Uint8Array(rows * blocks * QK);
    for (let k = 0, b = 0; k < rows * blocks; k++, b += Q8_0_BYTES) {
      scales[k] = f16BitsToF32(raw[b] | (raw[b + 1] << 8));
      for (let j = 0; j < QK; j++) data[k * QK + j] = raw[b + 2 + j] ^ 0x80;
    }
    return { bits: 8, blockSize: QK, rows, cols, data, scales, zeroPoints: new Uint8Array(rows * blocks).fill(128) };
  }
  if (type === GgmlType.Q4_0) {
    const data = new Uint8Array(rows * blocks * (QK / 2));
    const nibble = (b: number, m: number) => (m < QK / 2 ? raw[b + 2 + m] & 15 : raw[b + 2 + m - QK / 2] >> 4);
    for (let k = 0, b = 0; k < rows * blocks; k++, b += Q4_0_BYTES) {
      scales[k] = f16BitsToF32(raw[b] | (raw[b + 1] << 8));
      for (let i = 0; i < QK / 2; i++) data[k * (QK / 2) + i] = nibble(b, 2 * i) | (nibble(b, 2 * i + 1) << 4);
    }
    return { bits: 4, blockSize: QK, rows, cols, data, scales, zeroPoints: new Uint8Array(rows * Math.ceil(blocks / 2)).fill(0x88) };
  }
  return undefined;
}

const QK_K = 256;

/**
 * Q4_K (144-byte super-blocks of 256): f16 d and dmin, twelve bytes of 6-bit scales and mins for eight
 * sub-blocks of 32, then 4-bit quants; w = d·sc·q − dmin·m, rounded to float32 step by step as
 * dequantize_row_q4_K does. Exact as float32 only: the per-sub-block offset dmin·m is not an integer number
 * of steps d·sc, so no MatMulNBits zero point reproduces it, and quantized() serves none.
 */
function dequantizeQ4K(raw: Buffer, count: number): Float32Array {
  const out = new Float32Array(count);
  const scaleMin = (sc: number, j: number): [number, number] =>
    j < 4
      ? [raw[sc + j] & 63, raw[sc + j + 4] & 63]
      : [(raw[sc + j + 4] & 15) | ((raw[sc + j - 4] >> 6) << 4), (raw[sc + j + 4] >> 4) | ((raw[sc + j] >> 6) << 4)];
  for (let b = 0, o = 0; o < count; b += 144, o += QK_K) {
    const d = f16BitsToF32(raw[b] | (raw[b + 1] << 8));
    const dmin = f16BitsToF32(raw[b + 2] | (raw[b + 3] << 8));
    for (let j = 0; j < 4; j++) {
      const [s1, m1] = scaleMin(b + 4, 2 * j);
      const [s2, m2] = scaleMin(b + 4, 2 * j + 1);
      const d1 = fr(d * s1);
      const min1 = fr(dmin * m1);
      const d2 = fr(d * s2);
      const min2 = fr(dmin * m2);
      const q = b + 16 + 32 * j;
      for (let l = 0; l < 32; l++) {
        out[o + 64 * j + l] = fr(fr(d1 * (raw[q + l] & 15)) - min1);
        out[o + 64 * j + 32 + l] = fr(fr(d2 * (raw[q + l] >> 4)) - min2);
      }
    }
  }
  return out;
}

/**
 * Q6_K (210-byte super-blocks of 256): 4 low bits (ql), 2 high bits (qh), int8 scales for sixteen
 * sub-blocks of 16, f16 d last; w = d·sc·(q − 32) as dequantize_row_q6_K computes it. Exact as float32;
 * its sub-blocks of 16 do not fit the engine's MatMulNBits blocks of 32, so quantized() serves none.
 */
function dequantizeQ6K(raw: Buffer, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let b = 0, o = 0; o < count; b += 210, o += QK_K) {
    const d = f16BitsToF32(raw[b + 208] | (raw[b + 209] << 8));
    for (let h = 0; h < 2; h++) {
      const ql = b + 64 * h;
      const qh = b + 128 + 32 * h;
      const sc = b + 192 + 8 * h;
      const y = o + 128 * h;
      const scale = (i: number) => fr(d * ((raw[sc + i] << 24) >> 24));
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const q1 = ((raw[ql + l] & 15) | ((raw[qh + l] & 3) << 4)) - 32;
        const q2 = ((raw[ql + l + 32] & 15) | (((raw[qh + l] >> 2) & 3) << 4)) - 32;
        const q3 = ((raw[ql + l] >> 4) | (((raw[qh + l] >> 4) & 3) << 4)) - 32;
        const q4 = ((raw[ql + l + 32] >> 4) | (((raw[qh + l] >> 6) & 3) << 4)) - 32;
        out[y + l] = fr(scale(is) * q1);
        out[y + l + 32] = fr(scale(is + 2) * q2);
        out[y + l + 64] = fr(scale(is + 4) * q3);
        out[y + l + 96] = fr(scale(is + 6) * q4);
      }
    }
  }
  return out;
}
