// Issue 13 items 3 and 4: shallow, partial, corrupt and blob-less repositories read with one-line
// messages and skipped-blob counts (never fetching, never a stack trace), a committed symlink on
// the output path refused, and a hostile .gitattributes pattern that git itself matches in
// exponential time kept away from every git call, a bare clone's HEAD:.gitattributes included.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertOneLineError, runCli } from '../helpers/cli.js';
import { collectExamples, openRepository } from '../../history/index.js';
import { BIN, FAST_FLAGS, patternRepo, testRoot, tinyModel } from '../helpers/adapt-fixtures.js';
import type { ScriptedRepo } from '../helpers/scripted-repo.js';

const { root, env } = testRoot('cf-hostile-');
const model = tinyModel(join(root, 'model'));
let source: ScriptedRepo;
before(() => {
  source = patternRepo(14);
  // Files that change: their older versions are what a partial clone lacks.
  for (let i = 0; i < 4; i++)
    source.write('pkg/thing0.py', `class Thing0:\n    def get_v${i}(self):\n        return self._v${i}\n`).commit(`Rework Thing0 (${i})`);
  source.git('config', 'uploadpack.allowFilter', 'true');
  source.git('config', 'uploadpack.allowAnySHA1InWant', 'true');
});
after(() => {
  source.cleanup();
  fs.rmSync(root, { recursive: true, force: true });
});

function git(cwd: string, ...args: string[]): string {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GIT_')) clean[k] = v;
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...clean, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function clone(name: string, ...flags: string[]): string {
  const dir = join(root, name);
  git(root, 'clone', '-q', ...flags, `file://${source.dir}`, dir);
  return dir;
}

/** The objects of a repository that a partial clone lacks, counted without fetching. */
function missingObjects(dir: string): number {
  return git(dir, 'rev-list', '--objects', '--missing=print', 'HEAD')
    .split('\n')
    .filter((l) => l.startsWith('?')).length;
}

const LONG = `pkg/${'a'.repeat(60)}.py`;
/** git before 2.41 matches this against LONG with exponential backtracking: minutes. */
const HOSTILE = '*a*a*a*a*a*a*a*a*a*a*a*b';

/** Commits `files` with plumbing only: `git add` would itself match a hostile .gitattributes for minutes. */
function plumbingCommit(dir: string, files: Record<string, string>, message: string): void {
  for (const [path, text] of Object.entries(files)) {
    const oid = execFileSync('git', ['hash-object', '-w', '--no-filters', '--stdin'], { cwd: dir, input: text, encoding: 'utf8' }).trim();
    git(dir, 'update-index', '--add', '--cacheinfo', `100644,${oid},${path}`);
  }
  const tree = git(dir, 'write-tree').trim();
  const sha = execFileSync('git', ['commit-tree', tree, '-p', 'HEAD', '-m', message], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@b', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@b' },
  }).trim();
  git(dir, 'update-ref', 'HEAD', sha);
}

async function read(dir: string) {
  const repo = await openRepository(dir);
  try {
    return await collectExamples(repo, { split: { holdoutPercent: 20 } });
  } finally {
    repo.close();
  }
}

describe('damaged and partial repositories', () => {
  it('a shallow clone: the boundary commit is a root, the history is read', async () => {
    const dir = clone('shallow', '--depth', '5');
    const data = await read(dir);
    assert.equal(data.stats.commits, 5);
    assert.ok(data.train.commitDiff.length > 0);
    const r = runCli(['history', 'export', dir, '--out', join(root, 'shallow.jsonl'), '--quiet'], env);
    assert.equal(r.code, 0, r.err);
  });

  it('a partial clone (--filter=blob:none): absent blobs are skipped and counted, nothing is fetched', async () => {
    // The checkout fetches the newest blobs (this is git clone, not us); older ones stay absent.
    const dir = clone('partial', '--filter=blob:none');
    const before = missingObjects(dir);
    assert.ok(before > 0);
    const data = await read(dir);
    assert.ok(data.stats.unreadableBlobs > 0, JSON.stringify(data.stats));
    assert.equal(missingObjects(dir), before, 'a blob was fetched');
    const r = runCli(['adapt', dir, '--model', model, '--out', join(root, 'partial-out'), ...FAST_FLAGS, '--steps', '1'], env);
    assert.ok(!/\n\s+at /.test(r.err), r.err);
    assert.match(r.err, /blobs unreadable, skipped/);
    assert.equal(missingObjects(dir), before, 'a blob was fetched');
  });

  it('a missing or corrupt loose object: skipped and counted, or one line when a commit is gone', async () => {
    const dir = clone('corrupt');
    // Back to loose objects: unpack from the pack git just wrote, then drop the pack.
    const packs = join(dir, '.git', 'objects', 'pack');
    for (const f of fs.readdirSync(packs)) {
      if (!f.endsWith('.pack')) continue;
      const moved = join(root, `corrupt-${f}`);
      fs.renameSync(join(packs, f), moved);
      fs.rmSync(join(packs, f.replace(/\.pack$/, '.idx')), { force: true });
      execFileSync('git', ['unpack-objects', '-q'], { cwd: dir, input: fs.readFileSync(moved) });
    }
    const blobs = git(dir, 'rev-list', '--objects', 'HEAD')
      .split('\n')
      .map((l) => l.split(' '))
      .filter((p) => p[1]?.endsWith('.py'))
      .map((p) => p[0]);
    const loose = (oid: string) => join(dir, '.git', 'objects', oid.slice(0, 2), oid.slice(2));
    fs.rmSync(loose(blobs[1]));
    fs.chmodSync(loose(blobs[2]), 0o644);
    fs.writeFileSync(loose(blobs[2]), Buffer.from('not zlib at all'));
    const data = await read(dir);
    assert.ok(data.stats.unreadableBlobs >= 2, JSON.stringify(data.stats));
    const r = runCli(['history', 'export', dir, '--out', join(root, 'corrupt.jsonl'), '--quiet'], env);
    assert.equal(r.code, 0, r.err);
    assert.ok(!/\n\s+at /.test(r.err), r.err);
    // A commit object gone: one line.
    const head = git(dir, 'rev-parse', 'HEAD~2').trim();
    fs.rmSync(loose(head));
    assertOneLineError(
      runCli(['history', 'export', dir, '--out', join(root, 'corrupt2.jsonl'), '--quiet'], env),
      /cannot read the history of .*damaged/,
    );
  });
});

