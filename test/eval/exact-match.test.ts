import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exactMatch, exactMatchFirstLine, normalizeTrailingWhitespace } from '../../eval/index.js';

test('exact match ignores trailing whitespace of each line and at the end', () => {
  assert.equal(exactMatch('def f():   \n    return 1\t\n\n', 'def f():\n    return 1'), 1);
  assert.equal(exactMatch('a\r\nb\r\n', 'a\nb'), 1); // "\r" is trailing whitespace
  assert.equal(exactMatch('', ''), 1);
  assert.equal(exactMatch('  \n', ''), 1);
  assert.equal(normalizeTrailingWhitespace('x  \n  y \n \n'), 'x\n  y');
});

test('exact match keeps indentation, inner whitespace and blank lines in the middle', () => {
  assert.equal(exactMatch('  return 1', 'return 1'), 0);
  assert.equal(exactMatch('\treturn 1', '    return 1'), 0);
  assert.equal(exactMatch('x = 1', 'x  = 1'), 0);
  assert.equal(exactMatch('a\n\nb', 'a\nb'), 0);
  assert.equal(exactMatch('Return 1', 'return 1'), 0);
  assert.equal(exactMatch('', 'x'), 0);
});

test('first-line exact match compares only up to the first newline', () => {
  assert.equal(exactMatchFirstLine('x = 1  \ny = 2', 'x = 1\nz = 3'), 1);
  assert.equal(exactMatch('x = 1  \ny = 2', 'x = 1\nz = 3'), 0);
  assert.equal(exactMatchFirstLine('x = 1', 'x = 1\nmore'), 1);
  assert.equal(exactMatchFirstLine('\nx = 1', 'x = 1'), 0); // a leading newline makes an empty first line
  assert.equal(exactMatchFirstLine('   x', 'x'), 0);
  assert.equal(exactMatchFirstLine('', ''), 1);
});

test('exact match implies first-line exact match', () => {
  const texts = ['', 'a', 'a\n', 'a \nb', 'a\nb', ' a\nb  ', 'a\r\nb', '\n\n'];
  for (const h of texts)
    for (const r of texts) {
      if (exactMatch(h, r)) assert.equal(exactMatchFirstLine(h, r), 1, JSON.stringify([h, r]));
      assert.equal(exactMatch(h, r), exactMatch(r, h));
    }
});
