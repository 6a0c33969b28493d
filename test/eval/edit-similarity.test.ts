import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editSimilarity, levenshtein } from '../../eval/index.js';

const cp = (s: string): number[] => Array.from(s, (c) => c.codePointAt(0)!);

test('edit similarity is 1 - Levenshtein / longer length', () => {
  // kitten -> sitting: 3 edits, longer length 7.
  assert.equal(editSimilarity('kitten', 'sitting'), 1 - 3 / 7);
  // Indentation counts: 2 deleted spaces over 5 characters.
  assert.equal(editSimilarity('    x', '  x'), 1 - 2 / 5);
  assert.equal(editSimilarity('abc', 'abc'), 1);
  assert.equal(editSimilarity('abc', ''), 0);
  assert.equal(editSimilarity('', ''), 1);
});

test('edit similarity counts code points, not UTF-16 units', () => {
  // One substitution over 2 code points (UTF-16 would say 1 - 1/3).
  assert.equal(editSimilarity('😀a', '😀b'), 1 - 1 / 2);
  assert.equal(editSimilarity('😀', '😁'), 0);
  // No Unicode normalisation: precomposed "é" vs "e" + combining acute is 1 substitution + 1 insertion over 2.
  assert.equal(editSimilarity('\u00e9', 'e\u0301'), 0);
});

test('levenshtein matches a full-matrix reference on random sequences', () => {
  let seed = 12345;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const full = (a: number[], b: number[]): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) =>
      Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
    );
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++) {
        d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      }
    return d[a.length][b.length];
  };
  for (let k = 0; k < 300; k++) {
    const a = Array.from({ length: random(12) }, () => random(4));
    const b = Array.from({ length: random(12) }, () => random(4));
    const d = levenshtein(a, b);
    assert.equal(d, full(a, b), JSON.stringify([a, b]));
    assert.equal(d, levenshtein(b, a));
    assert.ok(d >= Math.abs(a.length - b.length) && d <= Math.max(a.length, b.length));
  }
});

test('levenshtein handles long strings', () => {
  // "abab…ab" -> "baba…ba": drop the first "a", append an "a".
  const a = 'ab'.repeat(2500);
  const b = 'ba'.repeat(2500);
  assert.equal(levenshtein(cp(a), cp(b)), 2);
  assert.equal(editSimilarity(a, b), 1 - 2 / 5000);
  assert.equal(levenshtein(cp('x'.repeat(3000)), cp('')), 3000);
});
