import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BpeEncoder,
  packRows,
  pretrainDocuments,
  pretrainRows,
  trainBpe,
  type DocumentSource,
  type PackedRow,
} from '../../finetune/pretrain/index.js';
import { pythonModules } from '../helpers/pretrain-code-samples.js';

function take<T>(it: Iterator<T>, n: number): T[] {
  const out: T[] = [];
  while (out.length < n) {
    const r = it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

const rowsOf = (packed: PackedRow[]) => packed.map((p) => [...p.row]);

describe('packRows', () => {
  const docs = [[1, 2, 3], [4], [5, 6, 7, 8, 9], [], [10]];

  it('concatenates documents with separators into full rows, dropping the partial tail', () => {
    const packed = [...packRows(docs, 4, { eot: 0 })];
    // stream: 1 2 3 0 | 4 0 5 6 | 7 8 9 0 | 0 10 0 (partial, dropped)
    assert.deepEqual(rowsOf(packed), [
      [1, 2, 3, 0],
      [4, 0, 5, 6],
      [7, 8, 9, 0],
    ]);
    assert.deepEqual(
      packed.map((p) => p.next),
      [
        { doc: 1, offset: 0 },
        { doc: 2, offset: 2 },
        { doc: 3, offset: 0 },
      ],
    );
    assert.ok(packed.every((p) => p.row instanceof Int32Array));
  });

  it('resumes from any saved position to exactly the same rows', () => {
    for (const rowLength of [1, 2, 3, 5]) {
      const all = [...packRows(docs, rowLength, { eot: 0 })];
      for (let k = 0; k < all.length; k++) {
        const start = all[k].next;
        const resumed = [...packRows(docs.slice(start.doc), rowLength, { eot: 0, start })];
        assert.deepEqual(rowsOf(resumed), rowsOf(all.slice(k + 1)), `rowLength ${rowLength}, after row ${k}`);
        assert.deepEqual(
          resumed.map((p) => p.next),
          all.slice(k + 1).map((p) => p.next),
        );
      }
    }
  });

  it('splits a document longer than several rows', () => {
    const long = Array.from({ length: 10 }, (_, i) => i + 1);
    assert.deepEqual(rowsOf([...packRows([long], 3, { eot: 0 })]), [
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ]);
  });
});

describe('pretrainRows', () => {
  const texts = pythonModules(12, 300, 800);
  const encoder = new BpeEncoder(trainBpe(texts, { vocabSize: 700 }));
  const source: DocumentSource = { count: texts.length, read: (i) => texts[i] };
  const options = { rowLength: 64, seed: 5, fimRate: 0.5 };

  it('is deterministic for a seed and differs for another', () => {
    const a = rowsOf(take(pretrainRows(source, encoder, options), 40));
    const b = rowsOf(take(pretrainRows(source, encoder, options), 40));
    const c = rowsOf(take(pretrainRows(source, encoder, { ...options, seed: 6 }), 40));
    assert.equal(a.length, 40);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it('resumes mid-document and across epochs to exactly the same rows', () => {
    const all = take(pretrainRows(source, encoder, options), 120);
    assert.ok(all[119].next.doc > 2 * texts.length, 'the run spans more than two epochs');
    for (const k of [0, 7, 33, 61, 90]) {
      const resumed = take(pretrainRows(source, encoder, options, all[k].next), 120 - k - 1);
      assert.deepEqual(rowsOf(resumed), rowsOf(all.slice(k + 1)), `after row ${k}`);
    }
  });

  it('visits every document once per epoch in a shuffled order, one separator each', () => {
    const docs = [...pretrainDocuments(source, encoder, { ...options, fimRate: 0, epochs: 2 })];
    assert.equal(docs.length, 2 * texts.length);
    const decoded = docs.map((d) => encoder.decode(d));
    assert.deepEqual(decoded.slice(0, texts.length).sort(), [...texts].sort());
    assert.deepEqual(decoded.slice(texts.length).sort(), [...texts].sort());
    assert.notDeepEqual(decoded.slice(0, texts.length), texts);
    assert.notDeepEqual(decoded.slice(0, texts.length), decoded.slice(texts.length));
    const inOrder = [...pretrainDocuments(source, encoder, { ...options, fimRate: 0, epochs: 1, shuffle: false })];
    assert.deepEqual(
      inOrder.map((d) => encoder.decode(d)),
      texts,
    );
    const rows = [...pretrainRows(source, encoder, { ...options, fimRate: 0, epochs: 1, shuffle: false, rowLength: 16 })];
    const stream = rows.flatMap((r) => [...r.row]);
    const expected = inOrder.flatMap((d) => [...d, 0]);
    assert.deepEqual(stream, expected.slice(0, stream.length));
    assert.ok(expected.length - stream.length < 16);
  });
});
