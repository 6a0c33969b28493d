import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BpeEncoder, DEFAULT_SPECIAL_TOKENS, preTokenize, trainBpe } from '../../finetune/pretrain/index.js';
import { bytesToTokenString } from '../../finetune/pretrain/byte-level.js';
import { pythonModules } from '../helpers/pretrain-code-samples.js';

/**
 * The textbook algorithm, for reference: recount every pair after every merge. Same tie rule as
 * trainBpe (highest count, then the pair of smaller ids), same reuse of an existing token's id.
 */
function naiveBpe(texts: string[], vocabSize: number, minFrequency: number): [string, string][] {
  const counts = new Map<string, number>();
  for (const t of texts) for (const p of preTokenize(t)) counts.set(p, (counts.get(p) ?? 0) + 1);
  const tokens = Array.from({ length: 256 }, (_, b) => bytesToTokenString([b]));
  const idOf = new Map(tokens.map((t, i) => [t, i]));
  const words = [...counts].map(([w, c]) => ({ sym: [...Buffer.from(w, 'utf8')], c }));
  const merges: [string, string][] = [];
  while (tokens.length + DEFAULT_SPECIAL_TOKENS.length < vocabSize) {
    const pairs = new Map<string, number>();
    for (const w of words)
      for (let i = 0; i + 1 < w.sym.length; i++) {
        const k = `${w.sym[i]},${w.sym[i + 1]}`;
        pairs.set(k, (pairs.get(k) ?? 0) + w.c);
      }
    let best: [number, number] | null = null;
    let bestCount = 0;
    for (const [k, c] of pairs) {
      const [a, b] = k.split(',').map(Number);
      if (c > bestCount || (c === bestCount && best && (a < best[0] || (a === best[0] && b < best[1])))) {
        best = [a, b];
        bestCount = c;
      }
    }
    if (!best || bestCount < minFrequency) break;
    const [a, b] = best;
    const text = tokens[a] + tokens[b];
    let id = idOf.get(text);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(text);
      idOf.set(text, id);
    }
    merges.push([tokens[a], tokens[b]]);
    for (const w of words) {
      const out: number[] = [];
      for (let i = 0; i < w.sym.length; i++) {
        if (i + 1 < w.sym.length && w.sym[i] === a && w.sym[i + 1] === b) {
          out.push(id);
          i++;
        } else out.push(w.sym[i]);
      }
      w.sym = out;
    }
  }
  return merges;
}

describe('pre-tokenization', () => {
  it('keeps newline plus indentation together and words with their leading space', () => {
    assert.deepEqual(preTokenize('def f(x):\n    return x  # c\n'), [
      'def',
      ' f',
      '(x',
      '):',
      '\n    ',
      'return',
      ' x',
      ' ',
      ' #',
      ' c',
      '\n',
    ]);
    assert.deepEqual(preTokenize('\tif a:\r\n\t\tpass  \n\n        y = 1000000\n'), [
      '\tif',
      ' a',
      ':',
      '\r\n\t\t',
      'pass',
      '  ',
      '\n\n        ',
      'y',
      ' =',
      ' 100',
      '000',
      '0',
      '\n',
    ]);
  });

  it('tiles any text, unicode included', () => {
    const text = 's = "héllo 日本語 😀"\u00a0\u2003;\v\fx.append(1)\u0085\r';
    assert.equal(preTokenize(text).join(''), text);
    assert.deepEqual(preTokenize('s = "héllo 日本語"'), ['s', ' =', ' "', 'héllo', ' 日本語', '"']);
  });
});

describe('trainBpe', () => {
  it('learns the hand-computed merges of a tiny corpus', () => {
    // pieces: "ab", " ab", " ab", " abc", "abc"; pairs: a b x5, Ġ a x3, b c x2
    const texts = ['ab ab ab abc', 'abc'];
    const model = trainBpe(texts, { vocabSize: 1000, minFrequency: 2 });
    // after "a b": (Ġ, ab) x3, then (ab, c) x1 and (Ġab, c) x1, below minFrequency 2
    assert.deepEqual(model.merges, [
      ['a', 'b'],
      ['Ġ', 'ab'],
    ]);
    // With minFrequency 1 the ties at count 1 go to the pair of older tokens: (ab, c) before (Ġab, c).
    const all = trainBpe(texts, { vocabSize: 1000, minFrequency: 1 });
    assert.deepEqual(all.merges, [
      ['a', 'b'],
      ['Ġ', 'ab'],
      ['ab', 'c'],
      ['Ġab', 'c'],
    ]);
    assert.deepEqual(all.vocab.slice(261), ['ab', 'Ġab', 'abc', 'Ġabc']);
  });

  it('handles overlapping runs ("aaaa" merges to "aa aa")', () => {
    const model = trainBpe(['aaaa aaaa'], { vocabSize: 1000, minFrequency: 1 });
    assert.deepEqual(model.merges.slice(0, 2), [
      ['a', 'a'],
      ['aa', 'aa'],
    ]);
  });

  it('puts the special tokens at ids 0..4 and the bytes at 5..260 in byte order', () => {
    const model = trainBpe(['x = 1\n'], { vocabSize: 300 });
    assert.deepEqual(model.vocab.slice(0, 5), ['<|endoftext|>', '<fim_prefix>', '<fim_middle>', '<fim_suffix>', '<fim_pad>']);
    assert.deepEqual(model.specialTokens, [...DEFAULT_SPECIAL_TOKENS]);
    assert.equal(model.vocab[5 + 0x20], 'Ġ');
    assert.equal(model.vocab[5 + 0x0a], 'Ċ');
    assert.equal(model.vocab[5 + 0x61], 'a');
    assert.equal(new Set(model.vocab).size, model.vocab.length);
  });

  it('matches the naive recount algorithm merge for merge on real-looking code', () => {
    const texts = pythonModules(12, 100, 1500);
    const model = trainBpe(texts, { vocabSize: 900, minFrequency: 2 });
    assert.ok(model.merges.length > 250, `${model.merges.length} merges`);
    assert.deepEqual(model.merges, naiveBpe(texts, 900, 2));
    // minFrequency 1 runs until every piece is a single token
    const all = trainBpe(texts, { vocabSize: 900, minFrequency: 1 });
    assert.deepEqual(all.merges, naiveBpe(texts, 900, 1));
  });

  it('does not depend on the order of the texts', () => {
    const texts = pythonModules(8, 200, 1500);
    const a = trainBpe(texts, { vocabSize: 600 });
    const b = trainBpe([...texts].reverse(), { vocabSize: 600 });
    assert.deepEqual(a, b);
  });

  it('learns indentation and newline-indentation tokens from code', () => {
    const model = trainBpe(pythonModules(30, 1, 2000), { vocabSize: 1000 });
    const enc = new BpeEncoder(model);
    for (const piece of ['\n    ', '\n        ', '\n            ', '    ']) {
      assert.equal(enc.encodeOrdinary(piece).length, 1, JSON.stringify(piece));
    }
  });

  it('rejects a vocabulary smaller than the specials plus 256 bytes', () => {
    assert.throws(() => trainBpe(['x'], { vocabSize: 260 }), { name: 'UserError', message: /vocabulary size must be an integer from 261/ });
  });
});
