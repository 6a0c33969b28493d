import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../common/index.js';
import {
  aggregateScores,
  pairedBootstrap,
  percentileInterval,
  quantile,
  ScoreAccumulator,
  scoreMiddle,
  summarizeSet,
} from '../../eval/index.js';

const PAIRS: Array<[string, string]> = [
  ['return total', 'return total'],
  ['x = a + b', 'total = a + b'],
  ['', 'print("hi")'],
  ['for i in range(10):\n    pass', 'for item in items:\n    yield item'],
  ['self.count = 0', 'self.count = len(self.items)'],
  ['ünïcödé = 1  ', 'ünïcödé = 1'],
];

describe('aggregates', () => {
  it('equal ScoreAccumulator.summary: chrF, BLEU and WER pooled, the rest averaged', () => {
    const acc = new ScoreAccumulator();
    for (const [h, r] of PAIRS) acc.add(h, r);
    const scored = PAIRS.map(([h, r], i) => scoreMiddle(h, r, i / 10));
    const agg = aggregateScores(scored);
    const { pairs: _p, ...expected } = acc.summary();
    for (const [k, v] of Object.entries(expected)) assert.ok(Math.abs(agg[k as keyof typeof agg] - v) < 1e-12, k);
    assert.ok(Math.abs(agg.cosine - 0.25) < 1e-12);
  });

  it('over indices with repeats equal the aggregate of the repeated list', () => {
    const scored = PAIRS.map(([h, r]) => scoreMiddle(h, r, 0.5));
    const idx = [1, 1, 3, 0, 5, 5, 5];
    assert.deepEqual(aggregateScores(scored, idx), aggregateScores(idx.map((i) => scored[i])));
    assert.equal(aggregateScores([]).chrf, 0);
  });
});

describe('bootstrap', () => {
  it('quantiles interpolate between order statistics as numpy does', () => {
    const xs = [1, 2, 3, 4, 10];
    assert.equal(quantile(xs, 0), 1);
    assert.equal(quantile(xs, 1), 10);
    assert.equal(quantile(xs, 0.5), 3);
    assert.ok(Math.abs(quantile(xs, 0.9) - 7.6) < 1e-12); // numpy.quantile([1,2,3,4,10], 0.9)
    assert.deepEqual(percentileInterval([5, 1, 3, 2, 4], 0.5), { low: 2, high: 4 });
  });

  it('a constant paired difference has a zero-width interval at that difference', () => {
    const diffs = Array.from({ length: 30 }, () => 0.25);
    const [iv] = pairedBootstrap(diffs.length, (idx) => [Array.from(idx, (i) => diffs[i]).reduce((a, b) => a + b) / idx.length]);
    assert.ok(Math.abs(iv.low - 0.25) < 1e-12 && Math.abs(iv.high - 0.25) < 1e-12);
  });

  it('the interval of a mean covers the sample mean, about as wide as the normal theory says', () => {
    const rng = new Rng(42);
    const n = 400;
    const x = Array.from({ length: n }, () => 1 + rng.normal());
    const mean = x.reduce((a, b) => a + b) / n;
    const sd = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    const [iv] = pairedBootstrap(n, (idx) => [Array.from(idx, (i) => x[i]).reduce((a, b) => a + b) / n], { resamples: 2000, seed: 3 });
    assert.ok(iv.low < mean && mean < iv.high);
    const width = iv.high - iv.low;
    const theory = (2 * 1.96 * sd) / Math.sqrt(n);
    assert.ok(Math.abs(width / theory - 1) < 0.15, `width ${width} vs ${theory}`);
    // A wider level gives a wider interval; the same seed the same interval.
    const [wide] = pairedBootstrap(n, (idx) => [Array.from(idx, (i) => x[i]).reduce((a, b) => a + b) / n], {
      resamples: 2000,
      seed: 3,
      level: 0.99,
    });
    assert.ok(wide.low < iv.low && wide.high > iv.high);
    const [again] = pairedBootstrap(n, (idx) => [Array.from(idx, (i) => x[i]).reduce((a, b) => a + b) / n], { resamples: 2000, seed: 3 });
    assert.deepEqual(again, iv);
  });

  it('pairs tasks: a difference that is the same sign on every task excludes 0 even when the scores vary widely', () => {
    const rng = new Rng(7);
    const base = Array.from({ length: 40 }, () => rng.next());
    const adapted = base.map((b) => Math.min(1, b + 0.05));
    const [iv] = pairedBootstrap(base.length, (idx) => [Array.from(idx, (i) => adapted[i] - base[i]).reduce((a, b) => a + b) / idx.length]);
    assert.ok(iv.low > 0, `low ${iv.low}`);
  });

  it('summarizeSet: adapter minus base for every metric, inside its interval', () => {
    const base = PAIRS.map(([h, r]) => scoreMiddle(h, r, 0.2));
    const adapter = PAIRS.map(([, r]) => scoreMiddle(r, r, 1));
    const s = summarizeSet('x', base, adapter, { resamples: 200, seed: 1 });
    assert.equal(s.tasks, PAIRS.length);
    for (const [k, d] of Object.entries(s.delta!)) {
      const key = k as keyof typeof s.base;
      assert.ok(Math.abs(d.value - (s.adapter![key] - s.base[key])) < 1e-12, k);
      assert.ok(d.low <= d.high, k);
    }
    assert.equal(s.adapter!.exact_match, 1);
    assert.ok(s.delta!.chrf.value > 0 && s.delta!.wer.value < 0);
    assert.equal(summarizeSet('y', base, undefined).delta, undefined);
    assert.throws(() => summarizeSet('z', base, adapter.slice(1)));
  });
});
