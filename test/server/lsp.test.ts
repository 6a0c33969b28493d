// The built server as a separate process, through a real LSP client over stdio.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CancellationTokenSource, firstEdit, ServerProcess } from '../helpers/lsp-client.js';
import { makeScriptedModel, writeNoOpAdapter } from '../helpers/scripted-model.js';

const root = mkdtempSync(join(tmpdir(), 'cf-lsp-'));
const workspace = join(root, 'workspace');
const models = {
  returnX: join(root, 'return-x'),
  block: join(root, 'block'),
  sum: join(root, 'sum'),
  loop: join(root, 'loop'),
};
let server: ServerProcess;

before(async () => {
  await makeScriptedModel(models.returnX, 'return x');
  await makeScriptedModel(models.block, 'y\n\treturn self');
  await makeScriptedModel(models.sum, 'sum)');
  await makeScriptedModel(models.loop, 'ab', { loop: true });
  writeNoOpAdapter(join(workspace, '.codefudge', 'adapter'), models.returnX);
  server = new ServerProcess(['--model', models.returnX, '--threads', '1'], { CODEFUDGE_CACHE: join(root, 'cache') });
});
after(() => {
  server.kill();
  rmSync(root, { recursive: true, force: true });
});

const A = 'file:///work/a.py';
const B = 'file:///work/b.py';

