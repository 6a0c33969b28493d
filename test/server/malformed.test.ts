// Malformed input and a missing model never take the server down: each gets an LSP error or an
// empty result, and the next valid request is answered.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { firstEdit, ServerProcess } from '../helpers/lsp-client.js';
import { makeScriptedModel } from '../helpers/scripted-model.js';

const root = mkdtempSync(join(tmpdir(), 'cf-malformed-'));
const model = join(root, 'model');
const env = { CODEFUDGE_CACHE: join(root, 'cache') };
after(() => rmSync(root, { recursive: true, force: true }));

const frame = (body: string) => `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const DOC = 'file:///work/ok.py';

describe('malformed input', () => {
  let server: ServerProcess;
  before(async () => {
    await makeScriptedModel(model, 'return x');
    server = new ServerProcess(['--model', model, '--threads', '1'], env);
    await server.initialize({ debounceMs: 0 });
    server.open(DOC, 'def f(x):\n    \n');
  });
  after(() => server.kill());

  /** The server still answers a valid completion correctly. */
  async function stillServes() {
    assert.equal(firstEdit(await server.completion(DOC, { line: 1, character: 4 })), 'return x');
    assert.ok(server.alive);
  }

  it('answers bytes that are no message with a parse error and carries on', async () => {
    // Errors for messages without an id have no request to settle in the client: read them off the wire.
    let wire = '';
    const errors = () => [...wire.matchAll(/"id":null,"error":(\{[^}]*\})/g)].map((m) => JSON.parse(m[1]));
    const raw = new Promise<void>((resolve) => {
      server.child.stdout.on('data', (d: Buffer) => {
        wire += d.toString();
        if (errors().length >= 4) resolve();
      });
    });
    server.writeRaw('this is not a header at all\r\n\r\n');
    server.writeRaw(frame('{"jsonrpc":"2.0","id":1,"method":'));
    server.writeRaw(frame('[1,2,3]'));
    server.writeRaw(frame('{"jsonrpc":"2.0","id":{"x":1},"method":"textDocument/completion"}'));
    await raw;
    assert.deepEqual(
      errors()
        .map((e) => e.code)
        .sort((a, b) => a - b),
      [-32700, -32700, -32600, -32600],
    );
    await stillServes();
  });

  it('answers unknown methods with MethodNotFound and ignores unknown notifications', async () => {
    await assert.rejects(server.rpc.sendRequest('textDocument/teleport', {}), (e: { code?: number }) => e.code === -32601);
    server.rpc.sendNotification('custom/whatever', { a: 1 });
    await stillServes();
  });

  it('answers bad parameters with InvalidParams', async () => {
    for (const params of [
      {},
      { textDocument: { uri: DOC } },
      { textDocument: { uri: DOC }, position: { line: -1, character: 0 } },
      { textDocument: { uri: 7 }, position: { line: 0, character: 0 } },
    ]) {
      await assert.rejects(
        server.rpc.sendRequest('textDocument/completion', params),
        (e: { code?: number }) => e.code === -32602,
        JSON.stringify(params),
      );
      await assert.rejects(server.rpc.sendRequest('textDocument/inlineCompletion', params), (e: { code?: number }) => e.code === -32602);
    }
    await stillServes();
  });

  it('answers positions past the end and unknown documents with empty results', async () => {
    assert.deepEqual((await server.completion(DOC, { line: 99, character: 0 })).items, []);
    assert.deepEqual((await server.completion(DOC, { line: 0, character: 999 })).items, []);
    assert.equal(await server.inline(DOC, { line: 2, character: 5 }), null);
    assert.deepEqual((await server.completion('file:///never/opened.py', { line: 0, character: 0 })).items, []);
    server.change('file:///never/opened.py', { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: 'x' });
    server.change(DOC, { range: { start: { line: 50, character: 3 }, end: { line: 60, character: 0 } }, text: '' });
    await stillServes();
  });

  it('completes in a 10 MB document, after an edit, in reasonable time', async () => {
    const big = 'file:///work/big.py';
    const line = '    total = total + compute(value, factor=3)  # accumulate\n';
    const text = `def f(value):\n    total = 0\n${line.repeat(Math.ceil(10_000_000 / line.length))}`;
    const lines = text.split('\n').length - 1;
    const t0 = performance.now();
    server.open(big, text);
    server.type(big, { line: lines, character: 0 }, '    ');
    assert.equal(firstEdit(await server.completion(big, { line: lines, character: 4 })), 'return x');
    assert.equal(firstEdit(await server.completion(big, { line: 70_000, character: 4 })), 'return x');
    assert.ok(performance.now() - t0 < 20_000);
    server.rpc.sendNotification('textDocument/didClose', { textDocument: { uri: big } });
    await stillServes();
  });

  it('completes in a binary file (NUL bytes, invalid UTF-8) without failing', async () => {
    const bin = 'file:///work/blob.bin';
    const bytes = Buffer.from(Array.from({ length: 20_000 }, (_, i) => (i * 7919) % 256));
    server.open(bin, bytes.toString('latin1'), 'plaintext');
    const r = await server.completion(bin, { line: 0, character: 3 });
    assert.equal(r.isIncomplete, true);
    for (const item of r.items) assert.equal(typeof item.textEdit.newText, 'string');
    server.open('file:///work/nul.py', 'x = "\u0000\u0000"\n\u0000\n');
    await server.completion('file:///work/nul.py', { line: 1, character: 1 });
    await stillServes();
  });

  it('exits cleanly when stdin closes', async () => {
    server.child.stdin.end();
    assert.equal(await server.exited, 0);
  });
});

describe('a model that cannot be loaded', () => {
  it('shows one clear message, answers empty results and keeps serving', async () => {
    const server = new ServerProcess(['--model', join(root, 'no-such-model')], env);
    try {
      await server.initialize({});
      const shown = await server.waitForNotification((n) => n.method === 'window/showMessage');
      assert.equal(shown.params.type, 1);
      assert.match(shown.params.message, /cannot load the model: .*no-such-model/);
      server.open(DOC, 'x = \n');
      assert.deepEqual((await server.completion(DOC, { line: 0, character: 4 })).items, []);
      assert.equal(await server.inline(DOC, { line: 0, character: 4 }), null);
      const s = await server.command('codefudge.status');
      assert.equal(s.model.state, 'failed');
      assert.match(s.model.error, /no-such-model/);
      // A working model named in the settings recovers the server.
      server.configure({ model });
      await server.waitForModel('ready', model);
      assert.equal(firstEdit(await server.completion(DOC, { line: 0, character: 4 })), 'return x');
      assert.equal(server.notifications.filter((n) => n.method === 'window/showMessage').length, 1);
      assert.equal(await server.shutdown(), 0);
    } finally {
      server.kill();
    }
  });
});
