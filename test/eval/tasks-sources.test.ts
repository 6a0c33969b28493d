import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  applyStopRule,
  buildTaskSets,
  loadGrammar,
  loadStructureParser,
  readSourceTree,
  readTemporalSources,
  stopIndex,
} from '../../eval/index.js';
import { UserError } from '../../common/index.js';

const root = mkdtempSync(join(tmpdir(), 'cf-tasks-'));
after(() => rmSync(root, { recursive: true, force: true }));

function write(dir: string, files: Record<string, string>) {
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
}

function git(dir: string, ...args: string[]) {
  return execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', '-c', 'commit.gpgsign=false', ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, GIT_COMMITTER_DATE: '2024-01-01T00:00:00Z', GIT_AUTHOR_DATE: '2024-01-01T00:00:00Z' },
  });
}

describe('source files', () => {
  it('reads Python, TypeScript and JavaScript files of a plain folder, skipping vendored and hidden ones', () => {
    const dir = join(root, 'plain');
    write(dir, {
      'a.py': 'x = 1\n',
      'sub/b.ts': 'let y = 2;\n',
      'c.mjs': 'export {};\n',
      'README.md': '# hi\n',
      'node_modules/dep/index.js': 'module.exports = 1;\n',
      '.hidden/d.py': 'z = 3\n',
      'build/out.js': 'var q;\n',
      'x.min.js': 'var a=1;\n',
    });
    const tree = readSourceTree(dir);
    assert.equal(tree.git, false);
    assert.deepEqual(
      tree.files.map((f) => [f.path, f.language]),
      [
        ['a.py', 'python'],
        ['c.mjs', 'javascript'],
        ['sub/b.ts', 'typescript'],
      ],
    );
    assert.equal(tree.files[0].text, 'x = 1\n');
  });

  it("takes a git work tree's tracked and unignored files", () => {
    const dir = join(root, 'repo');
    write(dir, { 'a.py': 'x = 1\n', 'gen/c.py': 'y = 2\n', '.gitignore': 'gen/\n' });
    git(dir, 'init', '-q');
    git(dir, 'add', 'a.py', '.gitignore');
    git(dir, 'commit', '-qm', 'one');
    write(dir, { 'new.py': 'z = 3\n' });
    write(dir, { 'sub/s.py': 'w = 4\n' });
    const tree = readSourceTree(dir);
    assert.equal(tree.git, true);
    assert.equal(tree.repoPrefix, '');
    assert.deepEqual(
      tree.files.map((f) => f.path),
      ['a.py', 'new.py', 'sub/s.py'],
    );
    const sub = readSourceTree(join(dir, 'sub'));
    assert.equal(sub.repoPrefix, 'sub/');
    assert.deepEqual(
      sub.files.map((f) => f.path),
      ['s.py'],
    );
  });

  it('refuses a missing folder and a file given as the folder', () => {
    assert.throws(
      () => readSourceTree(join(root, 'nope')),
      (e: unknown) => e instanceof UserError && /no such directory/.test(e.message),
    );
    write(root, { 'f.py': '' });
    assert.throws(
      () => readSourceTree(join(root, 'f.py')),
      (e: unknown) => e instanceof UserError && /not a directory/.test(e.message),
    );
  });
});

describe('temporal sources from git history', () => {
  it('takes the lines that held-out commits added, in the file after the commit', async () => {
    const dir = join(root, 'history');
    write(dir, { 'm.py': 'def f():\n    return 1\n' });
    git(dir, 'init', '-q');
    git(dir, 'add', '.');
    git(dir, 'commit', '-qm', 'first');
    write(dir, { 'm.py': 'def f():\n    x = 2\n    return x\n', 'notes.txt': 'no code\n' });
    git(dir, 'add', '.');
    git(dir, 'commit', '-qm', 'second');
    const history = await readTemporalSources(dir, { holdoutPercent: 50 });
    assert.equal(history.heldoutCommits, 1);
    assert.match(history.cutoffSha ?? '', /^[0-9a-f]{40}$/);
    assert.equal(history.sources.length, 1);
    const [s] = history.sources;
    assert.equal(s.path, 'm.py');
    assert.deepEqual(s.addedLines, [2, 3]);
    const parser = await loadStructureParser(['python'], { treeSitter: false });
    const [set] = buildTaskSets([], parser, { sets: ['temporal'] }, history.sources);
    assert.deepEqual(
      set.tasks.map((t) => [t.middle, t.stop, t.line]),
      [['    x = 2\n    return x', 'block', 2]],
    );
    assert.equal(set.tasks[0].sha, git(dir, 'rev-parse', 'HEAD').trim());
  });
});

describe('tree-sitter grammars', () => {
  it('loads a grammar, or says which wasm file failed and why', async () => {
    const g = await loadGrammar('python');
    if (typeof g === 'string') {
      assert.match(g, /tree-sitter-python\.wasm/);
    } else {
      const parser = await loadStructureParser(['python']);
      assert.equal(parser.source('python'), 'tree-sitter');
      assert.equal(parser.parse('def f():\n    return 1\n', 'python').functions.length, 1);
      parser.release();
    }
  });
});

describe('stop rules', () => {
  it('line: the first line, without its newline', () => {
    assert.equal(stopIndex('abc', 'line'), undefined);
    assert.equal(stopIndex('abc\ndef', 'line'), 3);
    assert.equal(stopIndex('abc\r\ndef', 'line'), 3);
    assert.equal(applyStopRule('abc', 'line'), 'abc');
    assert.equal(applyStopRule('\nabc', 'line'), '');
  });

  it('block: ends at a blank line or a dedent, waits while a line may still grow', () => {
    assert.equal(stopIndex('    a = 1\n    b = 2\n', 'block'), undefined, 'the next line may be indented');
    assert.equal(stopIndex('    a = 1\n    b = 2\n  ', 'block'), undefined, 'two spaces may become four');
    assert.equal(stopIndex('    a = 1\n    b = 2\n  c', 'block'), 19);
    assert.equal(stopIndex('    a = 1\n\n    b', 'block'), 9);
    assert.equal(stopIndex('    a = 1\n   \n', 'block'), 9, 'whitespace-only lines are blank');
    assert.equal(stopIndex('    if x:\n        y\n    z\nw', 'block'), 25);
    assert.equal(applyStopRule('    a = 1\n    b = 2\n  ', 'block'), '    a = 1\n    b = 2');
    assert.equal(applyStopRule('  }\n}', 'block'), '  }');
    assert.equal(applyStopRule('\n    a', 'block'), '');
    assert.equal(applyStopRule('', 'block'), '');
  });

  it('none: never', () => {
    assert.equal(stopIndex('a\n\nb', 'none'), undefined);
    assert.equal(applyStopRule('a\n\nb\n', 'none'), 'a\n\nb\n');
  });
});
