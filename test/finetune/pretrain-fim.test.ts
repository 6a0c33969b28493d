import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BpeEncoder, fimString, fimTokens, fimTransform, splitAtRandom, trainBpe, type FimParts } from '../../finetune/pretrain/index.js';
import { createRng } from '../../common/index.js';
import { pythonModules } from '../helpers/pretrain-code-samples.js';

const encoder = new BpeEncoder(trainBpe(pythonModules(20, 1, 2000), { vocabSize: 800 }));
const EOT = 0,
  PRE = 1,
  MID = 2,
  SUF = 3;

describe('FIM strings', () => {
  const parts = { prefix: 'def f(x):\n    ', middle: 'return x + 1', suffix: '\n\nprint(f(2))\n' };

  it('PSM: prefix, suffix, then the middle to predict', () => {
    assert.equal(
      fimString({ mode: 'psm', ...parts }),
      '<fim_prefix>def f(x):\n    <fim_suffix>\n\nprint(f(2))\n<fim_middle>return x + 1<|endoftext|>',
    );
  });

  it('SPM (StarCoder variant): both sentinels first, the prefix after <fim_middle>', () => {
    assert.equal(
      fimString({ mode: 'spm', ...parts }),
      '<fim_prefix><fim_suffix>\n\nprint(f(2))\n<fim_middle>def f(x):\n    return x + 1<|endoftext|>',
    );
  });

  it('none: the document as is', () => {
    assert.equal(fimString({ mode: 'none', prefix: 'x = 1\n', middle: '', suffix: '' }), 'x = 1\n<|endoftext|>');
  });
});

describe('FIM tokens', () => {
  const text = pythonModules(1, 900, 1500)[0];

  it('decode(tokens + eot) is exactly the FIM string, in every mode', () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const parts = fimTransform(text, createRng(seed));
      seen.add(parts.mode);
      const ids = fimTokens(parts, encoder);
      assert.equal(encoder.decode([...ids, EOT]), fimString(parts));
    }
    assert.deepEqual([...seen].sort(), ['none', 'psm', 'spm']);
  });

  it('encodes each part on its own, with sentinels in StarCoder order', () => {
    const parts: FimParts = { mode: 'spm', prefix: 'x = fo', middle: 'o(1)', suffix: '\ny = 2\n' };
    const p = encoder.encodeOrdinary(parts.prefix);
    const m = encoder.encodeOrdinary(parts.middle);
    const s = encoder.encodeOrdinary(parts.suffix);
    assert.deepEqual(fimTokens(parts, encoder), [PRE, SUF, ...s, MID, ...p, ...m]);
    assert.deepEqual(fimTokens({ ...parts, mode: 'psm' }, encoder), [PRE, ...p, SUF, ...s, MID, ...m]);
    assert.deepEqual(fimTokens({ ...parts, mode: 'none', prefix: text }, encoder), encoder.encodeOrdinary(text));
  });
});

describe('fimTransform', () => {
  it('is seeded: the same seed gives the same split', () => {
    const text = 'abcdefghijklmnopqrstuvwxyz'.repeat(10);
    assert.deepEqual(fimTransform(text, createRng(7, 3)), fimTransform(text, createRng(7, 3)));
  });

  it('applies FIM to about half the documents, half of them SPM, and never loses text', () => {
    const text = 'for i in range(10):\n    print(i)\n'.repeat(5);
    const counts = { none: 0, psm: 0, spm: 0 };
    for (let d = 0; d < 4000; d++) {
      const parts = fimTransform(text, createRng(1, d));
      counts[parts.mode]++;
      assert.equal(parts.prefix + parts.middle + parts.suffix, text);
    }
    assert.ok(counts.none > 1850 && counts.none < 2150, JSON.stringify(counts));
    assert.ok(counts.spm > 850 && counts.spm < 1150, JSON.stringify(counts));
    const never = fimTransform(text, createRng(2), { fimRate: 0 });
    assert.equal(never.mode, 'none');
    assert.equal(fimTransform(text, createRng(2), { fimRate: 1, spmRate: 0 }).mode, 'psm');
  });

  it('cuts at code points, never inside a surrogate pair, with both ends reachable', () => {
    const text = '😀a😀b😀';
    let emptyPrefix = false;
    let emptySuffix = false;
    for (let seed = 0; seed < 300; seed++) {
      const [p, m, s] = splitAtRandom(text, createRng(seed));
      assert.equal(p + m + s, text);
      for (const part of [p, m, s]) assert.ok(!/[\uD800-\uDBFF]$|^[\uDC00-\uDFFF]/.test(part), JSON.stringify(part));
      emptyPrefix ||= p === '';
      emptySuffix ||= s === '';
    }
    assert.ok(emptyPrefix && emptySuffix);
  });

  it("lineRate cuts whole lines: the prefix ends at a line start, the suffix starts with the last line's newline", () => {
    const text = 'import os\n\ndef f(x):\n    return x + 1\n\nprint(f(2))\n';
    const lineStarts = new Set([0, ...[...text.matchAll(/\n/g)].map((m) => m.index! + 1)]);
    const lineEnds = new Set([...text.matchAll(/\n/g)].map((m) => m.index!));
    let nonEmpty = 0;
    for (let d = 0; d < 500; d++) {
      const parts = fimTransform(text, createRng(5, d), { fimRate: 1, lineRate: 1 });
      assert.equal(parts.prefix + parts.middle + parts.suffix, text);
      assert.ok(lineStarts.has(parts.prefix.length), JSON.stringify(parts));
      assert.ok(lineEnds.has(parts.prefix.length + parts.middle.length), JSON.stringify(parts));
      assert.ok(parts.suffix.startsWith('\n'), JSON.stringify(parts));
      if (parts.middle.length > 0) nonEmpty++;
      assert.deepEqual(fimTransform(text, createRng(5, d), { lineRate: 0 }), fimTransform(text, createRng(5, d)));
    }
    // Only a blank line chosen as both first and last line gives an empty middle (2 of 6 lines: ~6%).
    assert.ok(nonEmpty > 440 && nonEmpty < 500, `${nonEmpty} of 500 middles non-empty`);
    let midLine = 0;
    for (let d = 0; d < 500; d++) {
      const parts = fimTransform(text, createRng(5, d), { fimRate: 1, lineRate: 0.5 });
      if (!lineStarts.has(parts.prefix.length)) midLine++;
    }
    assert.ok(midLine > 150 && midLine < 260, `${midLine} of 500 cut mid-line at lineRate 0.5`);
  });
});
