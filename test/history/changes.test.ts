import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  collectExamples,
  listCommits,
  openRepository,
  readChanges,
  readSnapshot,
  type CommitChanges,
  type CommitInfo,
  type HistoryRepository,
} from '../../history/index.js';
import { ScriptedRepo } from '../helpers/scripted-repo.js';

const latin1 = (s: string) => Buffer.from(s, 'latin1');
const APP_1 = 'def add(a, b):\n    return a + b\n';
const APP_2 = APP_1 + '\n\ndef sub(a, b):\n    return a - b\n';
const CALC = APP_2 + '\n\ndef mul(a, b):\n    return a * b\n';

/**
 * The repository every test here reads:
 *  1 Add app      a rename source, a latin1 file, and one of each kind of file the filters drop
 *  2 Add sub      an edit; a binary change; a file binary by attribute
 *  3 Rename...    src/app.py -> src/calc.py with an edit
 *  4 Nothing      empty
 *  5 Add feature  (branch side)
 *  6 Add util
 *  7 Merge side   --no-ff merge of side
 *  8 Accent       latin1 edit, a deletion, a copy of calc.py (same blob)
 */
function script(r: ScriptedRepo): void {
  r.write('.gitattributes', 'gen/** linguist-generated\nvendor/keep.js -linguist-vendored\nsrc/blob.py binary\n')
    .write('README.md', '# demo\n')
    .write('big.py', 'x = 1\n'.repeat(170_000))
    .write('dist/app.min.js', 'var a=1;\n')
    .write('gen/parser.py', 'PARSER = 1\n')
    .write('latin.py', latin1("s = 'caf\xe9'\n"))
    .write('package-lock.json', '{}\n')
    .write('src/app.py', APP_1)
    .write('src/table.c', Buffer.from('int t[] = {1};\n\0\0\x01'))
    .write('vendor/keep.js', 'keep();\n')
    .write('vendor/lib.js', 'module.exports = 1;\n')
    .commit('Add app\n\nFirst body line.\nSecond body line.');
  r.write('src/app.py', APP_2)
    .write('src/table.c', Buffer.from('int t[] = {2};\n\0\0\x02'))
    .write('src/blob.py', 'B = 1\n')
    .commit('Add sub');
  r.git('mv', 'src/app.py', 'src/calc.py');
  r.write('src/calc.py', CALC).commit('Rename app to calc');
  r.commit('Nothing');
  r.git('checkout', '-q', '-b', 'side');
  r.write('src/feature.py', 'FEATURE = True\n').commit('Add feature');
  r.git('checkout', '-q', 'main');
  r.write('src/util.py', 'def util():\n    pass\n').commit('Add util');
  r.merge('side', 'Merge side');
  r.write('latin.py', latin1("s = 'caf\xe9'\nt = '\xe0 la'\n")).remove('src/util.py').write('src/calc_copy.py', CALC).commit('Accent');
}

