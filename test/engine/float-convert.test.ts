import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../../engine/index.js';

const allBits = Uint16Array.from({ length: 65536 }, (_, i) => i);
const isNaNBits16 = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;

test('f16: known values, including subnormals, infinities and overflow', () => {
  const values = Float32Array.from([0, -0, 1, -2, 0.5, 65504, 65520, 1e6, -1e6, 2 ** -24, 2 ** -25, 2 ** -14, Infinity, -Infinity]);
  assert.deepEqual(
    [...f32ToF16(values)].map((h) => h.toString(16)),
    ['0', '8000', '3c00', 'c000', '3800', '7bff', '7c00', '7c00', 'fc00', '1', '0', '400', '7c00', 'fc00'],
  );
  assert.ok(Number.isNaN(f16ToF32(f32ToF16(Float32Array.of(NaN)))[0]));
  // 1/3 in f16 is 0x3555 (0.333251953125), as numpy gives.
  assert.equal(f32ToF16(Float32Array.of(1 / 3))[0], 0x3555);
  assert.equal(f16ToF32(Uint16Array.of(0x3555))[0], 0.333251953125);
});

test('f16: every bit pattern round-trips, and midpoints round to even', () => {
  const asF32 = f16ToF32(allBits);
  const back = f32ToF16(asF32);
  for (let h = 0; h < 65536; h++) if (!isNaNBits16(h)) assert.equal(back[h], h, `0x${h.toString(16)}`);
  // Between neighbouring positive finite halves h and h+1: the exact midpoint goes to the even one,
  // anything just off the midpoint to the nearer one.
  for (let h = 0; h < 0x7bff; h++) {
    const lo = asF32[h];
    const hi = asF32[h + 1];
    const mid = (lo + hi) / 2;
    const f = Float32Array.of(mid, mid + (hi - lo) / 1024, mid - (hi - lo) / 1024);
    const [m, above, below] = f32ToF16(f);
    assert.equal(m, h % 2 === 0 ? h : h + 1);
    assert.equal(above, h + 1);
    assert.equal(below, h);
  }
});

test('bf16: known values, ties to even, NaN preserved', () => {
  const bits = (x: number) => f32ToBf16(Float32Array.of(x))[0].toString(16);
  assert.equal(bits(1), '3f80');
  assert.equal(bits(1 / 3), '3eab'); // 0x3eaaaaab rounds up
  assert.equal(bits(1 + 2 ** -8), '3f80'); // exact tie, 0x3f80 is even
  assert.equal(bits(1 + 3 * 2 ** -8), '3f82'); // exact tie, 0x3f81 is odd
  assert.equal(bits(-Infinity), 'ff80');
  assert.equal(bits(3.4e38), '7f80'); // rounds past the largest finite bf16
  assert.ok(Number.isNaN(bf16ToF32(f32ToBf16(Float32Array.of(NaN)))[0]));
});

test('bf16: every non-NaN bit pattern round-trips', () => {
  const back = f32ToBf16(bf16ToF32(allBits));
  for (let b = 0; b < 65536; b++) {
    const isNaN = (b & 0x7f80) === 0x7f80 && (b & 0x7f) !== 0;
    if (!isNaN) assert.equal(back[b], b);
  }
});
