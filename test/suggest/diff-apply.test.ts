// Applying unified diffs: our applyHunks against GNU patch -F0 on real files, crafted cases and
// seeded random ones (edited, then the target file shifted so hunks need offsets or fail).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { applyHunks, parseUnifiedDiff, renderUnifiedDiff, splitLines } from '../../suggest/index.js';
import { applyPatch } from 'diff';
import { Rng } from '../../common/index.js';
import { gitDiff, gnuPatch, tempDir } from '../helpers/diff-tools.js';

const tmp = tempDir('cf-diff-apply-');
after(tmp.cleanup);

/** Ours and GNU patch's result of `diff` on `target` (null: does not apply); they must agree. */
function bothApply(target: string, diff: string): string | null {
  const ours = applyHunks(target, parseUnifiedDiff(diff).hunks);
  const gnu = gnuPatch(tmp.dir, target, diff);
  assert.equal(ours.ok ? ours.text : null, gnu, `ours and GNU patch differ on\n${diff}--- target:\n${target}`);
  if (ours.ok) {
    // Our own rendering of what happened applies exactly, with GNU patch and with us.
    const rendered = renderUnifiedDiff(splitLines(target), ours.edits, { oldPath: 'a/f', newPath: 'b/f' });
    if (ours.text === target) assert.equal(rendered, '');
    else {
      assert.equal(gnuPatch(tmp.dir, target, rendered), ours.text, `rendered diff:\n${rendered}`);
      const again = applyHunks(target, parseUnifiedDiff(rendered).hunks);
      assert.ok(again.ok && again.text === ours.text && again.placed.every((p) => p.offset === 0), rendered);
    }
  }
  return ours.ok ? ours.text : null;
}

const lines = (...ls: string[]) => ls.map((l) => `${l}\n`).join('');
const numbered = (n: number, from = 1) => lines(...Array.from({ length: n }, (_, i) => `line ${from + i}`));

