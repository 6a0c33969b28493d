import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompletionCache } from '../../server/completion-cache.js';
import { codeBlock, completionItem, completionLabel, inlineCompletionItem, wordBefore } from '../../server/items.js';
import { delay, LatestPerDocument, Mutex } from '../../server/request-queue.js';
import { autoCompletionWanted } from '../../server/trigger.js';

describe('automatic completion', () => {
  it('runs at the end of a line or before closing brackets and quotes', () => {
    assert.equal(autoCompletionWanted('    x = ', ''), true);
    assert.equal(autoCompletionWanted('print(', ')'), true);
    assert.equal(autoCompletionWanted('f("', '")  '), true);
  });

  it('does not run in the middle of a word or with code to the right', () => {
    assert.equal(autoCompletionWanted('comp', 'ute(x)'), false);
    assert.equal(autoCompletionWanted('x = ', 'value'), false);
    assert.equal(autoCompletionWanted('f(', ', b)'), false, '", b" is code');
    assert.equal(autoCompletionWanted('f(', 'é)'), false);
  });
});

describe('completion cache', () => {
  const doc = (before: string, after: string) => ({ text: before + after, offset: before.length });

  it('answers with the rest of a suggestion the user is typing', () => {
    const cache = new CompletionCache();
    const a = doc('def f(x):\n    ', '\n\nprint(f(2))\n');
    cache.remember('u', a.text, a.offset, 'return x * 2');
    const typed = doc('def f(x):\n    ret', '\n\nprint(f(2))\n');
    assert.equal(cache.lookup('u', typed.text, typed.offset), 'urn x * 2');
    assert.equal(cache.lookup('u', a.text, a.offset), 'return x * 2', 'the same place again');
    assert.deepEqual(cache.stats(), { entries: 1, hits: 2, misses: 0 });
  });

  it('misses when the typed text differs, the suffix changed, the whole suggestion was typed, or another document asks', () => {
    const cache = new CompletionCache();
    const a = doc('x = ', '\n');
    cache.remember('u', a.text, a.offset, 'compute(1)');
    for (const [uri, d] of [
      ['u', doc('x = comb', '\n')],
      ['u', doc('x = com', ')\n')],
      ['u', doc('x = compute(1)', '\n')],
      ['v', doc('x = com', '\n')],
      ['u', doc('y = com', '\n')],
    ] as const)
      assert.equal(cache.lookup(uri, d.text, d.offset), undefined, JSON.stringify(d));
    cache.forget('u');
    assert.equal(cache.lookup('u', doc('x = com', '\n').text, 7), undefined);
  });

  it('keeps a few suggestions per document, newest first', () => {
    const cache = new CompletionCache(2);
    cache.remember('u', 'a', 1, 'bc');
    cache.remember('u', 'ab', 2, 'XY');
    cache.remember('u', 'abc', 3, 'de');
    assert.equal(cache.lookup('u', 'abcd', 4), 'e');
    assert.equal(cache.lookup('u', 'abX', 3), 'Y');
    assert.equal(cache.lookup('u', 'ab', 2), 'XY');
    assert.equal(cache.stats().entries, 2);
  });
});

describe('items', () => {
  const pos = { line: 3, character: 8 };

  it('labels with the first non-blank line, shortened', () => {
    assert.equal(completionLabel('return x'), 'return x');
    assert.equal(completionLabel('\n    y = 1\n    return y'), 'y = 1 …');
    assert.equal(completionLabel('x'.repeat(60)), 'x'.repeat(39) + '…');
    assert.equal(completionLabel('  \n'), '');
  });

  it('fences code with more backticks than it contains', () => {
    assert.equal(codeBlock('a ``` b', 'python'), '````python\na ``` b\n````');
    assert.equal(codeBlock('x', 'python'), '```python\nx\n```');
  });

  it('inserts through a text edit at the cursor, filtered by the word being typed', () => {
    const item = completionItem('urn x\n    pass', pos, 'python', '    ret');
    assert.deepEqual(item.textEdit, { range: { start: pos, end: pos }, newText: 'urn x\n    pass' });
    assert.equal(item.filterText, 'return x');
    assert.equal(wordBefore('f(a_1'), 'a_1');
    assert.deepEqual(item.documentation, { kind: 'markdown', value: '```python\nurn x\n    pass\n```' });
    assert.deepEqual(inlineCompletionItem('abc', pos), { insertText: 'abc', range: { start: pos, end: pos } });
  });
});

describe('request queue', () => {
  it('supersedes the previous request of the same document only', () => {
    const latest = new LatestPerDocument();
    const a = latest.begin('u');
    const b = latest.begin('v');
    const c = latest.begin('u');
    assert.equal(a.stopped && a.superseded, true);
    assert.equal(b.stopped || c.stopped, false);
    latest.end('u', a);
    const d = latest.begin('u');
    assert.equal(c.superseded, true, 'ending a stale ticket does not forget the newer one');
    assert.equal(d.stopped, false);
    assert.equal(latest.superseded, 2);
  });

  it('runs tasks one at a time, in order, even after a failure', async () => {
    const mutex = new Mutex();
    const log: string[] = [];
    const task = (name: string, ms: number, fail = false) =>
      mutex.run(async () => {
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([task('a', 20), task('b', 5, true), task('c', 1)]);
    assert.deepEqual(log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
  });

  it('cuts a delay short when its signal aborts', async () => {
    const c = new AbortController();
    const t0 = performance.now();
    setTimeout(() => c.abort(), 10);
    await delay(5000, c.signal);
    assert.ok(performance.now() - t0 < 1000);
  });
});
