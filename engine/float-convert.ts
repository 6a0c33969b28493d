// Half-precision conversions (IEEE binary16 and bfloat16), round-to-nearest-even like numpy/torch.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** One float32 value to its binary16 bits, round-to-nearest-even; overflow gives ±Inf, NaN stays NaN. */
export function f32BitsToF16(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the mantissa with its hidden bit, rounding half to even.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let out = mant >>> shift;
    if (rest > half || (rest === half && out & 1)) out++;
    return sign | out;
  }
  let out = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to Inf).
  if (rest > 0x1000 || (rest === 0x1000 && out & 1)) out++;
  return sign | out;
}

/** binary16 bits to the float32 value they hold (exactly representable). */
export function f16BitsToF32(h: number): number {
  return f16Widened()[h & 0xffff];
}

// Every binary16 value, widened once: a model's weights are millions of halves, and the arithmetic
// below (a power of two per value) made loading the embedded model spend ~0.4 s converting.
let f16Table: Float32Array | undefined;

function f16Widened(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToF32Arithmetic(h);
  }
  return f16Table;
}

function f16BitsToF32Arithmetic(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** One float32 value to its bfloat16 bits, round-to-nearest-even; NaN stays a quiet NaN. */
export function f32BitsToBf16(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x40) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

export function bf16BitsToF32(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0];
}

export function f32ToF16(src: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32BitsToF16(src[i]);
  return out;
}

export function f16ToF32(src: Uint16Array): Float32Array {
  const table = f16Widened();
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = table[src[i]];
  return out;
}

export function f32ToBf16(src: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32BitsToBf16(src[i]);
  return out;
}

export function bf16ToF32(src: Uint16Array): Float32Array {
  // bf16 is the top half of a float32: widen by shifting the bits in place.
  const out = new Float32Array(src.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
  return out;
}
