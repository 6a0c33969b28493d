import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { dequantize, GgmlType, permuteRows, quantizeQ4_0, quantizeQ8_0 } from '../../engine/index.js';
import { Rng } from '../../common/index.js';

const fixture = JSON.parse(readFileSync(new URL('../../../test/engine/fixtures/gguf-quants-reference.json', import.meta.url), 'utf8')) as {
  input_f32_hex: string;
  q8_0_hex: string;
  q4_0_hex: string;
};
const input = (() => {
  const b = Buffer.from(fixture.input_f32_hex, 'hex');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
})();

describe('quantization the way llama.cpp does it', () => {
  it('Q8_0 bytes equal llama.cpp gguf-py reference output (ties, zeros, tiny and huge scales)', () => {
    assert.equal(quantizeQ8_0(input).toString('hex'), fixture.q8_0_hex);
  });

  it('Q4_0 bytes equal llama.cpp gguf-py reference output (scale from the signed largest value)', () => {
    assert.equal(quantizeQ4_0(input).toString('hex'), fixture.q4_0_hex);
  });

  it('dequantize(quantize(x)) stays within half a step (Q8_0) and one step (Q4_0) of x, plus the f16 rounding of the scale', () => {
    const rng = new Rng(3);
    const x = Float32Array.from({ length: 32 * 64 }, () => rng.normal() * 0.05);
    const q8 = dequantize(GgmlType.Q8_0, quantizeQ8_0(x), x.length, 'q8');
    const q4 = dequantize(GgmlType.Q4_0, quantizeQ4_0(x), x.length, 'q4');
    for (let b = 0; b < 64; b++) {
      let amax = 0;
      for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b * 32 + j]));
      for (let j = 0; j < 32; j++) {
        const i = b * 32 + j;
        // The scale is stored as f16 (relative error 2^-11), which moves the largest value by up to 127·d·2^-11.
        assert.ok(Math.abs(q8[i] - x[i]) <= (amax / 127) * (0.5 + 127 * 2 ** -11) + 1e-9, `q8 ${i}`);
        assert.ok(Math.abs(q4[i] - x[i]) <= (amax / 8) * (1 + 8 * 2 ** -11) + 1e-9, `q4 ${i}`);
      }
    }
  });
});

describe('K-quant dequantization (float32 only)', () => {
  const k = JSON.parse(
    readFileSync(new URL('../../../test/engine/fixtures/gguf-kquants-reference.json', import.meta.url), 'utf8'),
  ) as Record<string, string>;
  const f32 = (hex: string) => {
    const b = Buffer.from(hex, 'hex');
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
  };
  for (const [name, type] of [
    ['q4_k', GgmlType.Q4_K],
    ['q6_k', GgmlType.Q6_K],
  ] as const) {
    it(`${name.toUpperCase()} values equal llama.cpp gguf-py's dequantization bit for bit`, () => {
      const want = f32(k[`${name}_f32_hex`]);
      const got = dequantize(type, Buffer.from(k[`${name}_hex`], 'hex'), want.length, name);
      assert.deepEqual(got, want);
    });
  }
});

describe("llama.cpp's q/k row permutation", () => {
  /** convert_hf_to_gguf's permute written with reshape/swapaxes index arithmetic: w.reshape(h, 2, d/2, k).swapaxes(1, 2). */
  function numpyPermute(w: Float32Array, rows: number, cols: number, heads: number): Float32Array {
    const half = rows / heads / 2;
    const out = new Float32Array(w.length);
    let o = 0;
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < half; i++) {
        for (let j = 0; j < 2; j++) {
          const src = (h * 2 + j) * half + i; // row of the [h, 2, d/2] view at (h, j, i)
          out.set(w.subarray(src * cols, (src + 1) * cols), o);
          o += cols;
        }
      }
    }
    return out;
  }

  const bytesOf = (f: Float32Array) => new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
  const floatsOf = (b: Uint8Array) => new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);

  for (const [rows, cols, heads] of [
    [32, 8, 4],
    [16, 3, 1],
    [24, 5, 2],
    [8, 1, 4],
  ]) {
    it(`matches convert_hf_to_gguf and round-trips (${rows} rows, ${heads} heads)`, () => {
      const rng = new Rng(rows + heads);
      const w = Float32Array.from({ length: rows * cols }, () => rng.normal());
      const toGguf = floatsOf(permuteRows(bytesOf(w), rows, cols * 4, heads, true));
      assert.deepEqual([...toGguf], [...numpyPermute(w, rows, cols, heads)]);
      const back = floatsOf(permuteRows(bytesOf(toGguf), rows, cols * 4, heads, false));
      assert.deepEqual([...back], [...w]);
    });
  }

  it('moves quantized rows as whole blocks, so un-permuting Q4_0 equals quantizing the un-permuted rows', () => {
    const rng = new Rng(9);
    const rows = 16;
    const cols = 64;
    const w = Float32Array.from({ length: rows * cols }, () => rng.normal());
    const permuted = floatsOf(permuteRows(bytesOf(w), rows, cols * 4, 2, true));
    const q = quantizeQ4_0(permuted);
    const unpermuted = permuteRows(q, rows, q.length / rows, 2, false);
    assert.deepEqual(Buffer.from(unpermuted), quantizeQ4_0(w));
  });
});
