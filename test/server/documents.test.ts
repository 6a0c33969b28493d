// The document store against the edits that froze or bloated the server (issue 17).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DocumentStore } from '../../server/documents.js';

const URI = 'file:///w/a.py';

function store(text = 'ab\ncd\n') {
  const log: string[] = [];
  const s = new DocumentStore((l) => log.push(l));
  s.open({ textDocument: { uri: URI, languageId: 'python', version: 1, text } });
  return { s, log, text: () => s.get(URI)!.getText() };
}

const at = (line: unknown, character: unknown) => ({ line, character });
const edit = (start: object, end: object, text: string) => ({
  textDocument: { uri: URI, version: 2 },
  contentChanges: [{ range: { start, end }, text }],
});

describe('document store', () => {
  it('clamps a change far past the end to the end, once: later edits stay fast', () => {
    const { s, text } = store();
    s.change(edit(at(1e9, 0), at(1e9 + 1, 0), 'y\n'));
    assert.equal(text(), 'ab\ncd\ny\n');
    assert.equal(s.get(URI)!.lineCount, 4);
    const t0 = performance.now();
    for (let i = 0; i < 2000; i++) s.change(edit(at(0, 0), at(0, 0), 'x'));
    assert.ok(performance.now() - t0 < 1000, `2000 edits took ${Math.round(performance.now() - t0)} ms`);
    assert.equal(text(), `${'x'.repeat(2000)}ab\ncd\ny\n`);
  });

  it("clamps a character past the end of its line to the line's end", () => {
    const { s, text } = store();
    s.change(edit(at(0, 99), at(0, 99), '!'));
    assert.equal(text(), 'ab!\ncd\n');
  });

  it('rejects a change whose position is not made of non-negative integers, keeping the document', () => {
    for (const bad of [at('a', 0), at(0, '1'), at(-1, 0), at(1.5, 0), at(null, 0), {}, null]) {
      const { s, log, text } = store();
      for (let i = 0; i < 25; i++) s.change(edit(bad ?? {}, at(0, 0), 'zz'));
      assert.equal(text(), 'ab\ncd\n', JSON.stringify(bad));
      assert.equal(log.length, 25);
      assert.match(log[0], /didChange ignored/);
    }
  });

  it('rejects a whole notification when one of its changes is bad', () => {
    const { s, text } = store();
    s.change({
      textDocument: { uri: URI, version: 3 },
      contentChanges: [{ range: { start: at(0, 0), end: at(0, 0) }, text: 'ok' }, { text: 7 }],
    });
    s.change({ textDocument: { uri: URI }, contentChanges: 'nope' });
    s.change({ textDocument: { uri: URI }, contentChanges: [{ range: { start: at(0, 0) }, text: 'x' }] });
    assert.equal(text(), 'ab\ncd\n');
  });

  it('applies several changes in order, each on the text the previous left', () => {
    const { s, text } = store();
    s.change({
      textDocument: { uri: URI, version: 3 },
      contentChanges: [
        { range: { start: at(0, 0), end: at(1, 0) }, text: '' },
        { range: { start: at(0, 2), end: at(0, 2) }, text: '!' },
        { text: text() === '' ? '' : 'whole\n' },
      ],
    });
    assert.equal(text(), 'whole\n');
  });

  it('does not open a document without text', () => {
    const log: string[] = [];
    const s = new DocumentStore((l) => log.push(l));
    s.open({ textDocument: { uri: URI, languageId: 'python', version: 1 } });
    s.open({ textDocument: { uri: 7, text: '' } });
    s.open(null);
    assert.equal(s.get(URI), undefined);
    assert.equal(log.length, 3);
  });

  it('forgets a closed document and tells its owner', () => {
    const closed: string[] = [];
    const s = new DocumentStore(
      () => undefined,
      (uri) => closed.push(uri),
    );
    s.open({ textDocument: { uri: URI, text: 'x' } });
    assert.equal(s.get(URI)!.languageId, 'plaintext');
    s.close({ textDocument: { uri: URI } });
    s.close({ textDocument: { uri: URI } });
    assert.equal(s.get(URI), undefined);
    assert.deepEqual(closed, [URI]);
  });
});