describe('codefudge serve over stdio', () => {
  it('initializes with incremental sync, completion, inline completion and its commands', async () => {
    const r = await server.initialize({ debounceMs: 0, mode: 'multi-line' }, pathToFileURL(workspace).href);
    assert.equal(r.serverInfo.name, 'codefudge');
    assert.equal(r.capabilities.textDocumentSync.change, 2);
    assert.equal(r.capabilities.inlineCompletionProvider, true);
    assert.equal(r.capabilities.completionProvider.resolveProvider, false);
    assert.deepEqual(r.capabilities.executeCommandProvider.commands.sort(), [
      'codefudge.adapt',
      'codefudge.status',
      'codefudge.suggestDiff',
    ]);
  });

  it("completes with the model's text as a text edit at the cursor", async () => {
    server.open(A, 'def f(x):\n    \n\nprint(f(2))\n');
    const list = await server.completion(A, { line: 1, character: 4 });
    assert.equal(list.isIncomplete, true);
    assert.equal(list.items.length, 1);
    const item = list.items[0];
    assert.deepEqual(item.textEdit, { range: { start: { line: 1, character: 4 }, end: { line: 1, character: 4 } }, newText: 'return x' });
    assert.equal(item.label, 'return x');
    assert.match(item.documentation.value, /^```python\nreturn x\n```$/);
  });

  it('answers inline completion requests', async () => {
    const r = await server.inline(A, { line: 1, character: 4 });
    assert.deepEqual(r.items, [{ insertText: 'return x', range: { start: { line: 1, character: 4 }, end: { line: 1, character: 4 } } }]);
  });

  it('answers from the completion cache while the user types the suggestion', async () => {
    const before = (await server.command('codefudge.status')).cache.hits;
    server.type(A, { line: 1, character: 4 }, 'ret');
    // The model would say "return x" again here; the rest of the earlier suggestion proves the cache answered.
    assert.equal(firstEdit(await server.completion(A, { line: 1, character: 7 })), 'urn x');
    assert.equal((await server.inline(A, { line: 1, character: 7 })).items[0].insertText, 'urn x');
    const status = await server.command('codefudge.status');
    assert.equal(status.cache.hits, before + 2);
    assert.equal(status.lastCompletion.source, 'cache');
  });

  it('skips automatic requests in the middle of a word, but not explicit ones', async () => {
    server.open(B, 'value = compute(1)\n');
    const mid = { line: 0, character: 10 };
    assert.deepEqual((await server.completion(B, mid, 2)).items, [], 'trigger character');
    assert.deepEqual((await server.completion(B, mid, 3)).items, [], 'incomplete re-ask');
    assert.equal(await server.inline(B, mid, 2), null, 'automatic inline');
    assert.equal(firstEdit(await server.completion(B, mid, 1)), 'return x', 'invoked');
    assert.equal((await server.inline(B, mid, 1)).items[0].insertText, 'return x', 'invoked inline');
  });

  it('reports the model, the workspace adapter and the last completion in codefudge.status', async () => {
    assert.equal(firstEdit(await server.completion(A, { line: 3, character: 11 })), 'return x');
    const s = await server.command('codefudge.status');
    assert.equal(s.model.dir, models.returnX);
    assert.equal(s.model.state, 'ready');
    assert.equal(s.workspace, workspace);
    assert.equal(s.model.adapter, join(workspace, '.codefudge', 'adapter'));
    assert.equal(s.model.adapterState, 'active', s.model.adapterError);
    assert.equal(s.lastCompletion.source, 'model');
    assert.ok(s.lastCompletion.promptTokens > 10);
    assert.equal(s.settings.debounceMs, 0);
  });

  it('switches models and modes through workspace/didChangeConfiguration', async () => {
    server.configure({ codefudge: { model: models.block } });
    await server.waitForModel('ready', models.block);
    server.open('file:///work/c.py', 'def f(self):\n    \n');
    const at = { line: 1, character: 4 };
    assert.equal(firstEdit(await server.completion('file:///work/c.py', at)), 'y\n\treturn self');
    server.configure({ mode: 'single-line' });
    assert.equal(firstEdit(await server.completion('file:///work/c.py', at)), 'y');
    server.configure({ mode: 'multi-line', maxTokens: 'many' });
    assert.equal(firstEdit(await server.completion('file:///work/c.py', at)), 'y\n\treturn self');
    const warned = server.notifications.some(
      (n) => n.method === 'window/logMessage' && /"maxTokens" must be an integer/.test(n.params.message),
    );
    assert.ok(warned, 'a bad setting is reported through window/logMessage');
  });

  it('follows incremental edits', async () => {
    server.configure({ model: models.sum });
    await server.waitForModel('ready', models.sum);
    const uri = 'file:///work/d.py';
    server.open(uri, 'x = 1\n');
    server.change(uri, { range: { start: { line: 0, character: 5 }, end: { line: 1, character: 0 } }, text: '\ny = 2\nprint(\n' });
    // Now "x = 1\ny = 2\nprint(\n": the line opens a bracket the completion may close.
    assert.equal(firstEdit(await server.completion(uri, { line: 2, character: 6 })), 'sum)');
    server.type(uri, { line: 2, character: 6 }, ')');
    // "print()": the line already closes it, so the completion's ")" is dropped.
    assert.equal(firstEdit(await server.completion(uri, { line: 2, character: 6 })), 'sum');
    server.change(uri, { range: { start: { line: 0, character: 0 }, end: { line: 2, character: 0 } }, text: '' });
    // "print()\n": line 2 is gone, line 0 is the call.
    assert.deepEqual((await server.completion(uri, { line: 2, character: 6 })).items, []);
    assert.equal(firstEdit(await server.completion(uri, { line: 0, character: 6 })), 'sum');
    assert.deepEqual((await server.completion(uri, { line: 0, character: 8 })).items, [], 'past the end of the line');
  });

  it('cancels a generation in progress: the request answers RequestCancelled, quickly', async () => {
    server.configure({ model: models.loop, maxTokens: 1024 });
    await server.waitForModel('ready', models.loop);
    const uri = 'file:///work/e.py';
    server.open(uri, 'x = \n');
    assert.equal(firstEdit(await server.completion(uri, { line: 0, character: 4 })), 'ab', 'a looping completion ends at its first copy');
    // Without the loop stop the scripted model runs to maxTokens: a long generation to cancel.
    server.configure({ stopOnLoop: false });
    const t0 = performance.now();
    const full = firstEdit(await server.completion(uri, { line: 0, character: 4 }));
    const fullMs = performance.now() - t0;
    assert.ok(full !== undefined && full.startsWith('abab') && full.length > 500, `a long generation (${full?.length} characters)`);
    server.type(uri, { line: 0, character: 4 }, 'z');
    const source = new CancellationTokenSource();
    const t1 = performance.now();
    const pending = server.completion(uri, { line: 0, character: 5 }, 1, source);
    setTimeout(() => source.cancel(), 30);
    await assert.rejects(pending, (e: { code?: number }) => e.code === -32800);
    const cancelledMs = performance.now() - t1;
    assert.ok(cancelledMs < fullMs / 2, `cancelled after ${cancelledMs.toFixed(0)} ms, a full run takes ${fullMs.toFixed(0)} ms`);
    assert.equal((await server.command('codefudge.status')).requests.cancelled, 1);
  });

  it('lets a newer request for the same document supersede an older one, which answers empty', async () => {
    const uri = 'file:///work/e.py';
    server.configure({ maxTokens: 300 });
    const before = (await server.command('codefudge.status')).requests.superseded;
    const t0 = performance.now();
    const older = server.completion(uri, { line: 0, character: 5 }).then((r) => ({ r, ms: performance.now() - t0 }));
    await new Promise((r) => setTimeout(r, 30));
    const newer = server.completion(uri, { line: 0, character: 4 }).then((r) => ({ r, ms: performance.now() - t0 }));
    const [o, n] = await Promise.all([older, newer]);
    assert.deepEqual(o.r.items, []);
    assert.ok(firstEdit(n.r)?.startsWith('abab'));
    assert.ok(o.ms < n.ms, 'the older one answered first');
    assert.equal((await server.command('codefudge.status')).requests.superseded, before + 1);
  });

  it('drops the workspace adapter when it goes away and loads it again when it comes back', async () => {
    const dir = join(workspace, '.codefudge', 'adapter');
    const until = async (test: (model: any) => boolean) => {
      const t0 = Date.now();
      for (;;) {
        const { model } = await server.command('codefudge.status');
        if (test(model)) return model;
        if (Date.now() - t0 > 15_000) throw new Error(`adapter state stuck at ${JSON.stringify(model)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    rmSync(dir, { recursive: true });
    await until((m) => m.adapter === null && m.adapterState === 'none');
    writeNoOpAdapter(dir, models.returnX);
    await until((m) => m.adapter === dir && m.adapterState === 'active');
    assert.ok(firstEdit(await server.completion('file:///work/e.py', { line: 0, character: 4 }))?.startsWith('abab'));
  });

  it('runs codefudge.adapt with work-done progress and reports its failure', async () => {
    // The workspace is no git repository, so adapt fails, whatever stage the adapt command is at.
    const pending = server.command('codefudge.adapt', [workspace], { workDoneToken: 'adapt-1' });
    await assert.rejects(
      pending,
      (e: { code?: number; message?: string }) => e.code === -32603 && /codefudge adapt failed/.test(e.message ?? ''),
    );
    const isProgress = (n: { method: string; params: any }) => n.method === '$/progress' && n.params.token === 'adapt-1';
    await server.waitForNotification((n) => isProgress(n) && n.params.value.kind === 'end');
    const progress = server.notifications.filter(isProgress).map((n) => n.params.value.kind);
    assert.equal(progress[0], 'begin');
    assert.equal(progress[progress.length - 1], 'end');
    const shown = await server.waitForNotification((n) => n.method === 'window/showMessage');
    assert.equal(shown.params.type, 1);
    assert.match(shown.params.message, /codefudge adapt failed/);
    // Without a token from the client, the server creates its own progress (window/workDoneProgress/create).
    await assert.rejects(server.command('codefudge.adapt', [workspace]));
    const own = await server.waitForNotification(
      (n) => n.method === '$/progress' && n.params.token !== 'adapt-1' && n.params.value.kind === 'end',
    );
    assert.ok(
      server.notifications.some((n) => n.method === '$/progress' && n.params.token === own.params.token && n.params.value.kind === 'begin'),
    );
  });

  it('rejects unknown commands', async () => {
    await assert.rejects(server.command('codefudge.nope'), (e: { code?: number }) => e.code === -32602);
  });

  it('shuts down and exits with status 0', async () => {
    assert.equal(await server.shutdown(), 0);
  });
});
