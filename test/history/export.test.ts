import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UserError } from '../../common/index.js';
import { command as history } from '../../cli/commands/history.js';
import { ScriptedRepo } from '../helpers/scripted-repo.js';

const BIN = resolve('bin/codefudge.js');

function cli(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function readJsonl(path: string): Array<Record<string, unknown>> {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** What `datasets` needs of a JSON-lines file: every row the same keys, each key one JSON type. */
function assertUniform(rows: Array<Record<string, unknown>>): void {
  const keys = Object.keys(rows[0]).join(',');
  const types = rows[0] && Object.fromEntries(Object.entries(rows[0]).map(([k, v]) => [k, Array.isArray(v) ? 'array' : typeof v]));
  for (const row of rows) {
    assert.equal(Object.keys(row).join(','), keys);
    for (const [k, v] of Object.entries(row)) assert.equal(Array.isArray(v) ? 'array' : typeof v, types[k], k);
  }
}

describe('codefudge history export', () => {
  let r: ScriptedRepo;
  let out: string;
  const shas: string[] = [];
  before(() => {
    r = new ScriptedRepo();
    out = mkdtempSync(join(tmpdir(), 'cf-export-'));
    r.write('README.md', '# tool\n').write('src/tool.py', 'def run():\n    return 1\n').write('vendor/dep.py', 'X = 1\n');
    shas.push(r.commit('Start'));
    r.write('src/tool.py', 'def run():\n    return 2\n').write('tests/test_tool.py', 'from src.tool import run\n\nassert run() == 2\n');
    shas.push(r.commit('Return two\n\nBecause two is better.'));
    r.write('src/extra.py', 'def extra():\n    return "later"\n');
    shas.push(r.commit('Add extra'));
  });
  after(() => {
    r?.cleanup();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  test('writes training rows and held-out rows as uniform JSON lines, atomically, with a one-line summary', () => {
    const target = join(out, 'sub', 'data.jsonl');
    const res = cli('history', 'export', r.dir, '--out', target, '--holdout', '33%', '--seed', '5');
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stderr, '');
    const lines = res.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    assert.match(
      lines[0],
      /^3 commits \(2 train through [0-9a-f]{7} 2024-01-02T12:00:00\+00:00, 1 held out\), 4 code file changes, 2 files skipped; \d+ fim \+ 3 commit-diff examples -> .*data\.jsonl; 1 held-out changes -> .*data\.heldout\.jsonl$/,
    );
    const train = readJsonl(target);
    assertUniform(train);
    assert.deepEqual(Object.keys(train[0]), [
      'split',
      'kind',
      'sha',
      'date',
      'path',
      'oldPath',
      'status',
      'message',
      'before',
      'diff',
      'blob',
      'prefix',
      'middle',
      'suffix',
      'mode',
      'span',
    ]);
    assert.ok(train.every((row) => row.split === 'train'));
    const diffs = train.filter((row) => row.kind === 'commit-diff');
    assert.deepEqual(
      diffs.map((d) => [d.sha, d.status, d.path]),
      [
        [shas[0], 'A', 'src/tool.py'],
        [shas[1], 'M', 'src/tool.py'],
        [shas[1], 'A', 'tests/test_tool.py'],
      ],
    );
    assert.deepEqual(diffs[1], {
      split: 'train',
      kind: 'commit-diff',
      sha: shas[1],
      date: '2024-01-02T12:00:00+00:00',
      path: 'src/tool.py',
      oldPath: 'src/tool.py',
      status: 'M',
      message: 'Return two\n\nBecause two is better.',
      before: 'def run():\n    return 1\n',
      diff: '--- a/src/tool.py\n+++ b/src/tool.py\n@@ -1,2 +1,2 @@\n def run():\n-    return 1\n+    return 2\n',
      blob: '',
      prefix: '',
      middle: '',
      suffix: '',
      mode: '',
      span: '',
    });
    const fims = train.filter((row) => row.kind === 'fim');
    assert.ok(fims.length >= 2);
    assert.deepEqual([...new Set(fims.map((f) => f.path))].sort(), ['src/tool.py', 'tests/test_tool.py']);
    for (const f of fims) assert.equal(`${f.prefix}${f.middle}${f.suffix}`, r.git('show', `${shas[1]}:${f.path}`));
    const held = readJsonl(join(out, 'sub', 'data.heldout.jsonl'));
    assert.deepEqual(held, [
      {
        split: 'heldout',
        kind: 'temporal',
        sha: shas[2],
        date: '2024-01-03T12:00:00+00:00',
        path: 'src/extra.py',
        oldPath: '',
        status: 'A',
        message: 'Add extra',
        before: '',
        after: 'def extra():\n    return "later"\n',
        diff: '--- /dev/null\n+++ b/src/extra.py\n@@ -0,0 +1,2 @@\n+def extra():\n+    return "later"\n',
        addedLines: [1, 2],
      },
    ]);
    assert.deepEqual(readdirSync(join(out, 'sub')).sort(), ['data.heldout.jsonl', 'data.jsonl'], 'no temporary files left');
    // Same seed, same bytes; another seed, other spans.
    const again = join(out, 'again.jsonl');
    assert.equal(cli('history', 'export', r.dir, '--out', again, '--holdout', '33%', '--seed', '5').code, 0);
    assert.equal(readFileSync(again, 'utf8'), readFileSync(target, 'utf8'));
    assert.equal(cli('history', 'export', r.dir, '--out', again, '--holdout', '33%', '--seed', '6').code, 0);
    assert.notEqual(readFileSync(again, 'utf8'), readFileSync(target, 'utf8'));
  });

  test('options: repeated globs, a cutoff date, the size limit', () => {
    const target = join(out, 'opts.jsonl');
    const res = cli(
      'history',
      'export',
      r.dir,
      '--out',
      target,
      '--cutoff',
      '2024-01-02',
      '--include',
      '*.md',
      '--include',
      'src/**',
      '--exclude',
      'src/extra.py',
      '--quiet',
    );
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^3 commits \(1 train through [0-9a-f]{7} 2024-01-01T12:00:00\+00:00, 2 held out\)/);
    const train = readJsonl(target);
    assert.deepEqual([...new Set(train.map((row) => row.path))].sort(), ['README.md', 'src/tool.py']);
    assert.deepEqual(
      readJsonl(join(out, 'opts.heldout.jsonl')).map((row) => row.path),
      ['src/tool.py'],
    );
    const small = cli('history', 'export', r.dir, '--out', target, '--max-file-bytes', '10');
    assert.equal(small.code, 1);
    assert.match(small.stderr, /^codefudge: no code files in .* \(every file was skipped by the filters: .*too-large.*\)\n$/);
  });

  test('bad input: one clear line each, nothing written', async () => {
    const target = join(out, 'bad.jsonl');
    writeFileSync(target, 'old\n');
    const empty = new ScriptedRepo();
    const docs = new ScriptedRepo();
    const notRepo = mkdtempSync(join(tmpdir(), 'cf-plain-'));
    try {
      docs.write('README.md', 'text\n').write('notes.txt', 'more\n').commit('docs only');
      const blocked = join(out, 'a-file');
      writeFileSync(blocked, '');
      const cases: Array<[string[], RegExp]> = [
        [[notRepo, '--out', target], /^not a git repository: /],
        [[join(notRepo, 'missing'), '--out', target], /^no such directory: /],
        [[empty.dir, '--out', target], /^repository has no commits: /],
        [[docs.dir, '--out', target], /^no code files in .*: 2 not-code\)$/],
        [[r.dir, '--out', target, '--cutoff', 'soon'], /^--cutoff must be a date/],
        [[r.dir, '--out', target, '--cutoff', '2024-01-01', '--holdout', '5%'], /^give --cutoff or --holdout, not both$/],
        [[r.dir, '--out', target, '--rev', 'nope'], /^no commit "nope" in /],
        [[r.dir, '--out', target, '--fim-revisions', 'all'], /^--fim-revisions must be cutoff or each/],
        [[r.dir, '--out', target, '--bogus', '1'], /^unknown option --bogus$/],
        [[r.dir], /^history export needs --out FILE.jsonl$/],
        [
          [r.dir, '--out', join(blocked, 'data.jsonl')],
          /^cannot write to output folder .*a-file: a part of the path is a file, not a folder$/,
        ],
      ];
      for (const [args, message] of cases) {
        await assert.rejects(
          history.run(['export', ...args]),
          (e: unknown) => e instanceof UserError && message.test(e.message) && !e.message.includes('\n'),
          args.join(' '),
        );
        assert.equal(readFileSync(target, 'utf8'), 'old\n', 'the old output is untouched');
      }
      assert.deepEqual(
        readdirSync(out).filter((n) => n.includes('.tmp')),
        [],
        'no temporary files left',
      );
      // What the user sees: one line on stderr, exit status 1.
      const res = cli('history', 'export', notRepo, '--out', target);
      assert.deepEqual([res.code, res.stdout, res.stderr], [1, '', `codefudge: not a git repository: ${notRepo}\n`]);
    } finally {
      empty.cleanup();
      docs.cleanup();
      rmSync(notRepo, { recursive: true, force: true });
    }
  });

  test("never runs the repository's code: textconv, external diff and fsmonitor programs stay unused", () => {
    const evil = new ScriptedRepo();
    const tools = mkdtempSync(join(tmpdir(), 'cf-tools-'));
    try {
      const marker = join(tools, 'ran');
      const script = join(tools, 'evil.sh');
      writeFileSync(script, `#!/bin/sh\ntouch '${marker}'\necho EVIL\n`);
      chmodSync(script, 0o755);
      evil.write('.gitattributes', '*.py diff=evil\n').write('a.py', 'A = 1\n').commit('one');
      evil.write('a.py', 'A = 2\n').commit('two');
      for (const [k, v] of [
        ['diff.evil.textconv', script],
        ['diff.evil.command', script],
        ['diff.external', script],
        ['core.fsmonitor', script],
        ['core.hooksPath', tools],
      ]) {
        evil.git('config', k, v);
      }
      for (const hook of ['post-checkout', 'pre-commit', 'post-index-change', 'reference-transaction']) {
        writeFileSync(join(tools, hook), `#!/bin/sh\ntouch '${marker}'\n`);
        chmodSync(join(tools, hook), 0o755);
      }
      const target = join(tools, 'out.jsonl');
      const res = cli('history', 'export', evil.dir, '--out', target, '--holdout', '0%');
      assert.equal(res.code, 0, res.stderr);
      assert.equal(existsSync(marker), false, 'a repository program ran');
      const diffs = readJsonl(target)
        .filter((row) => row.kind === 'commit-diff')
        .map((row) => row.diff);
      assert.deepEqual(diffs, [
        '--- /dev/null\n+++ b/a.py\n@@ -0,0 +1 @@\n+A = 1\n',
        '--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-A = 1\n+A = 2\n',
      ]);
    } finally {
      evil.cleanup();
      rmSync(tools, { recursive: true, force: true });
    }
  });
});