describe('reading a scripted repository', () => {
  let r: ScriptedRepo;
  let repo: HistoryRepository;
  let commits: CommitInfo[];
  const changes = new Map<string, CommitChanges>();
  const bySubject = (s: string) => {
    const c = changes.get(s);
    assert.ok(c, `no commit "${s}"`);
    return c;
  };

  before(async () => {
    r = new ScriptedRepo();
    script(r);
    repo = await openRepository(r.dir);
    commits = await listCommits(repo);
    for (const c of commits) changes.set(c.subject, await readChanges(repo, c));
  });
  after(() => {
    repo?.close();
    r?.cleanup();
  });

  test('first-parent walk, oldest first, with messages and dates', () => {
    assert.deepEqual(
      commits.map((c) => c.subject),
      ['Add app', 'Add sub', 'Rename app to calc', 'Nothing', 'Add util', 'Merge side', 'Accent'],
    );
    const first = commits[0];
    assert.equal(first.body, 'First body line.\nSecond body line.');
    assert.equal(first.message, 'Add app\n\nFirst body line.\nSecond body line.');
    assert.equal(first.author.date, '2024-01-01T12:00:00+00:00');
    assert.equal(first.author.name, 'Test Author');
    assert.equal(first.author.email, 'author@example.com');
    assert.equal(first.committer.time, Date.UTC(2024, 0, 1, 12) / 1000);
    assert.deepEqual(first.parents, []);
    assert.equal(commits[5].parents.length, 2);
    assert.equal(commits[5].parents[0], commits[4].sha);
    for (let i = 1; i < commits.length; i++) assert.equal(commits[i].parents[0], commits[i - 1].sha);
  });

  test('root commit: added code files against the empty tree, every other file skipped with its reason', () => {
    const c = bySubject('Add app');
    assert.equal(c.base, '4b825dc642cb6eb9a060e54bf8d69288fbee4904');
    assert.deepEqual(c.skipped, [
      { path: '.gitattributes', status: 'A', reason: 'not-code' },
      { path: 'README.md', status: 'A', reason: 'not-code' },
      { path: 'big.py', status: 'A', reason: 'too-large' },
      { path: 'dist/app.min.js', status: 'A', reason: 'vendored' },
      { path: 'gen/parser.py', status: 'A', reason: 'generated' },
      { path: 'package-lock.json', status: 'A', reason: 'lockfile' },
      { path: 'src/table.c', status: 'A', reason: 'binary' },
      { path: 'vendor/lib.js', status: 'A', reason: 'vendored' },
    ]);
    assert.deepEqual(
      c.files.map((f) => [f.status, f.path, f.oldPath, f.newPath, f.before]),
      [
        ['A', 'latin.py', null, 'latin.py', ''],
        ['A', 'src/app.py', null, 'src/app.py', ''],
        // linguist-vendored unset by .gitattributes overrides the vendor/ default
        ['A', 'vendor/keep.js', null, 'vendor/keep.js', ''],
      ],
    );
    const [latin, app] = c.files;
    assert.equal(latin.after, "s = 'café'\n");
    assert.equal(latin.diff, "--- /dev/null\n+++ b/latin.py\n@@ -0,0 +1 @@\n+s = 'café'\n");
    assert.deepEqual(latin.addedLines, [1]);
    assert.equal(app.after, APP_1);
    assert.equal(app.diff, '--- /dev/null\n+++ b/src/app.py\n@@ -0,0 +1,2 @@\n+def add(a, b):\n+    return a + b\n');
    assert.deepEqual(app.addedLines, [1, 2]);
    assert.equal(app.oldBlob, null);
    assert.equal(app.newBlob, r.git('rev-parse', `${c.commit.sha}:src/app.py`).trim());
  });

  test('an edit: before, after and the exact diff; binary files by content and by attribute are skipped', () => {
    const c = bySubject('Add sub');
    assert.deepEqual(c.skipped, [
      { path: 'src/blob.py', status: 'A', reason: 'binary' },
      { path: 'src/table.c', status: 'M', reason: 'binary' },
    ]);
    assert.equal(c.files.length, 1);
    const f = c.files[0];
    assert.deepEqual([f.status, f.path, f.oldPath, f.newPath], ['M', 'src/app.py', 'src/app.py', 'src/app.py']);
    assert.equal(f.before, APP_1);
    assert.equal(f.after, APP_2);
    assert.equal(
      f.diff,
      '--- a/src/app.py\n+++ b/src/app.py\n@@ -1,2 +1,6 @@\n def add(a, b):\n     return a + b\n+\n+\n+def sub(a, b):\n+    return a - b\n',
    );
    assert.deepEqual(f.addedLines, [3, 4, 5, 6]);
  });

  test('a rename with an edit is one R change from the old path to the new', () => {
    const c = bySubject('Rename app to calc');
    assert.deepEqual(c.skipped, []);
    assert.equal(c.files.length, 1);
    const f = c.files[0];
    assert.deepEqual([f.status, f.path, f.oldPath, f.newPath, f.similarity], ['R', 'src/calc.py', 'src/app.py', 'src/calc.py', 66]);
    assert.equal(f.before, APP_2);
    assert.equal(f.after, CALC);
    assert.equal(
      f.diff,
      '--- a/src/app.py\n+++ b/src/calc.py\n@@ -4,3 +4,7 @@ def add(a, b):\n \n def sub(a, b):\n     return a - b\n+\n+\n+def mul(a, b):\n+    return a * b\n',
    );
    assert.deepEqual(f.addedLines, [7, 8, 9, 10]);
    const lines = f.after.split('\n');
    assert.deepEqual(
      f.addedLines.map((n) => lines[n - 1]),
      ['', '', 'def mul(a, b):', '    return a * b'],
    );
  });

  test('an empty commit has no files', () => {
    const c = bySubject('Nothing');
    assert.deepEqual([c.files, c.skipped], [[], []]);
  });

  test('a merge is diffed against its first parent: the side branch arrives as one change', () => {
    const c = bySubject('Merge side');
    assert.equal(c.base, c.commit.parents[0]);
    assert.deepEqual(
      c.files.map((f) => [f.status, f.path, f.diff]),
      [['A', 'src/feature.py', '--- /dev/null\n+++ b/src/feature.py\n@@ -0,0 +1 @@\n+FEATURE = True\n']],
    );
  });

  test('a latin1 edit decodes before, after and the diff the same way; a deletion has an empty after', () => {
    const c = bySubject('Accent');
    assert.deepEqual(
      c.files.map((f) => [f.status, f.path]),
      [
        ['M', 'latin.py'],
        ['A', 'src/calc_copy.py'],
        ['D', 'src/util.py'],
      ],
    );
    const [latin, , util] = c.files;
    assert.equal(latin.before, "s = 'café'\n");
    assert.equal(latin.after, "s = 'café'\nt = 'à la'\n");
    assert.equal(latin.diff, "--- a/latin.py\n+++ b/latin.py\n@@ -1 +1,2 @@\n s = 'café'\n+t = 'à la'\n");
    assert.deepEqual(latin.addedLines, [2]);
    assert.deepEqual([util.before, util.after, util.newPath, util.newBlob], ['def util():\n    pass\n', '', null, null]);
    assert.equal(util.diff, '--- a/src/util.py\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-def util():\n-    pass\n');
    assert.deepEqual(util.addedLines, []);
  });

  test('the diff context is configurable', async () => {
    const c = await readChanges(repo, commits[2], { diffContext: 0 });
    assert.equal(
      c.files[0].diff,
      '--- a/src/app.py\n+++ b/src/calc.py\n@@ -6,0 +7,4 @@ def sub(a, b):\n+\n+\n+def mul(a, b):\n+    return a * b\n',
    );
  });

  test('include/exclude globs and the size limit are options', async () => {
    const c = await readChanges(repo, commits[0], { include: ['*.md', 'src/**'], exclude: ['src/table.c'], maxFileBytes: 2_000_000 });
    assert.deepEqual(
      c.files.map((f) => f.path),
      ['README.md', 'src/app.py'],
    );
    assert.deepEqual(
      c.skipped.map((s) => [s.path, s.reason]),
      [
        ['.gitattributes', 'excluded'],
        ['big.py', 'excluded'],
        ['dist/app.min.js', 'vendored'],
        ['gen/parser.py', 'generated'],
        ['latin.py', 'excluded'],
        ['package-lock.json', 'lockfile'],
        ['src/table.c', 'excluded'],
        ['vendor/keep.js', 'excluded'],
        ['vendor/lib.js', 'vendored'],
      ],
    );
    const big = await readChanges(repo, commits[0], { maxFileBytes: 2_000_000 });
    assert.ok(big.files.some((f) => f.path === 'big.py' && f.after.length === 1_020_000));
  });

  test('all parents: the side commit is walked and the merge adds nothing of its own', async () => {
    const all = await listCommits(repo, { allParents: true });
    assert.deepEqual(
      all.map((c) => c.subject),
      ['Add app', 'Add sub', 'Rename app to calc', 'Nothing', 'Add feature', 'Add util', 'Merge side', 'Accent'],
    );
    const merge = await readChanges(repo, all[6], { allParents: true });
    assert.deepEqual(merge.files, []);
    const side = await readChanges(repo, all[4], { allParents: true });
    assert.deepEqual(
      side.files.map((f) => [f.status, f.path]),
      [['A', 'src/feature.py']],
    );
  });

  test('a snapshot holds the code files of a revision, identical blobs once', async () => {
    const snap = await readSnapshot(repo, commits[6].sha);
    assert.deepEqual(
      snap.files.map((f) => [f.path, f.text]),
      [
        ['latin.py', "s = 'café'\nt = 'à la'\n"],
        ['src/calc.py', CALC],
        ['src/feature.py', 'FEATURE = True\n'],
        ['vendor/keep.js', 'keep();\n'],
      ],
    );
    assert.deepEqual(
      snap.skipped.map((s) => [s.path, s.reason]),
      [
        ['.gitattributes', 'not-code'],
        ['README.md', 'not-code'],
        ['big.py', 'too-large'],
        ['dist/app.min.js', 'vendored'],
        ['gen/parser.py', 'generated'],
        ['package-lock.json', 'lockfile'],
        ['src/blob.py', 'binary'],
        ['src/table.c', 'binary'],
        ['vendor/lib.js', 'vendored'],
      ],
    );
  });

  test('examples: commit->diff from training commits, FIM from the cutoff snapshot, temporal items from held-out ones', async () => {
    const data = await collectExamples(repo, { split: { holdoutPercent: 10 }, seed: 3 });
    const s = data.stats;
    assert.deepEqual([s.commits, s.trainCommits, s.heldoutCommits, s.cutoffSha], [7, 6, 1, commits[5].sha]);
    assert.deepEqual(
      data.train.commitDiff.map((e) => [e.sha, e.status, e.path, e.oldPath]),
      [
        [commits[0].sha, 'A', 'latin.py', null],
        [commits[0].sha, 'A', 'src/app.py', null],
        [commits[0].sha, 'A', 'vendor/keep.js', null],
        [commits[1].sha, 'M', 'src/app.py', 'src/app.py'],
        [commits[2].sha, 'R', 'src/calc.py', 'src/app.py'],
        [commits[4].sha, 'A', 'src/util.py', null],
        [commits[5].sha, 'A', 'src/feature.py', null],
      ],
    );
    assert.deepEqual(data.train.commitDiff[4], {
      kind: 'commit-diff',
      split: 'train',
      sha: commits[2].sha,
      date: '2024-01-03T12:00:00+00:00',
      message: 'Rename app to calc',
      path: 'src/calc.py',
      oldPath: 'src/app.py',
      status: 'R',
      before: APP_2,
      diff: '--- a/src/app.py\n+++ b/src/calc.py\n@@ -4,3 +4,7 @@ def add(a, b):\n \n def sub(a, b):\n     return a - b\n+\n+\n+def mul(a, b):\n+    return a * b\n',
    });
    // FIM files: the tree of the cutoff commit (Merge side), before the Accent commit.
    const fimFiles = [...new Set(data.train.fim.map((e) => `${e.sha}:${e.path}`))];
    assert.deepEqual(
      fimFiles.sort(),
      ['latin.py', 'src/calc.py', 'src/feature.py', 'src/util.py', 'vendor/keep.js'].map((p) => `${commits[5].sha}:${p}`),
    );
    for (const e of data.train.fim) {
      const text = r.git('show', `${e.sha}:${e.path}`);
      if (e.path !== 'latin.py') assert.equal(e.prefix + e.middle + e.suffix, text);
    }
    assert.deepEqual(
      data.heldout.map((t) => [t.sha, t.status, t.path, t.addedLines]),
      [
        [commits[6].sha, 'M', 'latin.py', [2]],
        [commits[6].sha, 'A', 'src/calc_copy.py', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]],
      ],
    );
    assert.equal(data.heldout[0].after, "s = 'café'\nt = 'à la'\n");
    assert.equal(data.heldout[0].before, "s = 'café'\n");
    assert.equal(data.heldout[0].message, 'Accent');
    assert.deepEqual([s.fimFiles, s.examples.fim, s.examples.commitDiff, s.examples.temporal], [5, data.train.fim.length, 7, 2]);
    assert.ok(data.train.fim.length >= 5);
  });
});

describe('a sha256 repository', () => {
  test('opens with its hash: the root commit is diffed against the sha256 empty tree', async () => {
    const sha = new ScriptedRepo('cf-history-sha256-', 'sha256');
    try {
      sha.write('a.py', APP_1).commit('Add a');
      const r = await openRepository(sha.dir);
      try {
        assert.equal(r.head.length, 64);
        assert.equal(r.emptyTree, '6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321');
        const [root] = await listCommits(r);
        const c = await readChanges(r, root);
        assert.deepEqual(
          c.files.map((f) => [f.status, f.path, f.after]),
          [['A', 'a.py', APP_1]],
        );
      } finally {
        await r.close();
      }
    } finally {
      sha.cleanup();
    }
  });
});
