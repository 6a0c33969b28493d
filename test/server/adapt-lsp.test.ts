// codefudge.adapt for real: the server runs `codefudge adapt` on the workspace repository with its
// own model, relays the training progress as $/progress, and then completes with the new adapter.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { FAST_FLAGS, patternRepo, tinyModel } from '../helpers/adapt-fixtures.js';
import { ServerProcess } from '../helpers/lsp-client.js';

const root = mkdtempSync(join(tmpdir(), 'cf-adapt-lsp-'));
const repo = patternRepo(12);
const model = tinyModel(join(root, 'model'));
after(() => {
  repo.cleanup();
  rmSync(root, { recursive: true, force: true });
});

/** FAST_FLAGS (["--steps", "40", ...]) as the command's options object. */
function fastOptions(): Record<string, string> {
  const options: Record<string, string> = {};
  for (let i = 0; i < FAST_FLAGS.length; i += 2) options[FAST_FLAGS[i].slice(2)] = FAST_FLAGS[i + 1];
  return options;
}

describe('codefudge.adapt through the server', () => {
  it('trains an adapter on the workspace with progress, then completes with it', async () => {
    const server = new ServerProcess(['--model', model, '--threads', '1'], { CODEFUDGE_CACHE: join(root, 'cache') });
    try {
      await server.initialize({ debounceMs: 0 }, pathToFileURL(repo.dir).href);
      await server.waitForModel('ready', model);
      assert.equal((await server.command('codefudge.status')).model.adapter, null);
      await assert.rejects(server.command('codefudge.adapt', [null, { steps: [40] }]), (e: { code?: number }) => e.code === -32602);

      const result = await server.command('codefudge.adapt', [null, fastOptions()], { workDoneToken: 'train' });
      const adapter = join(repo.dir, '.codefudge', 'adapter');
      assert.deepEqual(result, { ok: true, root: repo.dir, adapter });

      await server.waitForNotification((n) => n.method === '$/progress' && n.params.token === 'train' && n.params.value.kind === 'end');
      const values = server.notifications.filter((n) => n.method === '$/progress' && n.params.token === 'train').map((n) => n.params.value);
      assert.equal(values[0].kind, 'begin');
      const reports = values.filter((v) => v.kind === 'report');
      assert.ok(reports.length > 0, 'the progress lines of codefudge adapt were relayed');
      const percentages = reports.map((v) => v.percentage).filter((p) => p !== undefined);
      assert.ok(
        percentages.every((p, i) => i === 0 || p >= percentages[i - 1]),
        `rising: ${percentages}`,
      );

      const t0 = Date.now();
      let status = await server.command('codefudge.status');
      while (status.model.adapterState !== 'active' && Date.now() - t0 < 15_000) {
        await new Promise((r) => setTimeout(r, 100));
        status = await server.command('codefudge.status');
      }
      assert.equal(status.model.adapter, adapter);
      assert.equal(status.model.adapterState, 'active', status.model.adapterError);

      const uri = pathToFileURL(join(repo.dir, 'pkg', 'new.py')).href;
      server.open(uri, 'class Thing99:\n    def get_name(self):\n        return self.\n');
      const list = await server.completion(uri, { line: 2, character: 20 });
      assert.equal(list.isIncomplete, true);
      assert.equal(await server.shutdown(), 0);
    } finally {
      server.kill();
    }
  });
});
