import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGlob, decodeText, looksBinary, openRepository } from '../../history/index.js';
import { ScriptedRepo } from '../helpers/scripted-repo.js';

test('user globs: basename patterns at any depth, anchored patterns, **, classes, braces, directories', () => {
  const cases: Array<[string, string, boolean]> = [
    ['*.ts', 'a/b/c.ts', true],
    ['*.ts', 'a/b/c.tsx', false],
    ['src/**', 'src/a/b.ts', true],
    ['src/**', 'lib/src/x.ts', false],
    ['/src/*.ts', 'src/x.ts', true],
    ['src/*.ts', 'src/a/x.ts', false],
    ['**/test/*.py', 'test/a.py', true],
    ['**/test/*.py', 'x/y/test/a.py', true],
    ['a/**/b.js', 'a/b.js', true],
    ['a/**/b.js', 'a/x/y/b.js', true],
    ['vendor/', 'deep/vendor/x.js', true],
    ['vendor/', 'vendor.js', false],
    ['fixtures', 'test/fixtures/a.py', true],
    ['fixtures', 'test/fixtures2/a.py', false],
    ['{lib,src}/*.js', 'src/a.js', true],
    ['{lib,src}/*.js', 'test/a.js', false],
    ['[!a]*.py', 'b.py', true],
    ['[!a]*.py', 'a.py', false],
    ['[[:digit:]]*.go', '9lives.go', true],
    ['file?.c', 'file1.c', true],
    ['file?.c', 'file/.c', false],
    ['\\*.c', '*.c', true],
    ['\\*.c', 'x.c', false],
  ];
  for (const [pattern, path, expected] of cases) {
    assert.equal(compileGlob(pattern, { braces: true, matchContents: true })(path), expected, `${pattern} ~ ${path}`);
  }
});

/** `git check-attr` on the work tree is the reference for our reading of .gitattributes at a revision. */
test('attributes at a revision agree with git check-attr', async () => {
  const r = new ScriptedRepo();
  try {
    r.write(
      '.gitattributes',
      [
        '# comment',
        'gen/** linguist-generated',
        '*.pb.py linguist-generated=true',
        'docs/ linguist-documentation',
        'third/** linguist-vendored',
        'third/own/** -linguist-vendored',
        '/top.py custom=top',
        'lib/*.py custom=lib',
        '"with space.py" spaced',
        'data/*.bin binary',
        '*.keep !custom',
        '',
      ].join('\n'),
    )
      .write('lib/.gitattributes', 'x.py custom=deeper\n*.py -linguist-generated\n')
      .write('placeholder.py', '')
      .commit('attrs');
    const paths = [
      'gen/a.py',
      'gen/sub/b.py',
      'x/gen/c.py',
      'm.pb.py',
      'deep/m.pb.py',
      'docs/readme.py',
      'third/lib.js',
      'third/own/mine.js',
      'top.py',
      'sub/top.py',
      'lib/x.py',
      'lib/y.py',
      'lib/sub/z.py',
      'with space.py',
      'data/t.bin',
      'lib/a.keep',
      'plain.py',
    ];
    const names = ['linguist-generated', 'linguist-vendored', 'linguist-documentation', 'custom', 'spaced', 'binary', 'diff', 'text'];
    const repo = await openRepository(r.dir);
    try {
      const out = r.git('check-attr', ...names, '--', ...paths);
      for (const line of out.trim().split('\n')) {
        const m = /^(.*): (\S+): (.*)$/.exec(line)!;
        const [, path, name, value] = m;
        const ours = (await repo.attributes.forPath(repo.head, path)).get(name);
        const want = value === 'set' ? true : value === 'unset' ? false : value === 'unspecified' ? undefined : value;
        assert.equal(ours, want, `${path} ${name}`);
      }
    } finally {
      repo.close();
    }
  } finally {
    r.cleanup();
  }
});

test('decoding: UTF-8 as is (BOM kept), anything else as Windows-1252, never throwing; NUL means binary', () => {
  assert.deepEqual(decodeText(Buffer.from('héllo ✓', 'utf8')), { text: 'héllo ✓', encoding: 'utf-8' });
  assert.deepEqual(decodeText(Buffer.from([0xef, 0xbb, 0xbf, 0x61])), { text: '\ufeffa', encoding: 'utf-8' });
  assert.deepEqual(decodeText(Buffer.from([0x63, 0x61, 0x66, 0xe9])), { text: 'café', encoding: 'latin1' });
  assert.deepEqual(decodeText(Buffer.from([0x80, 0x81, 0xff])), { text: '€\u0081ÿ', encoding: 'latin1' });
  // a truncated multi-byte sequence is not UTF-8
  assert.equal(decodeText(Buffer.from([0x61, 0xe2, 0x82])).encoding, 'latin1');
  assert.equal(looksBinary(Buffer.from('a\0b')), true);
  assert.equal(looksBinary(Buffer.from('plain text\n')), false);
  const late = Buffer.alloc(9000, 0x61);
  late[8500] = 0;
  assert.equal(looksBinary(late), false, 'git looks at the first 8000 bytes only');
});
