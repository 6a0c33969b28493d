// From generations to a suggestion, without a model: which candidate is taken, what is repaired,
// what is refused; where a generated diff ends; and that the suggestion prompt is exactly the
// input half of the commit->diff training sequence.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { detectFimTemplate, loadTokenizer, readModelConfig, type Generation, type Tokenizer } from '../../engine/index.js';
import { commitDiffPrompt, diffEnd, firstApplicable, IGNORE, sequenceFormat, type SequenceFormat } from '../../suggest/index.js';
import { commitDiffSequence } from '../../finetune/index.js';
import { gnuPatch } from '../helpers/diff-tools.js';
import { tinyModel } from '../helpers/adapt-fixtures.js';

const root = fs.mkdtempSync(join(tmpdir(), 'cf-suggest-cand-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

const gen = (text: string, reason: Generation['reason'] = 'stop-token', logprob = -1): Generation => ({ ids: [], text, reason, logprob });
const FILE = Array.from({ length: 12 }, (_, i) => `line ${i + 1}\n`).join('');
const HEAD = '--- a/src/f.py\n+++ b/src/f.py\n';

describe('firstApplicable', () => {
  it('takes the best candidate that applies, repaired and re-rendered at its exact lines', () => {
    const gens = [
      gen(`${HEAD}@@ -4,3 +4,3 @@\n line 4\n-line 5 is not here\n+five\n line 6\n`),
      // Wrong line numbers and counts: found 3 lines further down, recounted.
      gen(`${HEAD}@@ -4,9 +4,1 @@\n line 7\n-line 8\n+eight\n line 9\n`),
      gen(`${HEAD}@@ -1 +1 @@\n-line 1\n+one\n`),
    ];
    const { applied, candidates } = firstApplicable(FILE, 'src/f.py', gens);
    assert.ok(applied);
    assert.equal(applied.candidate.rank, 1);
    assert.deepEqual(
      candidates.map((c) => c.problem),
      ['hunk 1 does not match the file', undefined],
    );
    assert.deepEqual(applied.candidate.repairs, ['recounted hunk 1 (-9 +1 -> -3 +3)']);
    assert.equal(applied.after, FILE.replace('line 8\n', 'eight\n'));
    assert.equal(applied.diff, `${HEAD}@@ -5,7 +5,7 @@\n line 5\n line 6\n line 7\n-line 8\n+eight\n line 9\n line 10\n line 11\n`);
    // What is shown applies with GNU patch as it stands (the file is `f` there).
    const forPatch = applied.diff.replaceAll('src/f.py', 'f');
    assert.equal(gnuPatch(root, FILE, forPatch), applied.after);
  });

  it('says why each candidate failed when none applies, and checks an identical text once', () => {
    const gens = [
      gen('I would rename the function.\n'),
      gen(`${HEAD}@@ -2,2 +2,2 @@\n line 2\n line 3\n`),
      gen(`${HEAD}@@ -2,3 +2,5 @@\n line 2\n+new\n line 3\n+cut`, 'max-tokens'),
      gen(`${HEAD}@@ -2,3 +2,5 @@\n line 2\n+new\n line 3\n+cut`, 'max-tokens'),
      gen(`${HEAD}@@ -2,2 +2,3 @@\n line 2\n+new\n line 33\n`),
      // Applies for patch (at line 3), but nothing in it says where the line belongs.
      gen(`${HEAD}@@ -3,0 +4 @@\n+floating\n`),
    ];
    const { applied, candidates } = firstApplicable(FILE, 'src/f.py', gens);
    assert.equal(applied, undefined);
    assert.deepEqual(
      candidates.map((c) => [c.rank, c.problem]),
      [
        [0, 'no complete hunk'],
        [1, 'no complete hunk'],
        [2, 'no complete hunk'],
        [4, 'hunk 1 does not match the file'],
        [5, 'hunk 1 has no context or removed line to place it by'],
      ],
    );
    assert.deepEqual(candidates[2].repairs, ['dropped a cut-off last line', 'dropped hunk 1, cut off before its end']);
  });

  it('takes added lines alone for an empty file', () => {
    const { applied } = firstApplicable('', 'src/f.py', [gen(`${HEAD}@@ -0,0 +1,2 @@\n+a\n+b\n`)]);
    assert.equal(applied?.after, 'a\nb\n');
  });

  it('keeps the complete hunks of a cut-off diff', () => {
    const text = `${HEAD}@@ -1,2 +1,2 @@\n-line 1\n+one\n line 2\n@@ -10,3 +10,4 @@\n line 10\n+ten and a half\n line 11\n li`;
    const { applied } = firstApplicable(FILE, 'src/f.py', [gen(text, 'max-tokens')]);
    assert.ok(applied);
    assert.equal(applied.after, FILE.replace('line 1\n', 'one\n'));
  });
});

describe('diffEnd', () => {
  it('ends a diff at the first whole line no diff has', () => {
    const diff = `${HEAD}@@ -1 +1 @@\n-a\n+b\n\\ No newline at end of file\n \n\n`;
    assert.equal(diffEnd(diff), undefined);
    assert.equal(diffEnd(`${diff}Explanation: a became b\n`), diff.length);
    assert.equal(diffEnd(`${diff}Explanation, still being writ`), undefined, 'a line is judged once it is complete');
  });
});

describe('commitDiffPrompt', () => {
  let tok: Tokenizer;
  let fmt: SequenceFormat;
  before(async () => {
    const dir = tinyModel(join(root, 'model'));
    tok = await loadTokenizer(dir);
    fmt = sequenceFormat(tok, detectFimTemplate(tok)!, readModelConfig(dir), 256);
  });

  it('is the unlearned prefix of the training sequence for the same message, path and file', () => {
    const ex = {
      message: '  Register the blue plugin\n\nLonger body.  ',
      path: 'plugins/blue.py',
      before: 'from app import reg\n\ndef setup():\n    pass\n',
    };
    const diff = '--- a/plugins/blue.py\n+++ b/plugins/blue.py\n@@ -3,2 +3,3 @@\n def setup():\n     pass\n+reg("blue")\n';
    const seq = commitDiffSequence(fmt, { ...ex, diff })!;
    const prompt = commitDiffPrompt(fmt, ex, 60)!;
    const unlearned = seq.labels!.findIndex((l) => l !== IGNORE);
    assert.deepEqual(prompt, seq.ids.slice(0, unlearned));
    assert.equal(tok.decode(prompt), `Register the blue plugin\n\nLonger body.\nplugins/blue.py\n${ex.before}`);
  });

  it('shows the head of a long file, leaving the reserve free; null when not even the header fits', () => {
    const long = Array.from({ length: 300 }, (_, i) => `value_${i} = ${i}\n`).join('');
    const prompt = commitDiffPrompt(fmt, { message: 'm', path: 'p.py', before: long }, 100)!;
    assert.ok(prompt.length <= 156 && prompt.length > 120, `${prompt.length} tokens`);
    const text = tok.decode(prompt);
    assert.ok(text.startsWith('m\np.py\nvalue_0 = 0\nvalue_1 = 1\n') && text.endsWith('\n'), text);
    assert.ok(long.startsWith(text.slice('m\np.py\n'.length)));
    assert.equal(commitDiffPrompt(fmt, { message: 'm', path: 'p.py', before: long }, 255), null);
  });
});
