import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bigramBaseline } from '../../finetune/index.js';

describe('bigram baseline', () => {
  it('computes the interpolated bigram cross-entropy by hand', () => {
    // Train: 0 1 0 1 0 -> pairs (0,1) x2, (1,0) x2; unigram add-one over vocab 3: counts [4, 3, 1] / 8.
    const r = bigramBaseline([[0, 1, 0, 1, 0]], [[0, 1, 2]], 3);
    // Validation pairs: (0,1): lambda*1 + (1-lambda)*3/8; (1,2): lambda*0 + (1-lambda)*1/8.
    const loss = (l: number) => -(Math.log(l + ((1 - l) * 3) / 8) + Math.log((1 - l) / 8)) / 2;
    const grid = [0.5, 0.7, 0.8, 0.9, 0.95, 0.99];
    const best = grid.reduce((a, b) => (loss(b) < loss(a) ? b : a));
    assert.equal(r.lambda, best);
    assert.ok(Math.abs(r.loss - loss(best)) < 1e-12);
  });

  it('an unseen context falls back to the unigram estimate', () => {
    const r = bigramBaseline([[0, 0, 0]], [[1, 0]], 2);
    // Context 1 never seen: p(0) = unigram (1+3)/(2+3).
    assert.ok(Math.abs(r.loss + Math.log(4 / 5)) < 1e-12);
  });
});
