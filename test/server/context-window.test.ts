import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Completer, loadTokenizer, type Tokenizer } from '../../engine/index.js';
import { anchorStep, fitBudget, promptWindow, textView } from '../../server/context-window.js';
import { neutralizeSpecialTokens } from '../../server/special-tokens.js';
import { memoTokenCounter } from '../../server/token-counter.js';
import { makeTinyModel } from '../helpers/tiny-model.js';

const root = mkdtempSync(join(tmpdir(), 'cf-window-'));
process.env.CODEFUDGE_CACHE = join(root, 'cache');
after(() => rmSync(root, { recursive: true, force: true }));

/** A deterministic stand-in for a tokenizer: one token per 4 characters of each text. */
const quarter = (s: string) => Math.ceil(s.length / 4);

/** A Python file of `n` numbered lines. */
function pythonLines(n: number): string {
  return Array.from({ length: n }, (_, i) => `    value_${i} = compute(${i}, factor=${i % 7})\n`).join('');
}

function cursorAtEnd(text: string) {
  const view = textView(text);
  return { view, cursor: { offset: text.length, line: view.lineCount - 1 } };
}

describe('prompt window', () => {
  it('fits the budgets and starts and ends on line boundaries', () => {
    const text = pythonLines(200);
    const view = textView(text);
    const offset = view.lineStart(120) + 10;
    const w = promptWindow(view, { offset, line: 120 }, { maxPrefixTokens: 300, maxSuffixTokens: 100 }, quarter);
    const lines = (s: string) => s.split(/(?<=\n)/);
    assert.ok(lines(w.prefix).reduce((n, l) => n + quarter(l), 0) <= 300);
    assert.ok(lines(w.suffix).reduce((n, l) => n + quarter(l), 0) <= 100);
    assert.ok(w.prefix.length > 800, 'uses most of the budget');
    assert.equal(text[w.prefixStart - 1], '\n');
    assert.equal(text[w.suffixEnd - 1], '\n');
    assert.equal(text.slice(w.prefixStart, w.suffixEnd), w.prefix + w.suffix);
  });

  it('keeps its start while the user types forward, then moves it forward by whole steps', () => {
    let text = pythonLines(60);
    const budget = { maxPrefixTokens: 256, maxSuffixTokens: 0 };
    const step = anchorStep(256);
    const starts: number[] = [];
    for (let i = 0; i < 600; i++) {
      text += i % 40 === 39 ? '\n' : 'x';
      const { view, cursor } = cursorAtEnd(text);
      const w = promptWindow(view, cursor, budget, quarter);
      starts.push(w.prefixStart);
    }
    const moves = starts.filter((s, i) => i > 0 && s !== starts[i - 1]).length;
    assert.ok(moves >= 1 && moves <= 600 / 40 / step + 2, `the start moved ${moves} times in 600 keystrokes`);
    const view = textView(text);
    for (const s of new Set(starts)) {
      const line = [...Array(view.lineCount).keys()].find((l) => view.lineStart(l) === s);
      assert.ok(line !== undefined && line % step === 0, `start ${s} is at a line that is a multiple of ${step}`);
    }
    assert.ok(
      starts.every((s, i) => i === 0 || s >= starts[i - 1]),
      'never moves back',
    );
  });

  it('takes part of a single over-long line (a minified or binary file) without measuring all of it', () => {
    const text = 'a'.repeat(10_000_000);
    const { view, cursor } = cursorAtEnd(text);
    const t0 = performance.now();
    const w = promptWindow(view, cursor, { maxPrefixTokens: 512, maxSuffixTokens: 128 }, quarter);
    assert.ok(performance.now() - t0 < 500);
    assert.ok(w.prefix.length > 0 && quarter(w.prefix) <= 512);
    assert.equal(w.suffix, '');
    const middle = textView(text);
    const m = promptWindow(middle, { offset: 5_000_000, line: 0 }, { maxPrefixTokens: 512, maxSuffixTokens: 128 }, quarter);
    assert.ok(m.suffix.length > 0 && quarter(m.suffix) <= 128);
  });

  it('never splits a surrogate pair', () => {
    const text = '😀'.repeat(5000);
    const { view, cursor } = cursorAtEnd(text);
    for (const budget of [100, 101, 333]) {
      const w = promptWindow(view, cursor, { maxPrefixTokens: budget, maxSuffixTokens: 0 }, quarter);
      assert.equal(w.prefix.codePointAt(0), 0x1f600);
    }
  });

  it('gives empty windows for zero budgets', () => {
    const text = pythonLines(5);
    const w = promptWindow(textView(text), { offset: 30, line: 0 }, { maxPrefixTokens: 0, maxSuffixTokens: 0 }, quarter);
    assert.deepEqual([w.prefix, w.suffix], ['', '']);
  });

  it("scales the budgets down to the model's context", () => {
    assert.deepEqual(fitBudget({ maxPrefixTokens: 1024, maxSuffixTokens: 256 }, 32768, 64), {
      maxPrefixTokens: 1024,
      maxSuffixTokens: 256,
    });
    const small = fitBudget({ maxPrefixTokens: 1024, maxSuffixTokens: 256 }, 512, 48);
    assert.ok(small.maxPrefixTokens + small.maxSuffixTokens + 48 + 16 <= 512);
    assert.equal(Math.round(small.maxPrefixTokens / small.maxSuffixTokens), 4);
  });
});

describe('prompt window with a real tokenizer and model', () => {
  const modelDir = join(root, 'model');
  let tok: Tokenizer;
  before(async () => {
    makeTinyModel(modelDir, { architecture: 'Qwen2ForCausalLM', layers: 1, seed: 5, maxPositionEmbeddings: 2048 });
    tok = await loadTokenizer(modelDir);
  });

  it('breaks special-token text in the document so it stays text', () => {
    const special = tok.specialTokens;
    const doc = 's = "<fim_middle>" + "<|endoftext|>"';
    const ids = tok.encode(neutralizeSpecialTokens(doc, special));
    const specialIds = special.map((t) => tok.tokenToId(t));
    assert.ok(ids.every((id) => !specialIds.includes(id)));
    assert.ok(
      tok.encode(doc).some((id) => specialIds.includes(id)),
      'the raw text would have become special tokens',
    );
  });

  it('lets the model reuse the cached prompt while the user types forward', async () => {
    const completer = await Completer.load(modelDir, { threads: 1 });
    const count = memoTokenCounter((t) => tok.encode(t));
    let text = pythonLines(40);
    const suffix = '\n    return value_0\n';
    let reusedShare = 0;
    const typed = 'result = value_1 + value_2';
    for (let i = 0; i < typed.length; i++) {
      text += typed[i];
      const doc = text + suffix;
      const view = textView(doc);
      const cursor = { offset: text.length, line: view.lineCount - 3 };
      const w = promptWindow(view, cursor, { maxPrefixTokens: 200, maxSuffixTokens: 50 }, count);
      const r = await completer.complete({
        prefix: w.prefix,
        suffix: w.suffix,
        maxNewTokens: 2,
        maxPrefixTokens: Number.MAX_SAFE_INTEGER,
        maxSuffixTokens: Number.MAX_SAFE_INTEGER,
      });
      if (i === 0) continue;
      const prefixTokens = 1 + tok.encode(w.prefix).length;
      assert.ok(r.reusedTokens >= prefixTokens - 3, `keystroke ${i}: reused ${r.reusedTokens} of ${prefixTokens} prefix tokens`);
      reusedShare += r.reusedTokens / r.promptTokens;
    }
    assert.ok(reusedShare / (typed.length - 1) > 0.7);
    await completer.release();
  });
});