describe('applyHunks agrees with GNU patch -F0', () => {
  it('applies a multi-hunk diff where it was made', () => {
    const before = numbered(40);
    const after = before.replace('line 3\n', 'line three\n').replace('line 20\n', '').replace('line 38\n', 'line 38\nextra\n');
    const diff = gitDiff(tmp.dir, before, after);
    assert.equal(parseUnifiedDiff(diff).hunks.length, 3);
    assert.equal(bothApply(before, diff), after);
  });

  it("finds hunks moved down or up (offsets), each hunk starting from the previous one's offset", () => {
    const before = numbered(40);
    const after = before.replace('line 10\n', 'ten\n').replace('line 30\n', 'thirty\n');
    const diff = gitDiff(tmp.dir, before, after);
    const down = lines('new a', 'new b', 'new c') + before;
    assert.equal(bothApply(down, diff), lines('new a', 'new b', 'new c') + after);
    const up = before.replace('line 1\nline 2\nline 3\nline 4\n', '');
    assert.equal(bothApply(up, diff), after.replace('line 1\nline 2\nline 3\nline 4\n', ''));
    const between = before.replace('line 20\n', 'line 20\nin\nbetween\n');
    assert.equal(bothApply(between, diff), after.replace('line 20\n', 'line 20\nin\nbetween\n'));
    const placed = applyHunks(between, parseUnifiedDiff(diff).hunks);
    assert.ok(placed.ok);
    assert.deepEqual(
      placed.placed.map((p) => p.offset),
      [0, 2],
    );
  });

  it('takes the nearest of two equal places, below first on a tie', () => {
    const block = lines('a', 'b', 'c', 'd', 'e', 'f', 'g');
    const before = lines('x1', 'x2', 'x3') + block + lines('y1', 'y2', 'y3');
    const after = before.replace('d\n', 'D\n');
    const diff = gitDiff(tmp.dir, before, after);
    const target = block + lines('m1', 'm2', 'm3') + block;
    const result = bothApply(target, diff);
    assert.equal(result, block.replace('d\n', 'D\n') + lines('m1', 'm2', 'm3') + block);
  });

  it('fails where the context is gone, and for hunks out of order', () => {
    const before = numbered(20);
    const diff = gitDiff(tmp.dir, before, before.replace('line 10\n', 'ten\n'));
    assert.equal(bothApply(before.replace('line 9\n', 'nine\n'), diff), null);
    const two = gitDiff(tmp.dir, before, before.replace('line 2\n', 'two\n').replace('line 18\n', 'eighteen\n'));
    const [head, h1, h2] = two.split(/^(?=@@)/m);
    assert.equal(bothApply(before, head + h2 + h1), null);
  });

  it('anchors a hunk with less context after than before at the end of the file', () => {
    const before = lines('a', 'b', 'c', 'tail1', 'tail2', 'tail3');
    const after = `${before}added\n`;
    const diff = gitDiff(tmp.dir, before, after);
    // The same three lines earlier in the file do not count: the hunk must end the file.
    const target = lines('tail1', 'tail2', 'tail3', 'more') + before;
    assert.equal(bothApply(target, diff), `${target}added\n`);
    assert.equal(bothApply(`${before}not the end\n`, diff), null);
  });

  it('anchors a hunk at line 1 with less context before than after at the start of the file', () => {
    const before = lines('a', 'b', 'c', 'd', 'e');
    const diff = gitDiff(tmp.dir, before, `first\n${before}`);
    assert.equal(bothApply(before, diff), `first\n${before}`);
    assert.equal(bothApply(`header\n${before}`, diff), null);
  });

  it('handles files without a final newline', () => {
    const noEol = 'a\nb\nc';
    assert.equal(bothApply(noEol, gitDiff(tmp.dir, noEol, 'a\nb\nc\n')), 'a\nb\nc\n');
    assert.equal(bothApply('a\nb\nc\n', gitDiff(tmp.dir, 'a\nb\nc\n', noEol)), noEol);
    assert.equal(bothApply(noEol, gitDiff(tmp.dir, noEol, 'a\nb\nc\nd')), 'a\nb\nc\nd');
    assert.equal(bothApply(noEol, gitDiff(tmp.dir, noEol, 'A\nb\nc')), 'A\nb\nc');
    // A diff made for the file with a final newline does not match it without one.
    assert.equal(bothApply(noEol, gitDiff(tmp.dir, 'a\nb\nc\n', 'a\nb\nc\nd\n')), null);
  });

  it('handles CRLF files', () => {
    const crlf = 'one\r\ntwo\r\nthree\r\nfour\r\n';
    const after = 'one\r\n2\r\nthree\r\nfour\r\nfive\r\n';
    const diff = gitDiff(tmp.dir, crlf, after);
    assert.match(diff, /^-two\r$/m);
    assert.equal(bothApply(crlf, diff), after);
    assert.equal(bothApply(crlf.replace(/\r\n/g, '\n'), diff), null);
  });

  it('handles pure insertions without context (-U0), new files and emptied files', () => {
    const before = numbered(8);
    const after = before.replace('line 5\n', 'line 5\nnew\n');
    const diff = gitDiff(tmp.dir, before, after, 0);
    assert.match(diff, /^@@ -5,0 \+6 @@/m);
    assert.equal(bothApply(before, diff), after);
    assert.equal(bothApply('', gitDiff(tmp.dir, '', 'x\ny\n')), 'x\ny\n');
    assert.equal(bothApply('x\ny\n', gitDiff(tmp.dir, 'x\ny\n', '')), '');
  });

  it('agrees on seeded random edits, contexts 0-3, with the target shifted by random lines', () => {
    const rng = new Rng(20240601);
    const pick = <T>(xs: readonly T[]) => xs[rng.int(xs.length)];
    const words = ['a', 'b', 'c', 'd', 'x = 1', '', '    return y', '}'];
    const randomLines = (n: number) => Array.from({ length: n }, () => pick(words));
    const join = (ls: string[], eol: string, finalNewline: boolean) => (ls.length ? ls.join(eol) + (finalNewline ? eol : '') : '');
    let applied = 0;
    let failed = 0;
    let jsdiffDiffers = 0;
    for (let t = 0; t < 80; t++) {
      const eol = rng.int(6) === 0 ? '\r\n' : '\n';
      const old = randomLines(rng.int(25));
      const neu = [...old];
      for (let e = 1 + rng.int(3); e > 0; e--) {
        const at = rng.int(neu.length + 1);
        const kind = rng.int(3);
        if (kind === 0 && at < neu.length) neu.splice(at, 1);
        else if (kind === 1 && at < neu.length) neu[at] = `${pick(words)}!`;
        else neu.splice(at, 0, ...randomLines(1 + rng.int(3)));
      }
      const oldEnd = rng.int(5) > 0;
      const before = join(old, eol, oldEnd);
      const after = join(neu, eol, rng.int(5) > 0 ? true : oldEnd);
      if (before === after) continue;
      const diff = gitDiff(tmp.dir, before, after, rng.int(4));
      const target = [...old];
      for (let s = rng.int(4); s > 0; s--) {
        const at = rng.int(target.length + 1);
        if (rng.int(2) && at < target.length) target.splice(at, 1);
        else target.splice(at, 0, pick(words));
      }
      const r = bothApply(join(target, eol, oldEnd), diff);
      const jsdiff = applyPatch(join(target, eol, oldEnd), diff, { fuzzFactor: 0 });
      if ((jsdiff === false ? null : jsdiff) !== r) jsdiffDiffers++;
      if (r === null) failed++;
      else applied++;
    }
    // Both outcomes are exercised.
    assert.ok(applied > 30 && failed > 10, `applied ${applied}, failed ${failed}`);
    // Why applyHunks is ours and not jsdiff's applyPatch: on the same cases jsdiff places hunks
    // where GNU patch -F0 (what a user applies a suggestion with) would not, or refuses ones it takes.
    assert.ok(jsdiffDiffers > 0, 'jsdiff applyPatch agrees with GNU patch on every case: switch to it');
  });
});
