// Regression tests for issue 17, each over stdio against the built server: edits that froze or
// bloated it, parameters that crashed a handler, cancellation, the framing limit, one generation
// shared by completion and inline completion, the "no suggestion" message, Helix's Invoked requests.
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CancellationTokenSource, firstEdit, ServerProcess } from '../helpers/lsp-client.js';
import { makeScriptedModel } from '../helpers/scripted-model.js';

const root = mkdtempSync(join(tmpdir(), 'cf-robust-'));
const env = { CODEFUDGE_CACHE: join(root, 'cache') };
const models = { returnX: join(root, 'return-x'), loop: join(root, 'loop') };
after(() => rmSync(root, { recursive: true, force: true }));
before(async () => {
  await makeScriptedModel(models.returnX, 'return x');
  await makeScriptedModel(models.loop, 'ab', { loop: true });
});

const frame = (body: string) => `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const at = (line: any, character: any) => ({ line, character });

/** Resident memory of a process in MB (Linux), or undefined elsewhere. */
export function rssMb(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

async function timed<T>(p: Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await p;
  return { value, ms: performance.now() - t0 };
}

describe('protocol robustness', () => {
  let server: ServerProcess;
  before(async () => {
    server = new ServerProcess(['--model', models.returnX, '--threads', '1'], env);
    await server.initialize({ debounceMs: 0 });
    // The model loads on the first request: load it here, so the timings below are the requests'.
    server.open('file:///w/warm-up.py', 'x = \n');
    assert.equal(firstEdit(await server.completion('file:///w/warm-up.py', { line: 0, character: 4 })), 'return x');
  });
  after(() => server.kill());

  it('a change at line 1e9 is clamped to the end: later edits and requests stay fast', async () => {
    const uri = 'file:///w/far.py';
    server.open(uri, 'def f(x):\n    \n');
    server.change(uri, { range: { start: at(1e9, 0), end: at(1e9 + 1, 0) } as any, text: 'y\n' });
    for (let i = 0; i < 200; i++) server.type(uri, at(0, 0), '#');
    const { value, ms } = await timed(server.completion(uri, { line: 1, character: 4 }));
    assert.equal(firstEdit(value), 'return x');
    assert.ok(ms < 2000, `answered in ${Math.round(ms)} ms`);
    // The document is "#...#def f(x):\n    \ny\n": line 2 is the clamped insertion.
    assert.deepEqual((await server.completion(uri, { line: 2, character: 2 })).items, [], 'past the end of "y"');
    assert.equal(firstEdit(await server.completion(uri, { line: 2, character: 1 })), 'return x');
    assert.deepEqual((await server.completion(uri, { line: 4, character: 0 })).items, [], 'only 4 lines');
  });

  it('a change with a string line is rejected and logged; the document and the memory stay as they were', async () => {
    const uri = 'file:///w/strings.py';
    const body = `${'# padding to make growth visible\n'.repeat(30_000)}def f(x):\n    \n`;
    server.open(uri, body);
    const line = body.split('\n').length - 2;
    assert.equal(firstEdit(await server.completion(uri, { line, character: 4 })), 'return x');
    const rss0 = rssMb(server.child.pid!);
    for (let i = 0; i < 25; i++) server.change(uri, { range: { start: at('a', 0), end: at(0, 0) } as any, text: 'x' });
    assert.equal(firstEdit(await server.completion(uri, { line, character: 4 })), 'return x', 'the same document');
    const rss1 = rssMb(server.child.pid!);
    if (rss0 !== undefined && rss1 !== undefined) assert.ok(rss1 - rss0 < 50, `RSS ${rss0.toFixed(0)} -> ${rss1.toFixed(0)} MB`);
    const logged = server.notifications.filter(
      (n) => n.method === 'window/logMessage' && /didChange ignored for file:\/\/\/w\/strings\.py/.test(n.params.message),
    );
    assert.equal(logged.length, 25);
  });

  it('a didOpen without text opens nothing: later requests answer empty, not an internal error', async () => {
    const uri = 'file:///w/notext.py';
    server.rpc.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1 } });
    server.type(uri, at(0, 0), 'x = ');
    assert.deepEqual((await server.completion(uri, { line: 0, character: 4 })).items, []);
    assert.equal(await server.inline(uri, { line: 0, character: 4 }), null);
    // Opened properly afterwards, it works.
    server.open(uri, 'x = \n');
    assert.equal(firstEdit(await server.completion(uri, { line: 0, character: 4 })), 'return x');
  });

  it('answers null params with InvalidParams (-32602), for inline completion too', async () => {
    for (const method of ['textDocument/inlineCompletion', 'textDocument/completion']) {
      await assert.rejects(server.rpc.sendRequest(method, null), (e: { code?: number }) => e.code === -32602, method);
      await assert.rejects(server.rpc.sendRequest(method, [1, 2]), (e: { code?: number }) => e.code === -32602, method);
    }
  });

  it('refuses a Content-Length over 64 MB with a parse error and reads the next message', async () => {
    let wire = '';
    const refused = new Promise<string>((resolve) => {
      const onData = (d: Buffer) => {
        wire += d.toString();
        const m = /"id":null,"error":\{"code":-32700,"message":"([^"]*over the 64 MB limit[^"]*)"/.exec(wire);
        if (m) {
          server.child.stdout.off('data', onData);
          resolve(m[1]);
        }
      };
      server.child.stdout.on('data', onData);
    });
    server.writeRaw(`Content-Length: ${200 * 1024 * 1024}\r\n\r\n{"jsonrpc":"2.0","id":`);
    server.writeRaw(
      frame(
        JSON.stringify({
          jsonrpc: '2.0',
          method: 'textDocument/didOpen',
          params: { textDocument: { uri: 'file:///w/after.py', languageId: 'python', version: 1, text: 'y = \n' } },
        }),
      ),
    );
    assert.match(await refused, /Content-Length 209715200/);
    const { value, ms } = await timed(server.completion('file:///w/after.py', { line: 0, character: 4 }));
    assert.equal(firstEdit(value), 'return x');
    assert.ok(ms < 2000);
  });

  it('serves a completion and an inline completion at the same position with one generation', async () => {
    const uri = 'file:///w/both.py';
    server.open(uri, 'def g(x):\n    \n');
    // A debounce keeps the first generation in flight while the second request arrives (the scripted
    // model is too quick otherwise: the second would be answered from the completion cache).
    server.configure({ debounceMs: 300 });
    const before = await server.command('codefudge.status');
    // As VS Code does: both requests at once, automatic ones (a trigger character; inline Automatic).
    const [list, inline] = await Promise.all([
      server.completion(uri, { line: 1, character: 4 }, 2),
      server.inline(uri, { line: 1, character: 4 }, 2),
    ]);
    server.configure({ debounceMs: 0 });
    assert.equal(firstEdit(list), 'return x');
    assert.equal(inline.items[0].insertText, 'return x');
    const s = await server.command('codefudge.status');
    assert.equal(s.requests.superseded, before.requests.superseded, 'neither superseded the other');
    assert.equal(s.requests.shared, before.requests.shared + 1);
    assert.equal(s.requests.completions, before.requests.completions + 1, 'one generation');
  });

  it('items are plain text of kind Text, never Snippet (Helix would expand $1 and ${x})', async () => {
    const uri = 'file:///w/kind.py';
    server.open(uri, 'x = \n');
    const item = (await server.completion(uri, { line: 0, character: 4 })).items[0];
    assert.equal(item.kind, 1);
    assert.equal(item.insertTextFormat, 1);
  });

  it('an explicit request with no suggestion says so; an automatic one stays quiet', async () => {
    const uri = 'file:///w/nothing.py';
    // The model's "return x" only repeats the next line: nothing to insert.
    server.open(uri, 'def f(x):\n    \n    return x\n');
    const count = () =>
      server.notifications.filter((n) => n.method === 'window/showMessage' && /no suggestion/.test(n.params.message)).length;
    assert.deepEqual((await server.completion(uri, { line: 1, character: 4 }, 2)).items, []);
    assert.equal(await server.inline(uri, { line: 1, character: 4 }, 2), null);
    assert.equal(count(), 0);
    assert.deepEqual((await server.completion(uri, { line: 1, character: 4 }, 1)).items, []);
    const shown = await server.waitForNotification((n) => n.method === 'window/showMessage' && /no suggestion/.test(n.params.message));
    assert.equal(shown.params.type, 3);
    assert.match(shown.params.message, /^codefudge: no suggestion at 2:5/);
  });
});

describe('cancellation', () => {
  it('a request cancelled at once answers RequestCancelled, without generating', async () => {
    const server = new ServerProcess(['--model', models.loop, '--threads', '1'], env);
    try {
      await server.initialize({ debounceMs: 0, stopOnLoop: false, maxTokens: 1024 });
      const uri = 'file:///w/cancel.py';
      server.open(uri, 'x = \n');
      for (let i = 0; i < 3; i++) {
        const source = new CancellationTokenSource();
        const pending = server.completion(uri, { line: 0, character: 4 }, 1, source);
        source.cancel();
        await assert.rejects(pending, (e: { code?: number }) => e.code === -32800);
      }
      const s = await server.command('codefudge.status');
      assert.equal(s.requests.cancelled, 3);
      assert.equal(s.lastCompletion, null, 'no generation ran to its end');
      assert.equal(await server.shutdown(), 0);
    } finally {
      server.kill();
    }
  });
});

describe('Helix', () => {
  it('treats its Invoked requests as automatic: no completion in the middle of a word', async () => {
    const server = new ServerProcess(['--model', models.returnX, '--threads', '1'], env);
    try {
      const r = await server.rpc.sendRequest('initialize', {
        processId: process.pid,
        rootUri: null,
        capabilities: {},
        clientInfo: { name: 'helix', version: '25.1' },
        initializationOptions: { debounceMs: 0 },
      });
      assert.equal((r as any).serverInfo.name, 'codefudge');
      server.rpc.sendNotification('initialized', {});
      const uri = 'file:///w/helix.py';
      server.open(uri, 'value = compute(1)\nx = \n');
      assert.deepEqual((await server.completion(uri, { line: 0, character: 10 }, 1)).items, [], 'mid-word');
      assert.equal(firstEdit(await server.completion(uri, { line: 1, character: 4 }, 1)), 'return x', 'at the end of a line');
      // The setting overrides the guess.
      server.configure({ invokedIsAutomatic: false });
      assert.equal(firstEdit(await server.completion(uri, { line: 0, character: 10 }, 1)), 'return x');
      assert.equal(await server.shutdown(), 0);
    } finally {
      server.kill();
    }
  });
});
