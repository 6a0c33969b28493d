import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cosineSimilarity } from '../../eval/index.js';

const v = (...xs: number[]): Float32Array => Float32Array.from(xs);

test('cosine similarity of known vectors', () => {
  assert.equal(cosineSimilarity(v(1, 0), v(0, 1)), 0);
  assert.equal(cosineSimilarity(v(1, 0), v(-3, 0)), -1);
  assert.ok(Math.abs(cosineSimilarity(v(1, 2, 3), v(2, 4, 6)) - 1) < 1e-12);
  // (1·1 + 1·0) / (√2 · 1)
  assert.ok(Math.abs(cosineSimilarity(v(1, 1), v(1, 0)) - Math.SQRT1_2) < 1e-7);
  // (3·4 + 4·3) / (5 · 5) = 24/25
  assert.ok(Math.abs(cosineSimilarity(v(3, 4), v(4, 3)) - 24 / 25) < 1e-7);
});

test('cosine similarity: zero vectors give 0, mismatched lengths throw', () => {
  assert.equal(cosineSimilarity(v(0, 0), v(1, 2)), 0);
  assert.equal(cosineSimilarity(v(), v()), 0);
  assert.throws(() => cosineSimilarity(v(1), v(1, 2)), /lengths differ/);
});
