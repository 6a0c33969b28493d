import { test } from 'node:test';
import assert from 'node:assert/strict';
import { corpusWer, wer, werCounts } from '../../eval/index.js';

test('WER is word edits over reference words', () => {
  // ref has 6 words; "sat"->"sit" is 1 substitution, the second "the" is 1 deletion: 2/6.
  assert.deepEqual(werCounts('the cat sit on mat', 'the cat sat on the mat'), { errors: 2, refWords: 6 });
  assert.equal(wer('the cat sit on mat', 'the cat sat on the mat'), 2 / 6);
  // 2 insertions against 1 reference word: 2/1, so WER can exceed 1.
  assert.equal(wer('a b c', 'a'), 2);
  // Everything deleted: 3/3.
  assert.equal(wer('', 'a b c'), 1);
  // Swapped neighbours cost 2 substitutions: 2/2.
  assert.equal(wer('b a', 'a b'), 1);
});

test('WER splits words on any whitespace and compares them exactly', () => {
  assert.equal(wer('a\tb\n  c\u3000d', 'a b c d'), 0);
  assert.equal(wer('    return x', 'return x'), 0); // indentation is not a word
  assert.equal(wer('Return x', 'return x'), 1 / 2);
  assert.equal(wer('f(x)', 'f( x )'), 3 / 3); // "f(x)" against "f(", "x", ")": 1 substitution + 2 deletions
});

test('WER with an empty reference divides by at least one word', () => {
  assert.equal(wer('', ''), 0);
  assert.equal(wer(' \n ', ''), 0);
  assert.equal(wer('a b', ''), 2); // 2 insertions / max(1, 0)
});

test('corpus WER pools errors and reference lengths', () => {
  // (1 error / 2 words) and (3 errors / 4 words): pooled 4/6, not the mean 0.625.
  assert.equal(corpusWer(['a b', 'x'], ['a c', 'x y z w']), 4 / 6);
  assert.equal(corpusWer(['a', 'b c'], ['', '']), 3);
  assert.equal(corpusWer([], []), 0);
});

test('WER of a text against itself is 0; against another, its word edits over the reference words', () => {
  const texts = ['', 'a', 'a b a', 'x = f(y)\n  return x', 'é 😀 漢字'];
  for (const h of texts) assert.equal(wer(h, h), 0);
  assert.equal(wer('a b a', 'a'), 2); // two insertions over one word
  assert.equal(wer('a', 'a b a'), 2 / 3); // two deletions over three words
  assert.equal(wer('', 'a'), 1);
  assert.equal(wer('a', ''), 1); // an empty reference counts the hypothesis's words
  assert.equal(wer('é 😀 漢字', 'a'), 3); // one substitution, two insertions
  assert.equal(wer('a b a', 'x = f(y)\n  return x'), 1); // three substitutions, two deletions, over five words
});
