import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Builder, dropoutHash, dropoutThreshold, hashedDropout, openSession, ort, writeOnnxModel } from '../../engine/index.js';

const root = fs.mkdtempSync(join(tmpdir(), 'cf-lora-dropout-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

const IN = 40;
const ROWS = 50;
const P = 0.3;

async function dropoutSession(salt: number) {
  const b = new Builder();
  const x = b.input('x', 'float32', ['n', IN]);
  const seed = b.input('seed', 'int64', []);
  b.output(hashedDropout(b, x, P, seed, salt), 'y');
  const session = await openSession(writeOnnxModel(b, join(root, `g${salt}`)), { threads: 1 });
  const ones = new ort.Tensor('float32', new Float32Array(ROWS * IN).fill(1), [ROWS, IN]);
  return async (s: number) =>
    (await session.run({ x: ones, seed: new ort.Tensor('int64', BigInt64Array.of(BigInt(s)), []) })).y.data as Float32Array;
}

describe('hashed LoRA dropout', () => {
  it('drops exactly the elements the documented hash says, scaling the rest by 1/(1-p)', async () => {
    const run = await dropoutSession(3);
    for (const seed of [0, 1, 123456789, 2 ** 31 - 1]) {
      const y = await run(seed);
      let dropped = 0;
      for (let i = 0; i < y.length; i++) {
        const keep = dropoutHash(seed, 3, i) >= dropoutThreshold(P);
        assert.equal(y[i], keep ? Math.fround(1 / (1 - P)) : 0, `seed ${seed} element ${i}`);
        if (!keep) dropped++;
      }
      const rate = dropped / y.length;
      assert.ok(Math.abs(rate - P) < 0.05, `drop rate ${rate}`);
    }
  });

  it('is the same for the same seed and differs between seeds and between modules', async () => {
    const a = await dropoutSession(1);
    const b = await dropoutSession(2);
    assert.deepEqual(await a(7), await a(7));
    const differs = (x: Float32Array, y: Float32Array) => x.some((v, i) => v !== y[i]);
    assert.ok(differs(await a(7), await a(8)));
    assert.ok(differs(await a(7), await b(7)));
  });
});
