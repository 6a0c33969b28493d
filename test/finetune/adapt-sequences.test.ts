// Examples -> token sequences (with the tiny model's real byte-level BPE tokenizer and its
// StarCoder FIM template), the training mix, and the sizing helpers of `codefudge adapt`.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { detectFimTemplate, loadTokenizer, readModelConfig, type Tokenizer } from '../../engine/index.js';
import { UserError } from '../../common/index.js';
import {
  batching,
  stepsForTime,
  beforeAroundHunks,
  commitDiffSequence,
  fimSequence,
  heldoutMiddles,
  heldoutSequences,
  hunkLines,
  parseDuration,
  pickMix,
  pickRefresh,
} from '../../finetune/index.js';
import { headWithin, tailWithin, IGNORE, keepHead, keepTail, sequenceFormat, type SequenceFormat } from '../../suggest/index.js';
import type { CommitDiffExample, FimExample, HistoryDataset, TemporalItem } from '../../history/index.js';
import { tinyModel } from '../helpers/adapt-fixtures.js';

const root = fs.mkdtempSync(join(tmpdir(), 'cf-adapt-seq-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

let tok: Tokenizer;
let fmt: SequenceFormat;
before(async () => {
  const dir = tinyModel(join(root, 'model'));
  tok = await loadTokenizer(dir);
  fmt = sequenceFormat(tok, detectFimTemplate(tok)!, readModelConfig(dir), 128);
});

const lines = (n: number, make: (i: number) => string) => Array.from({ length: n }, (_, i) => `${make(i + 1)}\n`).join('');
const labelled = (labels: readonly number[]) => labels.filter((l) => l !== IGNORE);

/** Splits a decoded StarCoder PSM sequence into its parts. */
function psmParts(text: string): { prefix: string; suffix: string; rest: string } {
  const m = /^<fim_prefix>([\s\S]*)<fim_suffix>([\s\S]*)<fim_middle>([\s\S]*)$/.exec(text);
  assert.ok(m, text);
  return { prefix: m[1], suffix: m[2], rest: m[3] };
}

describe('FIM sequences', () => {
  it("are the completer's prompt, then the middle and the end token; only the middle and end are learned", () => {
    const ex = { prefix: 'def f(x):\n    ', middle: 'return x + 1\n', suffix: '\nprint(f(2))\n', mode: 'psm' as const };
    const seq = fimSequence(fmt, ex)!;
    const prompt = tok.encode(fmt.template.render(ex.prefix, ex.suffix, 'psm'));
    const middle = [...tok.encode(ex.middle), fmt.endId];
    assert.equal(tok.idToToken(fmt.endId), '<|endoftext|>');
    assert.deepEqual(seq.ids, [...prompt, ...middle]);
    assert.deepEqual(seq.labels, [...prompt.map(() => IGNORE), ...middle]);
  });

  it("use the template's SPM order when asked, and PSM where the template has no SPM", () => {
    const ex = { prefix: 'a = 1\n', middle: 'b = 2\n', suffix: 'c = 3\n', mode: 'spm' as const };
    const spm = fimSequence(fmt, ex)!;
    assert.equal(tok.decode(spm.ids), '<fim_prefix><fim_suffix>c = 3\n<fim_middle>a = 1\nb = 2\n<|endoftext|>');
    const psmOnly = { ...fmt, template: { ...fmt.template, modes: ['psm' as const] } };
    assert.equal(tok.decode(fimSequence(psmOnly, ex)!.ids), '<fim_prefix>a = 1\n<fim_suffix>c = 3\n<fim_middle>b = 2\n<|endoftext|>');
  });

  it('cut a long prefix from the start and a long suffix from the end, at line boundaries, to the sequence length', () => {
    const prefix = lines(200, (i) => `x${i} = ${i}`);
    const suffix = lines(200, (i) => `y${i} = ${i}`);
    const seq = fimSequence(fmt, { prefix, middle: 'z = 0\n', suffix, mode: 'psm' })!;
    assert.ok(seq.ids.length <= 128 && seq.ids.length >= 120, `${seq.ids.length} tokens`);
    const parts = psmParts(tok.decode(seq.ids));
    assert.ok(prefix.endsWith(parts.prefix) && parts.prefix.startsWith('x'), parts.prefix);
    assert.ok(suffix.startsWith(parts.suffix) && parts.suffix.endsWith('\n'), parts.suffix);
    assert.ok(parts.prefix.length > parts.suffix.length, 'the prefix gets most of the room');
    assert.equal(parts.rest, 'z = 0\n<|endoftext|>');
  });

  it('cut a middle longer than half the sequence, without the end token', () => {
    const middle = lines(100, (i) => `m${i}()`);
    const seq = fimSequence(fmt, { prefix: 'p\n', middle, suffix: 's\n', mode: 'psm' })!;
    const learned = labelled(seq.labels!);
    assert.equal(learned.length, 64);
    assert.ok(!learned.includes(fmt.endId));
    assert.ok(middle.startsWith(tok.decode(learned)));
  });

  it("with loss on every token, learn all text but not the template's sentinels", () => {
    const seq = fimSequence(fmt, { prefix: 'a = 1\n', middle: 'b = 2\n', suffix: 'c = 3\n', mode: 'psm' }, 'all')!;
    seq.ids.forEach((id, i) => {
      const sentinel = fmt.sentinelIds.has(id) && i < seq.ids.length - 1;
      assert.equal(seq.labels![i], sentinel ? IGNORE : id, `position ${i} (${tok.idToToken(id)})`);
    });
    assert.equal(fmt.sentinelIds.size, 3);
  });
});

describe('commit->diff sequences', () => {
  const diff = '--- a/src/m.py\n+++ b/src/m.py\n@@ -1,2 +1,3 @@\n a = 1\n+b = 2\n c = 3\n';

  it('are message, path and file before, then the diff and the end token; only the diff is learned', () => {
    const seq = commitDiffSequence(fmt, { message: 'Add b', path: 'src/m.py', before: 'a = 1\nc = 3\n', diff })!;
    const input = tok.encode('Add b\nsrc/m.py\na = 1\nc = 3\n');
    assert.deepEqual(seq.ids, [...input, ...tok.encode(diff), fmt.endId]);
    assert.deepEqual(seq.labels, [...input.map(() => IGNORE), ...tok.encode(diff), fmt.endId]);
  });

  it('keep the lines of a long file around the hunks', () => {
    const before = lines(300, (i) => `line ${i}`);
    const hunk = '--- a/f.py\n+++ b/f.py\n@@ -150,2 +150,3 @@\n line 150\n+new\n line 151\n';
    const seq = commitDiffSequence(fmt, { message: 'Edit', path: 'f.py', before, diff: hunk })!;
    assert.ok(seq.ids.length <= 128);
    const text = tok.decode(seq.ids);
    const window = text.slice('Edit\nf.py\n'.length, text.indexOf('--- a/f.py'));
    assert.ok(window.includes('line 150\nline 151\n'), window);
    assert.ok(before.includes(window) && window.startsWith('line '), 'whole consecutive lines of the file');
    assert.ok(text.endsWith(`${hunk}<|endoftext|>`));
  });

  it('find the old lines the hunks cover', () => {
    assert.deepEqual(hunkLines('@@ -10,3 +10,4 @@\n x\n@@ -40 +41,2 @@\n'), { lo: 9, hi: 39 });
    assert.deepEqual(hunkLines('@@ -0,0 +1,2 @@\n+a\n+b\n'), { lo: 0, hi: 0 });
    assert.equal(hunkLines('Binary files differ\n'), null);
    assert.equal(beforeAroundHunks(tok, 'a\nb\n', '@@ -1 +1 @@\n', 100), 'a\nb\n');
  });
});

describe('held-out sequences', () => {
  const item = (after: string, addedLines: number[]): TemporalItem => ({
    kind: 'temporal',
    split: 'heldout',
    sha: 'h',
    date: '',
    message: 'm',
    path: 'p.py',
    oldPath: null,
    status: 'M',
    before: '',
    after,
    diff: '',
    addedLines,
  });

  it('learn exactly the lines a held-out commit added, in runs of at most 4, skipping blank ones', () => {
    const after = lines(12, (i) => (i === 11 ? '   ' : `v${i} = ${i}`));
    const it1 = item(after, [2, 3, 4, 5, 6, 9, 11]);
    assert.deepEqual(
      heldoutMiddles([it1]).map((m) => [m.first, m.last]),
      [
        [2, 5],
        [6, 6],
        [9, 9],
      ],
    );
    const seqs = heldoutSequences(fmt, [it1]);
    assert.deepEqual(
      seqs.map((s) => tok.decode(labelled(s.labels!))),
      ['v2 = 2\nv3 = 3\nv4 = 4\nv5 = 5\n<|endoftext|>', 'v6 = 6\n<|endoftext|>', 'v9 = 9\n<|endoftext|>'],
    );
    const parts = psmParts(tok.decode(seqs[1].ids));
    assert.equal(
      parts.prefix,
      lines(5, (i) => `v${i} = ${i}`),
    );
    assert.ok(parts.suffix.startsWith('v7 = 7\n'));
  });

  it('spread over the items when there are more middles than asked for', () => {
    const many = Array.from({ length: 10 }, (_, k) => item(`a${k}\nb${k}\n`, [1]));
    const seqs = heldoutSequences(fmt, many, { max: 5 });
    assert.deepEqual(
      seqs.map((s) => tok.decode(labelled(s.labels!))),
      [0, 2, 4, 6, 8].map((k) => `a${k}\n<|endoftext|>`),
    );
  });
});

describe('the training mix', () => {
  const fim = (blob: string): FimExample => ({
    kind: 'fim',
    split: 'train',
    sha: 's',
    path: 'p',
    blob,
    prefix: '',
    middle: blob,
    suffix: '',
    mode: 'psm',
    span: 'line',
  });
  const cd = (sha: string): CommitDiffExample => ({
    kind: 'commit-diff',
    split: 'train',
    sha,
    date: '',
    message: sha,
    path: 'p',
    oldPath: null,
    status: 'M',
    before: '',
    diff: sha,
  });
  const fims = Array.from({ length: 10 }, (_, i) => fim(`f${i}`));
  const cds = [cd('c0'), cd('c1')];
  const opts = { commitDiffShare: 0.3, max: 1000, seed: 7 };

  it('uses every example and repeats the scarcer kind (at most twice) to reach the share', () => {
    const pick = pickMix(fims, cds, { ...opts, commitDiffShare: 0.2 });
    assert.equal(pick.fim.length, 10);
    assert.equal(pick.commitDiff.length, 3);
    assert.deepEqual(new Set(pick.fim), new Set(fims));
    assert.deepEqual(new Set(pick.commitDiff), new Set(cds));
    assert.deepEqual(pickMix(fims, cds, { ...opts, commitDiffShare: 0.2 }), pick, 'seeded');
    const capped = pickMix(fims, cds, opts);
    assert.deepEqual([capped.fim.length, capped.commitDiff.length], [9, 4], 'two of each commit->diff example; the FIM examples sampled');
  });

  it('takes one kind when the other is missing or its share is 0, and a sample beyond the maximum', () => {
    assert.deepEqual(pickMix(fims, cds, { ...opts, commitDiffShare: 0 }).commitDiff, []);
    assert.equal(pickMix([], cds, opts).commitDiff.length, 2);
    const capped = pickMix(fims, cds, { ...opts, max: 6 });
    assert.deepEqual([capped.fim.length, capped.commitDiff.length], [4, 2]);
  });

  it('refreshes with everything new and as many replayed old examples, never new ones among them', () => {
    const data = (f: FimExample[], c: CommitDiffExample[]): HistoryDataset => ({
      train: { fim: f, commitDiff: c },
      heldout: [],
      stats: {} as never,
    });
    const full = data(fims, [cd('c0'), cd('c1'), cd('c2')]);
    const fresh = data([fims[9]], [full.train.commitDiff[2]]);
    const { fresh: picked, replay } = pickRefresh(full, fresh, { ...opts, commitDiffShare: 0.5, replayShare: 0.5 });
    assert.deepEqual([picked.fim.map((e) => e.blob), picked.commitDiff.map((e) => e.sha)], [['f9'], ['c2']]);
    const old = [...replay.fim.map((e) => e.blob), ...replay.commitDiff.map((e) => e.sha)];
    assert.equal(old.length, 2);
    assert.ok(!old.includes('f9') && !old.includes('c2'), old.join());
  });
});

describe('budgets and sizing', () => {
  it('keeps whole lines within a token budget, close to it, and counts them', () => {
    const text = lines(400, (i) => `value_${i} = compute(${i})`);
    for (const budget of [40, 300]) {
      const head = headWithin(tok, text, budget);
      const tail = tailWithin(tok, text, budget);
      assert.deepEqual([keepHead(tok, text, budget), keepTail(tok, text, budget)], [head.text, tail.text]);
      assert.ok(text.startsWith(head.text) && head.text.endsWith('\n'), head.text);
      assert.ok(text.endsWith(tail.text) && tail.text.startsWith('value_'), tail.text);
      for (const k of [head, tail]) {
        assert.equal(k.tokens, tok.encode(k.text).length);
        assert.ok(k.tokens <= budget, `${k.tokens} of ${budget}`);
      }
      // As many whole lines as fit: one more would not.
      const nextLine = text.indexOf('\n', head.text.length) + 1;
      assert.ok(tok.encode(text.slice(0, nextLine)).length > budget);
      const prevLine = text.lastIndexOf('\n', text.length - tail.text.length - 2) + 1;
      assert.ok(tok.encode(text.slice(prevLine)).length > budget);
    }
    assert.deepEqual(headWithin(tok, 'short\n', 40), { text: 'short\n', tokens: tok.encode('short\n').length });
    assert.ok(tailWithin(tok, 'one long line without a newline', 3).tokens <= 3);
  });

  it('parses time budgets', () => {
    assert.deepEqual(['20m', '90s', '1h30m', '1.5h', '300'].map(parseDuration), [1200, 90, 5400, 5400, 300]);
    for (const bad of ['', '0', '5x', '-1m', 'm']) assert.throws(() => parseDuration(bad), UserError, bad);
  });

  it('sizes the micro-batch to free memory and keeps 8 sequences per step', () => {
    const config = readModelConfig(join(root, 'model'));
    assert.deepEqual(batching(config, 512, { cores: 2, freeMemory: 64e9 }), { batch: 8, gradAccum: 1 });
    assert.deepEqual(batching(config, 512, { cores: 2, freeMemory: 1e6 }), { batch: 1, gradAccum: 8 });
    assert.deepEqual(batching(config, 512, { cores: 2, freeMemory: 1e6 }, { batch: 3 }), { batch: 3, gradAccum: 3 });
  });

  it('fits steps in what a time budget leaves, keeping time for the loss after, within the pass cap', () => {
    const t = { budget: 100, spent: 20, evalSeconds: 10, secondsPerStep: 0.5, cap: 1000 };
    assert.equal(stepsForTime(t), 126, '90 percent of (100 - 20 - 10) seconds');
    assert.equal(stepsForTime({ ...t, cap: 50 }), 50);
    assert.equal(stepsForTime({ ...t, evalSeconds: 60 }), 99, 'at most a quarter of the budget is kept for it');
    assert.equal(stepsForTime({ ...t, spent: 200 }), 1);
  });
});
