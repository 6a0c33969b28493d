// Reading unified diffs: strictly (git's output), and leniently from a model's output with repairs
// that a file-independent reading can make; then the repairs that need the file (fitHunks).
import { parsePatch } from 'diff';
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { DiffFormatError, fitHunks, parseUnifiedDiff, readGeneratedDiff, renderUnifiedDiff, splitLines } from '../../suggest/index.js';
import { gitDiff, gnuPatch, tempDir } from '../helpers/diff-tools.js';

const tmp = tempDir('cf-diff-parse-');
after(tmp.cleanup);

describe('parseUnifiedDiff', () => {
  it('reads paths, ranges, sections, empty context lines and no-newline marks', () => {
    const p = parseUnifiedDiff(
      'diff --git a/x.py b/x.py\nindex 1..2 100644\n--- a/x.py\t2024-01-01\n+++ b/x.py\n' +
        '@@ -1,3 +1,3 @@ def f():\n a\n\n-b\n+B\n@@ -10 +10,2 @@\n-z\n\\ No newline at end of file\n+z\n+w\n\\ No newline at end of file\n',
    );
    assert.equal(p.oldPath, 'a/x.py');
    assert.equal(p.newPath, 'b/x.py');
    assert.equal(p.hunks.length, 2);
    const [h1, h2] = p.hunks;
    assert.deepEqual([h1.oldStart, h1.oldCount, h1.newStart, h1.newCount, h1.section], [1, 3, 1, 3, 'def f():']);
    assert.deepEqual(h1.lines, [
      { op: ' ', text: 'a', eol: true },
      { op: ' ', text: '', eol: true },
      { op: '-', text: 'b', eol: true },
      { op: '+', text: 'B', eol: true },
    ]);
    assert.deepEqual([h2.oldStart, h2.oldCount, h2.newCount], [10, 1, 2]);
    assert.deepEqual(
      h2.lines.map((l) => l.eol),
      [false, true, false],
    );
  });

  it('reads every diff git writes the same way it applies (round trip through rendering)', () => {
    const before = 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm';
    const after = 'a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\n';
    const diff = gitDiff(tmp.dir, before, after);
    const p = parseUnifiedDiff(diff);
    const r = fitHunks(before, p.hunks);
    assert.ok(r.ok);
    assert.equal(r.text, after);
    assert.deepEqual(r.repairs, []);
    // The same text as git's, but for the function names git writes after `@@`.
    const withoutSections = diff.replace(/^(@@ [^@]+ @@).*$/gm, '$1');
    assert.notEqual(withoutSections, diff);
    assert.equal(renderUnifiedDiff(splitLines(before), r.edits, { oldPath: 'a/f', newPath: 'b/f' }), withoutSections);
  });

  it('refuses what is not one well-formed file diff, naming the line', () => {
    const bad: [string, RegExp][] = [
      ['just text\n', /no hunk/],
      ['--- a/x\n@@ -1 +1 @@\n-a\n+b\n', /line 2: .*"\+\+\+"/],
      ['--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-a\n+b\n', /line 6: hunk at line 3 ends early/],
      ['--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n+c\n', /line 6: .*expected a hunk header/],
      ['--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n--- a/y\n+++ b/y\n', /line 6: the diff changes more than one file/],
      ['--- a/x\n+++ b/x\n@@ -1 +1\n-a\n+b\n', /line 3: malformed hunk header/],
      ['--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n?b\n', /line 5: hunk at line 3 ends early/],
    ];
    for (const [text, why] of bad)
      assert.throws(
        () => parseUnifiedDiff(text),
        (e: unknown) => e instanceof DiffFormatError && why.test(e.message),
        text,
      );
  });

  it('is stricter than jsdiff, which is why the strict reader is ours', () => {
    // jsdiff's parsePatch takes a header without its closing @@ as a hunk starting at no line (NaN),
    // and a second file's headers as an empty patch; both must be refused for a one-file suggestion.
    const [malformed] = parsePatch('--- a/x\n+++ b/x\n@@ -1 +1\n-a\n+b\n');
    assert.ok(!Number.isFinite(malformed.hunks[0].oldStart));
    assert.equal(parsePatch('--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n--- a/y\n+++ b/y\n').length, 2);
  });
});

