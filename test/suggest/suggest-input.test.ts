// suggest-diff refuses bad input with one clear line: in-process for each case, and once through
// the real CLI (exit status 1, one line on stderr, nothing on stdout).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UserError } from '../../common/index.js';
import { suggestDiffInRepo } from '../../suggest/index.js';
import { ScriptedRepo } from '../helpers/scripted-repo.js';
import { BIN, testRoot, tinyModel } from '../helpers/adapt-fixtures.js';

const { root, env } = testRoot('cf-suggest-input-');
const model = tinyModel(join(root, 'model'));
let repo: ScriptedRepo;
before(() => {
  repo = new ScriptedRepo('cf-suggest-input-repo-');
  repo.write('src/app.py', 'print("hi")\n').write('logo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1, 2]));
  repo.write('latin1.py', Buffer.from('# caf\xe9\n', 'latin1'));
  repo.commit('start');
  fs.writeFileSync(join(root, 'outside.py'), 'x = 1\n');
  fs.symlinkSync(join(root, 'outside.py'), join(repo.dir, 'link.py'));
  fs.mkdirSync(join(root, 'plain'));
});
after(() => {
  repo.cleanup();
  fs.rmSync(root, { recursive: true, force: true });
});

async function refusal(over: Partial<Parameters<typeof suggestDiffInRepo>[0]>): Promise<string> {
  try {
    await suggestDiffInRepo({ repo: repo.dir, file: 'src/app.py', message: 'say hello', model, ...over });
  } catch (e) {
    assert.ok(e instanceof UserError, `not a UserError: ${e instanceof Error ? e.stack : e}`);
    assert.ok(!e.message.includes('\n'), e.message);
    return e.message;
  }
  assert.fail('no error');
}

describe('suggest-diff bad input', () => {
  it('refuses an empty message', async () => {
    assert.match(await refusal({ message: '' }), /the commit message is empty/);
    assert.match(await refusal({ message: ' \n\t' }), /the commit message is empty/);
  });

  it('refuses a folder that is not a repository, or is missing', async () => {
    assert.match(await refusal({ repo: join(root, 'plain') }), /not a git repository: .*plain/);
    assert.match(await refusal({ repo: join(root, 'nowhere') }), /no such directory: .*nowhere/);
  });

  it('refuses files outside the repository, by path, absolute path or link', async () => {
    assert.match(await refusal({ file: '../elsewhere.py' }), /^\.\.\/elsewhere\.py is outside the repository /);
    assert.match(await refusal({ file: join(root, 'outside.py') }), /outside\.py is outside the repository/);
    assert.match(await refusal({ file: 'link.py' }), /link\.py is outside the repository/);
  });

  it('refuses a missing file, a folder, a binary file and a file that is not UTF-8', async () => {
    assert.match(await refusal({ file: 'src/missing.py' }), /^no such file: src\/missing\.py$/);
    assert.match(await refusal({ file: 'src' }), /^src is not a regular file$/);
    assert.match(await refusal({ file: 'logo.png' }), /^logo\.png is a binary file$/);
    assert.match(await refusal({ file: 'latin1.py' }), /^latin1\.py is not UTF-8 text$/);
  });

  it('refuses an adapter folder without an adapter', async () => {
    assert.match(await refusal({ adapterDir: join(root, 'plain') }), /adapter folder .*plain has no adapter_config\.json/);
  });

  it('prints one line and exits 1 from the command line', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [BIN, 'suggest-diff', ...args], { cwd: repo.dir, env, encoding: 'utf8' });
    const cases: [string[], RegExp][] = [
      [['--file', 'logo.png', '--message', 'x', '--model', model], /logo\.png is a binary file/],
      [['--file', join(root, 'outside.py'), '--message', 'x', '--model', model], /outside the repository/],
      [['--file', 'src/app.py', '--model', model], /the commit message is empty/],
      [['--message', 'x', '--model', model], /needs --file PATH/],
      [['--file', 'src/app.py', '--message', 'x', '--beams', '0'], /--beams must be a positive integer/],
      [['--file', 'src/app.py', '--message', 'x', '--bogus', '1'], /unknown option --bogus/],
    ];
    for (const [args, why] of cases) {
      const r = run(...args);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], /^codefudge: /);
      assert.match(lines[0], why);
    }
  });
});
