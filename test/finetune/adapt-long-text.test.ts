// Issue 13 items 1 and 2: the text-to-budget cuts behind every training sequence. A prefix that
// starts with a newline sent the line walk into an endless loop (V8's "invalid size" crash once
// the kept list passed 100M entries), and a 900 KB one-line file was encoded whole, many times.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { detectFimTemplate, loadTokenizer, readModelConfig, type Tokenizer } from '../../engine/index.js';
import { commitDiffSequence, fimSequence } from '../../finetune/index.js';
import { headWithin, sequenceFormat, tailWithin, type SequenceFormat } from '../../suggest/index.js';
import { tinyModel } from '../helpers/adapt-fixtures.js';

const root = fs.mkdtempSync(join(tmpdir(), 'cf-long-text-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

let tok: Tokenizer;
before(async () => {
  tok = await loadTokenizer(tinyModel(join(root, 'model')));
});

/** An encoder that gives up (instead of looping for ever) and remembers the longest text it saw. */
function watched(inner: Tokenizer, maxCalls = 10_000): Tokenizer & { longest: number } {
  let calls = 0;
  const w = Object.create(inner) as Tokenizer & { longest: number };
  w.longest = 0;
  w.encode = (text: string) => {
    if (++calls > maxCalls) throw new Error(`encode called ${calls} times`);
    w.longest = Math.max(w.longest, text.length);
    return inner.encode(text);
  };
  return w;
}

it('a prefix that starts with a newline fits whole (the old line walk never ended)', () => {
  const t = watched(tok);
  assert.equal(tailWithin(t, '\nabc\n', 100).text, '\nabc\n');
  assert.equal(tailWithin(t, '\n\n\nx = 1\n', 100).text, '\n\n\nx = 1\n');
  assert.equal(headWithin(t, '\nabc\n', 100).text, '\nabc\n');
});

it('a 900 KB line is never encoded whole: FIM and commit->diff sequences stay cheap', () => {
  const t = watched(tok);
  const fmt: SequenceFormat = sequenceFormat(t, detectFimTemplate(tok)!, readModelConfig(join(root, 'model')), 128);
  const line = 'x = [' + Array.from({ length: 150_000 }, (_, i) => i % 10).join(',') + ']';
  assert.ok(line.length > 290_000);
  const big = `${line}${line}${line}\n`;
  const started = performance.now();
  const fim = fimSequence(fmt, { prefix: `import os\n${big}`, middle: big, suffix: `${big}print(1)\n`, mode: 'psm' }, 'all');
  const diff = `--- a/data.py\n+++ b/data.py\n@@ -1 +1 @@\n-${big}+${big}`;
  const cd = commitDiffSequence(fmt, { message: 'Regenerate the table', path: 'data.py', before: big, diff });
  const seconds = (performance.now() - started) / 1000;
  assert.ok(fim && fim.ids.length <= 128);
  assert.ok(cd === null || cd.ids.length <= 128);
  // The tiny tokenizer's longest piece is a few characters: a 128-token sequence never needs more than ~1,000.
  assert.ok(t.longest < 10_000, `encoded ${t.longest} characters at once`);
  assert.ok(seconds < 5, `${seconds.toFixed(1)} s`);
});