describe('readGeneratedDiff', () => {
  const header = '--- a/f\n+++ b/f\n';

  it('takes a well-formed diff as it is', () => {
    const { patch, repairs } = readGeneratedDiff(`${header}@@ -2,2 +2,3 @@\n b\n+x\n c\n`, { truncated: false });
    assert.deepEqual(repairs, []);
    assert.equal(patch.oldPath, 'a/f');
    assert.deepEqual(
      patch.hunks.map((h) => [h.oldStart, h.oldCount, h.newStart, h.newCount]),
      [[2, 2, 2, 3]],
    );
  });

  it('recounts headers from the bodies', () => {
    const { patch, repairs } = readGeneratedDiff(`${header}@@ -2,7 +2,1 @@\n b\n+x\n c\n@@ -9 +9 @@\n-y\n+z\n`, { truncated: false });
    assert.deepEqual(
      patch.hunks.map((h) => [h.oldCount, h.newCount]),
      [
        [2, 3],
        [1, 1],
      ],
    );
    assert.deepEqual(repairs, ['recounted hunk 1 (-7 +1 -> -2 +3)']);
  });

  it('drops a cut-off last line and an unfinished last hunk when the model was cut off', () => {
    const text = `${header}@@ -1,2 +1,2 @@\n-a\n+A\n b\n@@ -8,3 +8,4 @@\n h\n+new\n i\n j`;
    const cut = readGeneratedDiff(text, { truncated: true });
    assert.equal(cut.patch.hunks.length, 1);
    assert.deepEqual(cut.repairs, ['dropped a cut-off last line', 'dropped hunk 2, cut off before its end']);
    // Ended by the model itself, the same text is complete: its last line just lacks a newline.
    const ended = readGeneratedDiff(text, { truncated: false });
    assert.equal(ended.patch.hunks.length, 2);
    assert.deepEqual(
      ended.patch.hunks[1].lines.map((l) => l.text),
      ['h', 'new', 'i', 'j'],
    );
  });

  it('ends at what cannot be part of the diff, a second file or trailing blank lines', () => {
    const junk = readGeneratedDiff(`${header}@@ -1 +1 @@\n-a\n+b\nThis changes a to b.\n-c\n`, { truncated: false });
    assert.deepEqual(
      junk.patch.hunks[0].lines.map((l) => l.op + l.text),
      ['-a', '+b'],
    );
    const second = readGeneratedDiff(`${header}@@ -1 +1 @@\n-a\n+b\n--- a/g\n+++ b/g\n@@ -1 +1 @@\n-x\n+y\n`, { truncated: false });
    assert.equal(second.patch.hunks.length, 1);
    const blanks = readGeneratedDiff(`${header}@@ -1 +1 @@\n-a\n+b\n\n\n`, { truncated: false });
    assert.deepEqual(blanks.patch.hunks[0].lines.length, 2);
    assert.deepEqual(blanks.repairs, []);
  });

  it('drops hunks that change nothing and keeps going after them', () => {
    const r = readGeneratedDiff(`${header}@@ -1,2 +1,2 @@\n a\n b\n@@ -5 +5 @@\n-e\n+E\n`, { truncated: false });
    assert.equal(r.patch.hunks.length, 1);
    assert.equal(r.patch.hunks[0].oldStart, 5);
    assert.deepEqual(r.repairs, ['dropped hunk 1, which changes nothing']);
  });

  it('reads hunks without file headers, and finds nothing in text without hunks', () => {
    assert.equal(readGeneratedDiff('@@ -1 +1 @@\n-a\n+b\n', { truncated: false }).patch.hunks.length, 1);
    assert.equal(readGeneratedDiff('def f():\n    pass\n', { truncated: false }).patch.hunks.length, 0);
    assert.deepEqual(readGeneratedDiff(`${header}@@ -x +1 @@\n-a\n`, { truncated: false }).repairs, ['stopped at a malformed hunk header']);
  });

  it('reads a mangled header for where its hunk starts, and counts its body', () => {
    const mangled = `${header}@@ -3,3 +3,@@@ f\n b\n-c\n+C\n`;
    const r = readGeneratedDiff(mangled, { truncated: false });
    assert.deepEqual(
      r.patch.hunks.map((h) => [h.oldStart, h.oldCount, h.newCount]),
      [[3, 2, 2]],
    );
    assert.deepEqual(r.repairs, ['read the malformed header of hunk 1']);
    // Cut off, its end cannot be told from its counts: it is dropped.
    assert.equal(readGeneratedDiff(mangled, { truncated: true }).patch.hunks.length, 0);
  });
});

describe('fitHunks', () => {
  /** The fitted result, checked: its rendering applies with GNU patch to the same text. */
  function fit(text: string, diff: string) {
    const r = fitHunks(text, readGeneratedDiff(diff, { truncated: false }).patch.hunks);
    if (r.ok) {
      const rendered = renderUnifiedDiff(splitLines(text), r.edits, { oldPath: 'a/f', newPath: 'b/f' });
      assert.equal(gnuPatch(tmp.dir, text, rendered), r.text, rendered);
    }
    return r;
  }

  it("gives a CRLF file's hunks CRLF line ends", () => {
    const text = 'one\r\ntwo\r\nthree\r\n';
    const r = fit(text, '--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n one\n-two\n+2\n three\n');
    assert.ok(r.ok);
    assert.equal(r.text, 'one\r\n2\r\nthree\r\n');
    assert.deepEqual(r.repairs, ['gave the lines CRLF ends, as the file has']);
  });

  it('marks the last line of a file without a final newline', () => {
    const text = 'a\nb\nc';
    const appended = fit(text, '--- a/f\n+++ b/f\n@@ -2,2 +2,3 @@\n b\n c\n+d\n');
    assert.ok(appended.ok);
    assert.equal(appended.text, 'a\nb\nc\nd\n');
    assert.deepEqual(appended.repairs, ["marked the file's last line as having no newline"]);
    const inserted = fit(text, '--- a/f\n+++ b/f\n@@ -1,3 +1,4 @@\n a\n+x\n b\n c\n');
    assert.ok(inserted.ok);
    assert.equal(inserted.text, 'a\nx\nb\nc');
  });

  it('puts hunks in file order', () => {
    const text = Array.from({ length: 20 }, (_, i) => `l${i + 1}\n`).join('');
    const r = fit(text, '--- a/f\n+++ b/f\n@@ -15 +15 @@\n-l15\n+fifteen\n@@ -2 +2 @@\n-l2\n+two\n');
    assert.ok(r.ok);
    assert.equal(r.text, text.replace('l15\n', 'fifteen\n').replace('l2\n', 'two\n'));
    assert.deepEqual(r.repairs, ['put the hunks in file order']);
  });

  it('reports the hunk that does not fit', () => {
    const r = fit('a\nb\nc\n', '--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+A\n@@ -3 +3 @@\n-zzz\n+c\n');
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.hunk === 1 && /hunk 2 does not match/.test(r.reason));
  });
});
