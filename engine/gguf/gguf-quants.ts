// ggml block formats we read and write: dequantization (exact: every value is q·d in float32, as
// llama.cpp computes it), quantization the way llama.cpp's reference code does it (quantize_row_q8_0_ref,
// quantize_row_q4_0_ref, float32 arithmetic step by step), and the lossless repacking of Q4_0/Q8_0 blocks
// into onnxruntime's MatMulNBits layout (engine/quant/quantized-weight.ts).
import { UserError } from '../errors.js';
import { bf16ToF32, f16BitsToF32, f16ToF32, f32BitsToF16 } from '../float-convert.js';
import type { QuantizedWeight } from '../quant/quantized-weight.js';
import { GgmlType, ggmlTypeName } from './gguf-format.js';

export const QK = 32; // elements per Q4_0/Q8_0 block
export const Q4_0_BYTES = 18; // f16 d, 16 bytes of nibbles
export const Q8_0_BYTES = 34; // f16 d, 32 int8

/** Types whose values we can reproduce exactly as float32. */
export const DEQUANTIZABLE: readonly GgmlType[] = [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0];

const fr = Math.fround;

/** `raw` (a whole number of rows of `type`) as float32 values. */
export function dequantize(type: GgmlType, raw: Buffer, count: number, what: string): Float32Array {
  switch (type) {
    case GgmlType.F32: return new Float32Array(raw.buffer, raw.byteOffset, count);
    case GgmlType.F16: return f16ToF32(new Uint16Array(raw.buffer, raw.byteOffset, count));
    case GgmlType.BF16: return bf16ToF32(new Uint16Array(raw.buffer, raw.byteOffset, count));
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
    default:
      // Q4_K/Q6_K etc. use 6-bit sub-block scales and mins (Q4_K: w = d·sc·q − dmin·m) that no integer zero
      // point over blocks of 32 reproduces, so they cannot reach MatMulNBits without a lossy requantization.
      throw new UserError(`${what} is stored as ${ggmlTypeName(type)}, which codefudge cannot load exactly (supported: F32, F16, BF16, Q8_0, Q4_0); requantize the GGUF to Q8_0 or Q4_0 with llama-quantize`);
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

/**
 * Q4_0/Q8_0 rows ([rows, cols] with cols along the blocks) repacked losslessly as MatMulNBits inputs:
 * Q4_0 → 4 bits, zero point 8, nibbles reordered from llama.cpp's (qs[j]: low x[j], high x[j+16]) to
 * consecutive pairs (byte i: low x[2i], high x[2i+1]); Q8_0 → 8 bits, q+128, zero point 128. The scale is
 * the block's f16 d widened to float32, so (q − zp)·scale is exactly ggml's q·d.
 */
export function toMatMulNBits(type: GgmlType, raw: Buffer, rows: number, cols: number): QuantizedWeight | undefined {
  if (cols % QK !== 0) return undefined;
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
