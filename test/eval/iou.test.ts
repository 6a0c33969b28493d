import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenIou } from '../../eval/index.js';

test('IoU of whitespace-token sets', () => {
  // {a, b, c} and {b, c, d}: intersection 2, union 4.
  assert.equal(tokenIou('a b b c', 'b c d'), 2 / 4);
  // Repeats count once: {x} and {x}.
  assert.equal(tokenIou('x x x', 'x'), 1);
  // Order does not matter.
  assert.equal(tokenIou('c b a', 'a b c'), 1);
  // {return, x} and {return, y}: 1 / 3.
  assert.equal(tokenIou('  return x\n', 'return y'), 1 / 3);
  // Tokens compare exactly: {A} and {a} share nothing.
  assert.equal(tokenIou('A', 'a'), 0);
});

test('IoU edge cases: both empty is 1, one empty is 0', () => {
  assert.equal(tokenIou('', ''), 1);
  assert.equal(tokenIou(' \t\n', ''), 1);
  assert.equal(tokenIou('', 'x'), 0);
  assert.equal(tokenIou('x', ''), 0);
});

test('IoU is symmetric and between 0 and 1', () => {
  const texts = ['', 'a', 'a b', 'b a c', 'x = 1', 'x=1', '😀 a'];
  for (const h of texts)
    for (const r of texts) {
      const v = tokenIou(h, r);
      assert.equal(v, tokenIou(r, h));
      assert.ok(v >= 0 && v <= 1);
    }
});