describe('hostile repositories', () => {
  it('a committed symlink on the output path is refused, and nothing is written through it', () => {
    const r = patternRepo(4);
    try {
      const target = fs.mkdtempSync(join(root, 'target-'));
      fs.symlinkSync(target, join(r.dir, '.codefudge'));
      r.commit('add a link');
      assertOneLineError(
        runCli(['adapt', r.dir, '--model', model, ...FAST_FLAGS], env),
        /refusing to write the adapter through the symbolic link/,
      );
      fs.mkdirSync(join(r.dir, 'real'));
      fs.symlinkSync(target, join(r.dir, 'real', 'link'));
      assertOneLineError(
        runCli(['adapt', r.dir, '--model', model, '--out', join(r.dir, 'real', 'link', 'out'), ...FAST_FLAGS], env),
        /symbolic link/,
      );
      assert.deepEqual(fs.readdirSync(target), []);
    } finally {
      r.cleanup();
    }
  });

  it('a .gitattributes pattern git matches in exponential time never reaches git', async () => {
    const r = patternRepo(3);
    try {
      const commit = (files: Record<string, string>, message: string) => plumbingCommit(r.dir, files, message);
      commit({ [LONG]: 'x = 1\n' }, 'a long name');
      commit({ '.gitattributes': `${HOSTILE} diff\n${HOSTILE} binary\n` }, 'attributes');
      commit({ [LONG]: 'x = 2\n' }, 'change it');
      commit({ [LONG]: 'x = 3\n' }, 'and again');
      // The work tree has the attributes too, as after a checkout.
      fs.writeFileSync(join(r.dir, '.gitattributes'), `${HOSTILE} diff\n`);
      const started = performance.now();
      const data = await read(r.dir);
      const seconds = (performance.now() - started) / 1000;
      assert.ok(seconds < 10, `${seconds.toFixed(1)} s`);
      assert.ok(data.stats.filesChanged > 0);
    } finally {
      r.cleanup();
    }
  });

  it("a bare clone: git never applies HEAD's .gitattributes (git >= 2.42 with attr.tree, 2.43-2.45 by default) to the history", () => {
    const r = patternRepo(3);
    try {
      plumbingCommit(r.dir, { [LONG]: 'x = 1\n' }, 'a long name');
      plumbingCommit(r.dir, { [LONG]: 'x = 2\n' }, 'change it');
      // Only HEAD has attributes: every .py diff as binary, and a pattern git before 2.41 matched for minutes.
      plumbingCommit(r.dir, { '.gitattributes': `${HOSTILE} diff\n*.py -diff\n` }, 'attributes at HEAD');
      const bare = join(root, 'attributes.git');
      git(root, 'clone', '-q', '--bare', r.dir, bare);
      git(bare, 'config', 'attr.tree', 'HEAD');
      const exported = (repo: string, name: string) => {
        const out = join(root, `${name}.jsonl`);
        const started = performance.now();
        // A hang guard, not a speed test.
        const res = spawnSync(process.execPath, [BIN, 'history', 'export', repo, '--out', out, '--quiet'], {
          env,
          encoding: 'utf8',
          timeout: 60_000,
        });
        const seconds = (performance.now() - started) / 1000;
        assert.equal(res.status, 0, res.stderr);
        assert.ok(seconds < 10, `${seconds.toFixed(1)} s`);
        return fs.readFileSync(out, 'utf8') + fs.readFileSync(join(root, `${name}.heldout.jsonl`), 'utf8');
      };
      const fromBare = exported(bare, 'bare');
      // The older commits' .py diffs are there, as .gitattributes said nothing of them at the time.
      assert.match(fromBare, /"path":"pkg\/a+\.py".*"diff":"[^"]*\\n-x = 1\\n\+x = 2\\n/);
      assert.equal(fromBare, exported(r.dir, 'work-tree'), 'the bare clone gives what its source gives');
    } finally {
      r.cleanup();
    }
  });
});
