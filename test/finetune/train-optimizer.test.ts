import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdamW, DataOrder, clipGradNorm, collate, cosineWithWarmup, dropoutSeed, epochPermutation } from '../../finetune/index.js';

const close = (a: number, b: number, tol = 1e-7) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

describe('AdamW', () => {
  it('first step matches a hand-computed update (decoupled decay, bias correction)', () => {
    const adam = new AdamW({ betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01 });
    const p = new Map([['w', Float32Array.of(1, -2)]]);
    adam.update(p, new Map([['w', [0.5, 0]]]), 0.1);
    // 1 - lr*wd = 0.999; m̂ = g, v̂ = g², so the step is lr * 0.5 / (0.5 + 1e-8).
    close(p.get('w')![0], Math.fround(0.999 - (0.1 * 0.5) / (0.5 + 1e-8)));
    // Zero gradient: only the decay moves it.
    close(p.get('w')![1], Math.fround(-2 * 0.999));
  });

  it('three steps match the textbook algorithm in float64, with decay off for excluded tensors', () => {
    const lr = [0.01, 0.02, 0.005];
    const grads = [
      [0.3, -1.2, 4],
      [0.1, 0.4, -2],
      [-0.7, 0.05, 1],
    ];
    const [b1, b2, eps, wd] = [0.8, 0.95, 1e-6, 0.1];
    const adam = new AdamW({ betas: [b1, b2], eps, weightDecay: wd });
    const p = new Map([
      ['decayed', Float32Array.of(0.5, 1, -1)],
      ['norm', Float32Array.of(0.5, 1, -1)],
    ]);
    const expect = { decayed: [0.5, 1, -1], norm: [0.5, 1, -1] };
    const m = { decayed: [0, 0, 0], norm: [0, 0, 0] };
    const v = { decayed: [0, 0, 0], norm: [0, 0, 0] };
    for (let t = 1; t <= 3; t++) {
      const g = grads[t - 1];
      adam.update(
        p,
        new Map([
          ['decayed', g],
          ['norm', g],
        ]),
        lr[t - 1],
        (n) => n !== 'norm',
      );
      for (const name of ['decayed', 'norm'] as const) {
        for (let i = 0; i < 3; i++) {
          let x = expect[name][i];
          if (name === 'decayed') x -= lr[t - 1] * wd * x;
          m[name][i] = b1 * m[name][i] + (1 - b1) * g[i];
          v[name][i] = b2 * v[name][i] + (1 - b2) * g[i] * g[i];
          const mHat = m[name][i] / (1 - b1 ** t);
          const vHat = v[name][i] / (1 - b2 ** t);
          expect[name][i] = x - (lr[t - 1] * mHat) / (Math.sqrt(vHat) + eps);
        }
      }
    }
    for (const name of ['decayed', 'norm'] as const) p.get(name)!.forEach((x, i) => close(x, expect[name][i], 1e-6));
    assert.notEqual(p.get('decayed')![1], p.get('norm')![1]);
    assert.equal(adam.step, 3);
  });
});

describe('schedule', () => {
  it('warms up linearly, then decays along half a cosine to the floor', () => {
    const s = { peakLr: 2, warmupSteps: 10, totalSteps: 110 };
    assert.deepEqual(
      [0, 5, 10, 60, 110, 200].map((k) => cosineWithWarmup(s, k)),
      [0, 1, 2, 1, 0, 0],
    );
    close(cosineWithWarmup(s, 35), 2 * 0.5 * (1 + Math.cos(Math.PI / 4)));
    const floored = { ...s, minLrRatio: 0.1 };
    close(cosineWithWarmup(floored, 110), 0.2);
    close(cosineWithWarmup(floored, 60), 2 * (0.1 + 0.9 * 0.5));
    assert.equal(cosineWithWarmup({ peakLr: 1, warmupSteps: 0, totalSteps: 4 }, 0), 1);
  });
});

describe('gradient clipping', () => {
  it('scales all gradients together to the maximum global norm, and leaves small ones alone', () => {
    const a = Float64Array.of(3, 0);
    const b = Float64Array.of(0, 4);
    assert.equal(clipGradNorm([a, b], 1), 5);
    close(Math.hypot(a[0], b[1]), 1, 1e-6);
    close(a[0] / b[1], 0.75);
    const c = Float64Array.of(0.3, 0.4);
    assert.equal(clipGradNorm([c], 1), 0.5);
    assert.deepEqual([...c], [0.3, 0.4]);
  });
});

describe('data order', () => {
  it('is a seeded permutation per epoch that resumes from (epoch, index)', () => {
    const order = new DataOrder(7, 42);
    const first = order.take(10);
    assert.deepEqual([...first.slice(0, 7)].sort(), [0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(order.position, { epoch: 1, index: 3 });
    const rest = order.take(9);
    const resumed = new DataOrder(7, 42, { epoch: 1, index: 3 });
    assert.deepEqual(resumed.take(9), rest);
    assert.deepEqual(new DataOrder(7, 42).take(17), [...first, ...rest.slice(0, 7)]);
    assert.notDeepEqual([...epochPermutation(50, 42, 0)], [...epochPermutation(50, 42, 1)]);
    assert.notDeepEqual([...epochPermutation(50, 42, 0)], [...epochPermutation(50, 43, 0)]);
  });

  it('collates right-padded rows with padding out of attention and labels', () => {
    const batch = collate([{ ids: [5, 6, 7] }, { ids: [8, 9], labels: [-100, 9] }], 1);
    assert.deepEqual(batch.ids, [
      [5, 6, 7],
      [8, 9, 1],
    ]);
    assert.deepEqual(batch.labels, [
      [5, 6, 7],
      [-100, 9, -100],
    ]);
    assert.deepEqual(batch.attention, [
      [1, 1, 1],
      [1, 1, 0],
    ]);
    assert.equal(batch.tokens, 5);
  });

  it('dropout seeds differ by step and micro-batch and fit in 31 bits', () => {
    const seeds = new Set<number>();
    for (let step = 0; step < 50; step++) for (let micro = 0; micro < 4; micro++) seeds.add(dropoutSeed(7, step, micro));
    assert.equal(seeds.size, 200);
    for (const s of seeds) assert.ok(s >= 0 && s < 2 ** 31);
    assert.equal(dropoutSeed(7, 3, 1), dropoutSeed(7, 3, 1));
  });
});
