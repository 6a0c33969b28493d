// Properties the sacrebleu metrics must keep on any text, and the whitespace definition they share.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editSimilarity, exactMatch, scorePair, sentenceBleu, sentenceChrf } from '../../eval/index.js';

test('identical non-blank texts get chrF 100 and BLEU 100', () => {
  for (const t of ['x', 'a b', 'return f(x)', '    if x:\n        y()', '打印(你好)', '😀 ok', 'a.b,c']) {
    assert.equal(sentenceChrf(t, t), 100, t);
    // exp(log 100) is 100.00000000000004 in float64, in sacrebleu as here.
    assert.ok(Math.abs(sentenceBleu(t, t) - 100) < 1e-9, t);
  }
});

test('chrF removes whitespace before n-grams, so it cannot see indentation; the others can', () => {
  const hyp = 'if x:\nreturn y';
  const ref = 'if x:\n    return y';
  assert.equal(sentenceChrf(hyp, ref), 100);
  assert.equal(exactMatch(hyp, ref), 0);
  assert.ok(editSimilarity(hyp, ref) < 1);
});

test('Python whitespace: U+001C and U+0085 are whitespace, U+FEFF is not', () => {
  assert.equal(sentenceChrf('a\x1cb\x85c', 'abc'), 100);
  assert.ok(sentenceChrf('a\ufeffb', 'ab') < 100);
  assert.equal(scorePair('a\x1cb', 'a b').wer, 0);
  assert.equal(scorePair('a\ufeffb', 'a b').wer, 1);
});

test('scores stay in range on random text', () => {
  let seed = 7;
  const alphabet = ['a', 'b', ' ', '\n', '.', ',', '(', ')', '1', '-', 'é', '😀', '\t', '&', 'x'];
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const text = (): string => Array.from({ length: random(20) }, () => alphabet[random(alphabet.length)]).join('');
  for (let k = 0; k < 200; k++) {
    const s = scorePair(text(), text());
    for (const key of ['chrf', 'bleu'] as const) assert.ok(s[key] >= 0 && s[key] <= 100, `${key} ${s[key]}`);
    for (const key of ['iou', 'edit_sim', 'exact_match', 'exact_match_first_line'] as const) assert.ok(s[key] >= 0 && s[key] <= 1);
    assert.ok(s.wer >= 0);
  }
});
