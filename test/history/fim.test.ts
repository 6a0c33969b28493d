import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockSpans, charSpan, fimExamples, type SnapshotFile } from '../../history/index.js';
import { mulberry32 } from '../../common/index.js';

const PY = [
  'import os',
  '',
  'def area(r):',
  '    pi = 3.14',
  '    if r < 0:',
  '        raise ValueError(r)',
  '',
  '    return pi * r * r',
  '',
  '',
  'class Box:',
  '    def __init__(self, w):',
  '        self.w = w',
  '',
  'x = 1',
  '',
].join('\n');

const file = (text: string, blob = 'b1'): SnapshotFile => ({ sha: 'c0ffee', path: 'src/m.py', blob, text });

test('block spans: each indented run after a shallower line, blank lines inside kept, trailing ones not', () => {
  const blocks = blockSpans(PY, 40).map((s) => PY.slice(s.start, s.end));
  assert.deepEqual(blocks, [
    '    pi = 3.14\n    if r < 0:\n        raise ValueError(r)\n\n    return pi * r * r\n',
    '        raise ValueError(r)\n',
    '    def __init__(self, w):\n        self.w = w\n',
    '        self.w = w\n',
  ]);
  // The function body is 5 lines: with a 4-line limit it is no longer a whole block.
  assert.deepEqual(
    blockSpans(PY, 4).map((s) => PY.slice(s.start, s.end)),
    ['        raise ValueError(r)\n', '    def __init__(self, w):\n        self.w = w\n', '        self.w = w\n'],
  );
  const js = 'function f() {\n  a();\n  b();\n}\n';
  assert.deepEqual(
    blockSpans(js, 40).map((s) => js.slice(s.start, s.end)),
    ['  a();\n  b();\n'],
  );
});

test('every example is the file split in three; line and block middles are whole lines', () => {
  for (let seed = 0; seed < 40; seed++) {
    const examples = fimExamples(file(PY), { seed, linesPerExample: 2 });
    assert.equal(examples.length, 8, 'one example per 2 lines, 15 lines');
    for (const e of examples) {
      assert.equal(e.prefix + e.middle + e.suffix, PY);
      assert.ok(e.middle.trim().length > 0);
      assert.deepEqual([e.kind, e.split, e.sha, e.path, e.blob], ['fim', 'train', 'c0ffee', 'src/m.py', 'b1']);
      if (e.span !== 'char') {
        assert.ok(e.prefix === '' || e.prefix.endsWith('\n'), 'starts at a line start');
        assert.ok(e.middle.endsWith('\n') || e.suffix === '', 'ends at a line end');
      }
      if (e.span === 'block')
        assert.ok(blockSpans(PY, 40).some((s) => s.start === e.prefix.length && s.end === e.prefix.length + e.middle.length));
      if (e.span === 'line') assert.ok(e.middle.split('\n').length - 1 <= 3);
      if (e.span === 'char') assert.ok(e.middle.length <= 512);
    }
  }
});

test('reproducible from the seed and the blob; all span kinds and both orders occur', () => {
  const a = fimExamples(file(PY), { seed: 7, linesPerExample: 1 });
  assert.deepEqual(fimExamples(file(PY), { seed: 7, linesPerExample: 1 }), a);
  assert.notDeepEqual(fimExamples(file(PY), { seed: 8, linesPerExample: 1 }), a);
  assert.notDeepEqual(
    fimExamples(file(PY, 'b2'), { seed: 7, linesPerExample: 1 }).map((e) => e.middle),
    a.map((e) => e.middle),
  );
  const many = Array.from({ length: 20 }, (_, s) => fimExamples(file(PY), { seed: s, linesPerExample: 1 })).flat();
  assert.deepEqual(new Set(many.map((e) => e.span)), new Set(['char', 'line', 'block']));
  assert.deepEqual(new Set(many.map((e) => e.mode)), new Set(['psm', 'spm']));
  const spm = many.filter((e) => e.mode === 'spm').length / many.length;
  assert.ok(spm > 0.35 && spm < 0.65, `spm share ${spm}`);
  const onlyLines = fimExamples(file(PY), { seed: 1, linesPerExample: 1, spanWeights: { char: 0, block: 0 }, spmRate: 0 });
  assert.ok(onlyLines.every((e) => e.span === 'line' && e.mode === 'psm'));
});

test('file size sets the count; blank files give nothing; flat files fall back from blocks to lines', () => {
  assert.deepEqual(fimExamples(file('   \n\n')), []);
  assert.equal(fimExamples(file(PY)).length, 1);
  const long = Array.from({ length: 2000 }, (_, i) => `x${i} = ${i}`).join('\n');
  assert.equal(fimExamples(file(long)).length, 16, 'capped by maxPerFile');
  assert.equal(fimExamples(file(long), { maxPerFile: 100 }).length, 50);
  const flat = fimExamples(file('a = 1\nb = 2\n'), { linesPerExample: 1, spanWeights: { char: 0, line: 0, block: 1 } });
  assert.deepEqual(
    flat.map((e) => e.span),
    ['line', 'line'],
  );
});

test('character spans never split a surrogate pair', () => {
  const text = '😀😀😀 a 😀😀😀\n'.repeat(3);
  const rand = mulberry32(5);
  for (let i = 0; i < 500; i++) {
    const s = charSpan(text, rand, 6)!;
    for (const edge of [s.start, s.end]) {
      const code = text.charCodeAt(edge);
      assert.ok(!(code >= 0xdc00 && code <= 0xdfff), `edge ${edge} inside a pair`);
    }
  }
});
