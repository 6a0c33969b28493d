// chrF and BLEU against numbers computed with sacrebleu 2.6.0 itself
// (fixtures/sacrebleu_reference.py wrote fixtures/sacrebleu-reference.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { corpusBleu, corpusChrf, sentenceBleu, sentenceChrf, tokenize13a } from '../../eval/index.js';
import { trimEndWhitespace } from '../../eval/metrics/text.js';

interface ReferencePair {
  name: string;
  hyp: string;
  ref: string;
  chrf: number;
  bleu: number;
  hyp_13a: string;
  ref_13a: string;
}
interface ReferenceCorpus {
  name: string;
  indices: number[];
  chrf: number;
  bleu: number;
}

const fixture = JSON.parse(readFileSync(new URL('../../../test/eval/fixtures/sacrebleu-reference.json', import.meta.url), 'utf8')) as {
  pairs: ReferencePair[];
  corpora: ReferenceCorpus[];
};

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-6, `${what}: got ${actual}, sacrebleu ${expected}`);
}

test('the fixture covers the required cases', () => {
  assert.ok(fixture.pairs.length >= 25);
  const names = fixture.pairs.map((p) => p.name);
  for (const needed of [
    'empty hyp',
    'empty ref',
    'both empty',
    'cjk',
    'emoji',
    'accents',
    'indentation only',
    'python function',
    'long line',
    'identical',
  ]) {
    assert.ok(names.includes(needed), needed);
  }
  // Not all trivial: most pairs score strictly between 0 and 100.
  assert.ok(fixture.pairs.filter((p) => p.chrf > 0 && p.chrf < 100).length >= 15);
  assert.ok(fixture.pairs.filter((p) => p.bleu > 0 && p.bleu < 100).length >= 15);
});

for (const p of fixture.pairs) {
  test(`sacrebleu: ${p.name}`, () => {
    // BLEU applies 13a to the right-trimmed text.
    assert.equal(tokenize13a(trimEndWhitespace(p.hyp)), p.hyp_13a);
    assert.equal(tokenize13a(trimEndWhitespace(p.ref)), p.ref_13a);
    close(sentenceChrf(p.hyp, p.ref), p.chrf, 'sentence chrF');
    close(sentenceBleu(p.hyp, p.ref), p.bleu, 'sentence BLEU');
  });
}

for (const c of fixture.corpora) {
  test(`sacrebleu corpus scores pool statistics: ${c.name}`, () => {
    const hyps = c.indices.map((i) => fixture.pairs[i].hyp);
    const refs = c.indices.map((i) => fixture.pairs[i].ref);
    close(corpusChrf(hyps, refs), c.chrf, 'corpus chrF');
    close(corpusBleu(hyps, refs), c.bleu, 'corpus BLEU');
    // Pooling is not averaging: the mean of sentence scores is a different number.
    const meanBleu = hyps.reduce((s, h, i) => s + sentenceBleu(h, refs[i]), 0) / hyps.length;
    assert.ok(Math.abs(meanBleu - c.bleu) > 1e-3);
  });
}

test('corpus functions refuse lists of different lengths', () => {
  assert.throws(() => corpusBleu(['a'], []), /1 hypotheses but 0 references/);
  assert.throws(() => corpusChrf([], ['a']), /0 hypotheses but 1 references/);
});
