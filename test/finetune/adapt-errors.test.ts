// Bad input to `adapt`: each a one-line UserError, nothing left behind or corrupted.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { UserError } from '../../common/index.js';
import { command as adaptCommand } from '../../cli/commands/adapt.js';
import { adapt, defaultAdapterDir, LOCK_FILE } from '../../finetune/index.js';
import { ScriptedRepo } from '../helpers/scripted-repo.js';
import { addPatternCommits, BIN, FAST, patternRepo, testRoot, tinyModel } from '../helpers/adapt-fixtures.js';

const { root, env } = testRoot('cf-adapt-err-');
const model = tinyModel(join(root, 'model'));
const repos: ScriptedRepo[] = [];
after(() => {
  for (const r of repos) r.cleanup();
  fs.rmSync(root, { recursive: true, force: true });
});

function track(r: ScriptedRepo): ScriptedRepo {
  repos.push(r);
  return r;
}

const userError = (pattern: RegExp) => (e: Error) => {
  assert.ok(e instanceof UserError, `not a UserError: ${e.stack}`);
  assert.match(e.message, pattern);
  assert.ok(!e.message.includes('\n'), 'one line');
  return true;
};

describe('adapt refuses bad input', () => {
  it('a path that is not a repository, or does not exist', async () => {
    const plain = fs.mkdirSync(join(root, 'plain'), { recursive: true })!;
    await assert.rejects(adapt({ repo: plain, model, ...FAST }), userError(/^not a git repository: /));
    await assert.rejects(adapt({ repo: join(root, 'nowhere'), model, ...FAST }), userError(/^no such directory: /));
    assert.deepEqual(fs.readdirSync(plain), []);
  });

  it('an empty repository, leaving it untouched', async () => {
    const empty = track(new ScriptedRepo('cf-adapt-empty-'));
    await assert.rejects(adapt({ repo: empty.dir, model, ...FAST }), userError(/^repository has no commits: /));
    assert.deepEqual(fs.readdirSync(empty.dir), ['.git']);
  });

  it('a repository without code files, removing the folders it made', async () => {
    const docs = track(new ScriptedRepo('cf-adapt-docs-'));
    docs.write('README.md', '# notes\n').write('logo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1, 2]));
    docs.commit('docs');
    docs.write('NOTES.txt', 'more\n').commit('more docs');
    await assert.rejects(adapt({ repo: docs.dir, model, ...FAST }), userError(/^no code files in /));
    assert.ok(!fs.existsSync(join(docs.dir, '.codefudge')));
    assert.equal(docs.git('status', '--porcelain'), '');
  });

  it('an output folder that cannot be written', async () => {
    const r = track(patternRepo(4));
    const file = join(root, 'a-file');
    fs.writeFileSync(file, 'x');
    await assert.rejects(
      adapt({ repo: r.dir, model, ...FAST, out: join(file, 'adapter') }),
      userError(/^cannot write to the output folder .*a-file\/adapter: a part of the path is a file, not a folder; pass --out DIR/),
    );
    await assert.rejects(
      adapt({ repo: r.dir, model, ...FAST, out: file }),
      userError(/^cannot write to the output folder .*a-file: a part of the path is a file, not a folder; pass --out DIR/),
    );
    assert.equal(fs.readFileSync(file, 'utf8'), 'x');
    if (process.getuid?.() !== 0) {
      const locked = join(root, 'read-only');
      fs.mkdirSync(locked, { mode: 0o555 });
      await assert.rejects(adapt({ repo: r.dir, model, ...FAST, out: locked }), userError(/: permission denied; pass --out DIR/));
    }
  });

  it('a second adapt while one holds the lock; a stale lock from a dead process is taken over', async () => {
    const r = track(patternRepo(6));
    const out = defaultAdapterDir(r.dir);
    fs.mkdirSync(out, { recursive: true });
    const lock = join(out, LOCK_FILE);
    const live = { pid: process.ppid, host: hostname(), started: '2024-01-01T00:00:00Z', repository: r.dir };
    fs.writeFileSync(lock, JSON.stringify(live));
    await assert.rejects(
      adapt({ repo: r.dir, model, ...FAST }),
      userError(new RegExp(`^another codefudge adapt \\(pid ${process.ppid}, started 2024`)),
    );
    assert.deepEqual(JSON.parse(fs.readFileSync(lock, 'utf8')), live, 'the live lock is kept');

    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    fs.writeFileSync(lock, JSON.stringify({ ...live, pid: dead }));
    const result = await adapt({ repo: r.dir, model, ...FAST, steps: 2 });
    assert.equal(result.status, 'trained');
    assert.ok(!fs.existsSync(lock));
  });

  it('an adapter codefudge did not write, or whose commit the history no longer has: refused, the adapter kept', async () => {
    const r = track(patternRepo(6));
    const out = defaultAdapterDir(r.dir);
    await adapt({ repo: r.dir, model, ...FAST, steps: 2 });
    const bytes = () => Object.fromEntries(fs.readdirSync(out).map((f) => [f, fs.readFileSync(join(out, f))]));

    const foreign = join(root, 'foreign');
    fs.cpSync(out, foreign, { recursive: true });
    fs.rmSync(join(foreign, 'codefudge.json'));
    await assert.rejects(
      adapt({ repo: r.dir, model, ...FAST, out: foreign }),
      userError(/holds an adapter that codefudge adapt did not write \(no codefudge.json\); pass --from-scratch/),
    );

    // The adapter was trained through HEAD~2; rewrite the history from HEAD~3 on.
    r.git('reset', '-q', '--hard', 'HEAD~3');
    addPatternCommits(r, 100, 3);
    const was = bytes();
    await assert.rejects(
      adapt({ repo: r.dir, model, ...FAST }),
      userError(/^cannot refresh the adapter in .*: commit [0-9a-f]+ is not in the history of .*; pass --from-scratch to retrain$/),
    );
    assert.deepEqual(bytes(), was);
  });

  it('on the command line: one line on stderr, exit 1, no stack trace', async () => {
    const r = spawnSync(process.execPath, [BIN, 'adapt', root, '--model', model], { encoding: 'utf8', env });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^codefudge: not a git repository: .*\n$/);
    assert.equal(r.stderr.split('\n').length, 2, r.stderr);
    const cases: Array<[string[], RegExp]> = [
      [[root, '--time', '5m', '--steps', '3'], /^give --time or --steps, not both$/],
      [[root, '--time', 'soon'], /^--time must be a duration like 20m/],
      [[root, '--fim-loss', 'some'], /^--fim-loss must be middle or all/],
      [[root, '--mix', '2'], /^--mix must be a number from 0 to 1/],
      [[root, '--rank', '0'], /^--rank must be a positive integer/],
      [[root, '--bogus', '1'], /^unknown option --bogus$/],
      [[], /^adapt takes exactly one repository path$/],
    ];
    for (const [args, pattern] of cases) await assert.rejects(adaptCommand.run(args), userError(pattern), args.join(' '));
  });
});
