// The LSP server configured with a remote backend (`backend` setting) pointing at a real
// `codefudge serve --http`, both as processes, driven over stdio: the same completions as the
// LSP server running the same model in-process; cancellation; a backend that is down.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EMBEDDED_MODEL } from '../../engine/index.js';
import { HttpServerProcess } from '../helpers/http-server-process.js';
import { CancellationTokenSource, firstEdit, ServerProcess } from '../helpers/lsp-client.js';

const root = mkdtempSync(join(tmpdir(), 'cf-http-lsp-'));
const env = { CODEFUDGE_CACHE: process.env.CODEFUDGE_CACHE ?? join(root, 'cache') };
let http: HttpServerProcess;
let url: string;
let viaHttp: ServerProcess;
let inProcess: ServerProcess;

const DOCS: [string, string, { line: number; character: number }[]][] = [
  [
    'file:///w/files.py',
    'import os\n\n\ndef read_file(path):\n    \n\nprint(read_file("x"))\n',
    [
      { line: 4, character: 4 },
      { line: 1, character: 0 },
    ],
  ],
  [
    'file:///w/stack.py',
    'class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n        \n',
    [
      { line: 5, character: 8 },
      { line: 2, character: 13 },
    ],
  ],
  [
    'file:///w/loop.py',
    'for i in range(10):\n    if i % 2 == 0:\n        print(\n',
    [
      { line: 2, character: 14 },
      { line: 1, character: 4 },
    ],
  ],
];

before(async () => {
  // One after the other: processes compiling the same graph into one fresh cache at once can race.
  http = new HttpServerProcess(['--threads', '1'], env);
  url = await http.url;
  inProcess = new ServerProcess(['--threads', '1'], env);
  await inProcess.initialize({ debounceMs: 0 });
  await inProcess.waitForModel('ready');
  viaHttp = new ServerProcess(['--threads', '1'], env);
  await viaHttp.initialize({ debounceMs: 0, backend: { url, model: EMBEDDED_MODEL } });
  for (const s of [inProcess, viaHttp]) for (const [uri, text] of DOCS) s.open(uri, text);
});
after(() => {
  viaHttp?.kill();
  inProcess?.kill();
  http?.kill();
  rmSync(root, { recursive: true, force: true });
});

describe('the LSP server with an OpenAI-compatible backend', () => {
  it('completes exactly as the LSP server running the model in-process', { timeout: 120_000 }, async () => {
    let nonEmpty = 0;
    for (const mode of ['multi-line', 'single-line']) {
      inProcess.configure({ mode });
      viaHttp.configure({ mode });
      for (const [uri, , positions] of DOCS) {
        for (const position of positions) {
          const want = await inProcess.completion(uri, position);
          const got = await viaHttp.completion(uri, position);
          assert.deepEqual(got, want, `${uri} ${JSON.stringify(position)} ${mode}`);
          if (firstEdit(got)) nonEmpty++;
          assert.deepEqual(await viaHttp.inline(uri, position), await inProcess.inline(uri, position));
        }
      }
    }
    assert.ok(nonEmpty >= 4, `only ${nonEmpty} non-empty completions`);
    const status = await viaHttp.command('codefudge.status');
    assert.deepEqual(status.backend, { url, model: EMBEDDED_MODEL, state: 'ready', error: null });
    assert.equal(status.lastCompletion.source === 'model' || status.lastCompletion.source === 'cache', true);
  });

  it('$/cancelRequest cancels the request (and its HTTP request); the next one is answered', async () => {
    // A long single line the model keeps extending: the request is still streaming when cancelled.
    const uri = 'file:///w/numbers.py';
    viaHttp.open(uri, 'data = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, \n');
    viaHttp.configure({ maxTokens: 200, stopOnLoop: false });
    const cancel = new CancellationTokenSource();
    const pending = viaHttp.completion(uri, { line: 0, character: 45 }, 1, cancel);
    setTimeout(() => cancel.cancel(), 30);
    await assert.rejects(pending, (e: any) => e.code === -32800);
    viaHttp.configure({ maxTokens: 48, stopOnLoop: true });
    const [doc, , [position]] = DOCS[2];
    viaHttp.type(doc, { line: 0, character: 0 }, '#\n');
    inProcess.type(doc, { line: 0, character: 0 }, '#\n');
    const at = { line: position.line + 1, character: position.character };
    assert.deepEqual(await viaHttp.completion(doc, at), await inProcess.completion(doc, at));
    assert.ok((await viaHttp.command('codefudge.status')).requests.cancelled >= 1);
  });

  it('a backend that is down: one window/showMessage, empty results at once, back when it answers', { timeout: 60_000 }, async () => {
    // Only what this test causes (earlier explicit requests may have said "no suggestion").
    const before = viaHttp.notifications.length;
    viaHttp.configure({ backend: { url: 'http://127.0.0.1:9/', model: EMBEDDED_MODEL, timeoutMs: 2000 } });
    const t0 = Date.now();
    for (let i = 0; i < 3; i++) assert.deepEqual((await viaHttp.completion(DOCS[1][0], DOCS[1][2][0])).items, []);
    assert.ok(Date.now() - t0 < 10_000, 'the editor waited');
    const shown = viaHttp.notifications.slice(before).filter((n) => n.method === 'window/showMessage');
    assert.equal(shown.length, 1, JSON.stringify(shown));
    assert.equal(shown[0].params.type, 1);
    assert.match(
      shown[0].params.message,
      /^codefudge: backend http:\/\/127\.0\.0\.1:9 is unreachable: .* \(completions are empty until it answers\)$/,
    );
    assert.equal((await viaHttp.command('codefudge.status')).backend.state, 'down');
    viaHttp.configure({ backend: { url, model: EMBEDDED_MODEL } });
    assert.deepEqual(await viaHttp.completion(DOCS[1][0], DOCS[1][2][0]), await inProcess.completion(DOCS[1][0], DOCS[1][2][0]));
    assert.ok(viaHttp.alive && http.alive);
  });

  it('reports a bad backend setting and keeps the one it had', async () => {
    viaHttp.configure({ backend: { url: 'gpu-box:8000', model: 5 } });
    await viaHttp.waitForNotification(
      (n) => n.method === 'window/logMessage' && /setting "backend" must be an object \{url, model/.test(n.params.message),
    );
    assert.equal((await viaHttp.command('codefudge.status')).backend.url, url);
  });
});
