import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blocksPerRow, dequantizeWeight, quantizeWeight, zeroPointOf } from '../../engine/index.js';
import { Rng } from '../../common/index.js';

function randomWeight(rows: number, cols: number, seed: number, spread = 1): Float32Array {
  const rng = new Rng(seed);
  // Rows of very different magnitudes, an outlier, and an all-zero block: what real weights have.
  const w = Float32Array.from({ length: rows * cols }, (_, i) => rng.normal() * spread * (1 + (Math.floor(i / cols) % 5)));
  w[3] = 40 * spread;
  if (cols >= 64) w.fill(0, cols + 32, cols + 64);
  return w;
}

describe('block-wise quantization', () => {
  for (const bits of [4, 8] as const) {
    for (const [rows, cols] of [
      [7, 96],
      [5, 100],
      [3, 16],
      [4, 64],
    ]) {
      it(`${bits}-bit [${rows}, ${cols}]: every value takes its nearest code (within scale/2, or clipped to an end code)`, () => {
        const w = randomWeight(rows, cols, rows * cols + bits);
        const q = quantizeWeight(w, rows, cols, bits);
        const blocks = blocksPerRow(q);
        assert.equal(q.data.length, (rows * blocks * (32 * bits)) / 8);
        assert.equal(q.scales.length, rows * blocks);
        assert.equal(q.zeroPoints.length, rows * Math.ceil((blocks * bits) / 8));
        const d = dequantizeWeight(q);
        const levels = (1 << bits) - 1;
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < cols; c++) {
            const scale = q.scales[r * blocks + Math.floor(c / 32)];
            const zp = zeroPointOf(q, r, Math.floor(c / 32));
            const x = w[r * cols + c];
            const err = Math.abs(d[r * cols + c] - x);
            // The 4-bit search may clip a block's extremes: such a value lies beyond an end code and takes it.
            const code = Math.round(d[r * cols + c] / scale) + zp;
            const clipped = (code === 0 && x < d[r * cols + c]) || (code === levels && x > d[r * cols + c]);
            if (bits === 8) assert.ok(!clipped || err <= scale / 2, `[${r},${c}] clipped at 8 bits`);
            assert.ok(clipped || err <= (scale / 2) * (1 + 1e-6) + 1e-12, `[${r},${c}] error ${err} > scale/2 = ${scale / 2}`);
          }
        }
        // The all-zero block dequantizes to exact zeros.
        if (cols >= 64) for (let c = 32; c < 64; c++) assert.equal(d[cols + c], 0);
      });
    }

    it(`${bits}-bit: already-quantized values come back exactly (codes, zero points, values)`, () => {
      const rows = 6;
      const cols = 96;
      const levels = (1 << bits) - 1;
      const rng = new Rng(bits);
      const w = new Float32Array(rows * cols);
      const blocks = cols / 32;
      for (let r = 0; r < rows; r++) {
        for (let k = 0; k < blocks; k++) {
          // A power-of-two scale keeps (code - zp) * scale exact in float32; each block reaches both
          // end codes, so the re-quantizer finds the same range, scale and zero point.
          const scale = 2 ** (-3 - ((r + k) % 4));
          const zp = 1 + rng.int(levels - 1);
          for (let i = 0; i < 32; i++) {
            const code = i === 0 ? 0 : i === 1 ? levels : rng.int(levels + 1);
            w[r * cols + k * 32 + i] = (code - zp) * scale;
          }
        }
      }
      const q = quantizeWeight(w, rows, cols, bits);
      assert.deepEqual(Array.from(dequantizeWeight(q)), Array.from(w));
      const again = quantizeWeight(dequantizeWeight(q), rows, cols, bits);
      assert.deepEqual(again.data, q.data);
      assert.deepEqual(again.zeroPoints, q.zeroPoints);
      assert.deepEqual(again.scales, q.scales);
    });
  }

  it('4-bit: the searched scale and zero point never give a block a larger squared error than plain min/max, and less overall', () => {
    const rng = new Rng(77);
    const rows = 64;
    const cols = 256;
    // Normal values, some rows with heavy tails (a cubed normal), a few outliers, and an all-positive row.
    const w = Float32Array.from({ length: rows * cols }, (_, i) => {
      const r = Math.floor(i / cols);
      const x = rng.normal();
      return r % 4 === 1 ? x * x * x : r % 4 === 2 ? Math.abs(x) + 0.5 : r % 4 === 3 && i % 97 === 0 ? 20 * x : x;
    });
    const q = quantizeWeight(w, rows, cols, 4);
    const d = dequantizeWeight(q);
    let searched = 0;
    let plain = 0;
    for (let blk = 0; blk < (rows * cols) / 32; blk++) {
      const v = w.subarray(blk * 32, blk * 32 + 32);
      const lo = Math.min(0, ...v);
      const hi = Math.max(0, ...v);
      const scale = Math.fround((hi - lo) / 15);
      const zp = Math.min(15, Math.max(0, Math.round(-lo / scale)));
      let errPlain = 0;
      let errSearched = 0;
      v.forEach((x, i) => {
        const code = Math.min(15, Math.max(0, Math.round(x / scale) + zp));
        errPlain += ((code - zp) * scale - x) ** 2;
        errSearched += (d[blk * 32 + i] - x) ** 2;
      });
      assert.ok(errSearched <= errPlain * (1 + 1e-6), `block ${blk}: searched ${errSearched} > min/max ${errPlain}`);
      searched += errSearched;
      plain += errPlain;
    }
    assert.ok(searched < 0.95 * plain, `searched ${searched} vs min/max ${plain}`);
  });

  it('4-bit packing: element 2i in the low nibble, zero points low nibble first', () => {
    const cols = 96; // three blocks: the third zero point sits alone in the low nibble of the second byte
    const w = new Float32Array(cols);
    for (let k = 0; k < 3; k++) for (let i = 0; i < 32; i++) w[k * 32 + i] = i % 2 === 0 ? -(k + 1) : 15 - (k + 1);
    const q = quantizeWeight(w, 1, cols, 4);
    for (let k = 0; k < 3; k++) {
      assert.equal(q.scales[k], 1);
      assert.equal(zeroPointOf(q, 0, k), k + 1);
      assert.equal(q.data[k * 16], 0 | (15 << 4));
    }
    assert.deepEqual(Array.from(q.zeroPoints), [1 | (2 << 4), 3]);
  });

  it('rejects non-finite weights with a clear message', () => {
    const w = new Float32Array(32);
    w[5] = NaN;
    assert.throws(() => quantizeWeight(w, 1, 32, 4), /non-finite/);
  });
});
