import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { listCommits, openRepository } from '../../history/index.js';
import { ScriptedRepo } from '../helpers/scripted-repo.js';

const repo = new ScriptedRepo('cf-history-env-');
repo.write('a.py', 'x = 1\n').commit('first');
after(() => repo.cleanup());

describe("the caller's environment", () => {
  it('reads history with EDITOR, VISUAL, PAGER, an askpass, PREFIX and GIT_DIR set, as npm scripts, shells and Termux set them', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      EDITOR: 'vi',
      VISUAL: 'vi',
      PAGER: 'less',
      SSH_ASKPASS: '/bin/false',
      PREFIX: '/usr',
      GIT_DIR: '/nonexistent',
    });
    try {
      const r = await openRepository(repo.dir);
      const commits = await listCommits(r);
      assert.deepEqual(
        commits.map((c) => c.subject),
        ['first'],
      );
      await r.close();
    } finally {
      for (const k of ['EDITOR', 'VISUAL', 'PAGER', 'SSH_ASKPASS', 'PREFIX', 'GIT_DIR']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });
});
