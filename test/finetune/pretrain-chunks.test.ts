import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BpeEncoder, chunkLines, EOT, FIM_MIDDLE, FIM_PREFIX, pretrainDocuments, trainBpe } from '../../finetune/pretrain/index.js';

const lines = Array.from({ length: 40 }, (_, i) => `value_${i} = compute(${i}, scale=${i * 3})\n`);
const text = lines.join('');

describe('chunk-level FIM', () => {
  it('cuts a document at line ends into pieces of at most N characters that rejoin to it', () => {
    const pieces = chunkLines(text, 200);
    assert.equal(pieces.join(''), text);
    assert.ok(pieces.length > 1);
    for (const p of pieces) {
      assert.ok(p.length <= 200, `piece of ${p.length}`);
      assert.ok(p.endsWith('\n'));
    }
    assert.deepEqual(chunkLines('one very long line without a break', 5), ['one very long line without a break']);
    assert.deepEqual(chunkLines('', 10), []);
  });

  it('FIM-transforms each piece on its own: one FIM example per piece, separated by <|endoftext|>', () => {
    const encoder = new BpeEncoder(trainBpe([text], { vocabSize: 400 }));
    const source = { count: 1, read: () => text };
    const opts = { rowLength: 64, seed: 3, fimRate: 1, spmRate: 0, shuffle: false, epochs: 1 };
    const [whole] = [...pretrainDocuments(source, encoder, opts)];
    const [pieces] = [...pretrainDocuments(source, encoder, { ...opts, fimChunkChars: 200 })];
    const count = (ids: number[], token: string) => ids.filter((t) => t === encoder.specialId(token)).length;
    const n = chunkLines(text, 200).length;
    assert.equal(count(whole, FIM_PREFIX), 1);
    assert.equal(count(pieces, FIM_PREFIX), n);
    assert.equal(count(pieces, FIM_MIDDLE), n);
    assert.equal(count(pieces, EOT), n - 1);
    // Deterministic: the same seed gives the same tokens.
    assert.deepEqual([...pretrainDocuments(source, encoder, { ...opts, fimChunkChars: 200 })][0], pieces);
  });
});
