// A seeded protocol fuzzer over stdio (issue 17's "done means"): a few thousand messages, valid and
// invalid mixed (every case of the issue: edits far past the end, string positions, didOpen without
// text, null params, cancellation at once, garbage bytes, malformed and oversized headers), written
// as raw frames. Every request must be answered (a result or an error, RequestCancelled included),
// none slower than 2 s, the server's RSS must grow by less than 100 MB, and it must exit 0 after
// shutdown/exit. The run is bounded: at most 16 requests in flight, a fixed message count.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CLI, REPO } from '../helpers/lsp-client.js';
import { makeScriptedModel } from '../helpers/scripted-model.js';

const SEED = 1717;
const MESSAGES = 3000;
const MAX_IN_FLIGHT = 16;
const MAX_ANSWER_MS = 2000;

const root = mkdtempSync(join(tmpdir(), 'cf-fuzz-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** mulberry32: small, seeded, the same sequence everywhere. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
    chance: (p: number) => next() < p,
  };
}

function rssMb(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

const frame = (body: string) => `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

const SNIPPETS = [
  'def f(x):\n    ',
  'class A:\n    def g(self):\n        ',
  'x = [1, 2,\n',
  'print("a $1 ${b} \\\\")\n',
  'for i in range(3):\n\t',
  '',
  '\n\n\n',
  'é漢字😀 = 1\n',
  '"""doc\n',
];

describe('protocol fuzzing', () => {
  it(`answers every request of ${MESSAGES} mixed messages in time, in bounded memory, and exits 0`, { timeout: 120_000 }, async () => {
    const model = join(root, 'model');
    await makeScriptedModel(model, 'return x');
    const child = spawn(process.execPath, [CLI, 'serve', '--model', model, '--threads', '1'], {
      cwd: REPO,
      env: { ...process.env, CODEFUDGE_CACHE: join(root, 'cache') },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

    // Answers, read off the wire by id.
    const sent = new Map<number, { method: string; at: number }>();
    const answered = new Map<number, { ms: number; error?: number }>();
    let waiters: (() => void)[] = [];
    let pending = Buffer.alloc(0);
    child.stdout.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      for (;;) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) break;
        const length = Number(/Content-Length: (\d+)/i.exec(pending.subarray(0, end).toString())![1]);
        if (pending.length < end + 4 + length) break;
        const msg = JSON.parse(pending.subarray(end + 4, end + 4 + length).toString());
        pending = pending.subarray(end + 4 + length);
        if (typeof msg.id === 'number' && sent.has(msg.id) && !('method' in msg)) {
          answered.set(msg.id, { ms: performance.now() - sent.get(msg.id)!.at, error: msg.error?.code });
          const w = waiters;
          waiters = [];
          for (const f of w) f();
        } else if (typeof msg.id === 'number' && 'method' in msg) {
          // A request from the server (progress, configuration): answer it.
          child.stdin.write(frame(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: null })));
        }
      }
    });
    const write = (s: string) => child.stdin.write(s);
    const send = (obj: object) => write(frame(JSON.stringify({ jsonrpc: '2.0', ...obj })));
    let nextId = 1;
    const request = (method: string, params: unknown): number => {
      const id = nextId++;
      sent.set(id, { method, at: performance.now() });
      send({ id, method, params });
      return id;
    };
    const inFlight = () => sent.size - answered.size;
    const answer = (id: number) =>
      new Promise<void>((resolve) => {
        const check = () => (answered.has(id) ? resolve() : waiters.push(check));
        check();
      });
    const room = () =>
      new Promise<void>((resolve) => {
        const check = () => (inFlight() < MAX_IN_FLIGHT ? resolve() : waiters.push(check));
        check();
      });

    const init = request('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: {},
      initializationOptions: { debounceMs: 0, maxTokens: 16 },
    });
    await answer(init);
    send({ method: 'initialized', params: {} });
    const r = rng(SEED);
    const uris = Array.from({ length: 8 }, (_, i) => `file:///fuzz/doc${i}.py`);
    const pos = () =>
      r.chance(0.8)
        ? { line: r.int(8), character: r.int(12) }
        : r.pick([
            { line: 1e9, character: 0 },
            { line: 0, character: 1e9 },
            { line: 'a', character: 0 },
            { line: -1, character: 2 },
            { line: 1.5, character: 0 },
            { line: null, character: null },
            {},
            'x',
          ] as unknown[]);
    const text = () => Array.from({ length: 1 + r.int(4) }, () => r.pick(SNIPPETS)).join('');
    for (const uri of uris)
      send({ method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'python', version: 1, text: text() } } });
    // Warm up (the model loads in the background), then measure memory from here.
    await answer(
      request('textDocument/completion', {
        textDocument: { uri: uris[0] },
        position: { line: 0, character: 0 },
        context: { triggerKind: 1 },
      }),
    );
    const rss0 = rssMb(child.pid!);
    const t0 = performance.now();
    // Start-up (loading the code, then the model) is not an answer under fuzzing: timed from here.
    const firstFuzzed = nextId;

    const kinds: Record<string, number> = {};
    for (let m = 0; m < MESSAGES; m++) {
      await room();
      const uri = r.pick(uris);
      const kind = r.pick([
        'change',
        'change',
        'change',
        'badChange',
        'complete',
        'complete',
        'complete',
        'inline',
        'inline',
        'cancelAtOnce',
        'badParams',
        'open',
        'openNoText',
        'close',
        'status',
        'unknown',
        'garbage',
        'badHeader',
        'hugeHeader',
        'badJson',
        'config',
      ] as const);
      kinds[kind] = (kinds[kind] ?? 0) + 1;
      switch (kind) {
        case 'change': {
          const start = pos();
          send({
            method: 'textDocument/didChange',
            params: {
              textDocument: { uri, version: m + 2 },
              contentChanges: [{ range: { start, end: r.chance(0.5) ? start : pos() }, text: r.pick(['y\n', 'x', '', '    ', text()]) }],
            },
          });
          break;
        }
        case 'badChange':
          send({
            method: 'textDocument/didChange',
            params: r.pick<unknown>([
              {
                textDocument: { uri },
                contentChanges: [{ range: { start: { line: 'a', character: 0 }, end: { line: 0, character: 0 } }, text: 'zz' }],
              },
              { textDocument: { uri }, contentChanges: 'nope' },
              { textDocument: { uri }, contentChanges: [{ text: 42 }] },
              { textDocument: {}, contentChanges: [] },
              null,
            ]),
          });
          break;
        case 'complete':
          request('textDocument/completion', { textDocument: { uri }, position: pos(), context: { triggerKind: 1 + r.int(3) } });
          break;
        case 'inline':
          request('textDocument/inlineCompletion', { textDocument: { uri }, position: pos(), context: { triggerKind: 1 + r.int(2) } });
          break;
        case 'cancelAtOnce': {
          const id = request(r.pick(['textDocument/completion', 'textDocument/inlineCompletion']), {
            textDocument: { uri },
            position: pos(),
            context: { triggerKind: 1 },
          });
          send({ method: '$/cancelRequest', params: { id } });
          break;
        }
        case 'badParams':
          request(
            r.pick(['textDocument/completion', 'textDocument/inlineCompletion', 'workspace/executeCommand']),
            r.pick<unknown>([null, [1, 2], 'x', {}, { textDocument: { uri: 7 } }]),
          );
          break;
        case 'open':
          send({
            method: 'textDocument/didOpen',
            params: { textDocument: { uri, languageId: r.pick(['python', 'javascript', 7]), version: 1, text: text() } },
          });
          break;
        case 'openNoText':
          send({ method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'python', version: 1 } } });
          break;
        case 'close':
          send({ method: 'textDocument/didClose', params: { textDocument: { uri } } });
          break;
        case 'status':
          request('workspace/executeCommand', { command: r.pick(['codefudge.status', 'codefudge.nope']) });
          break;
        case 'unknown':
          if (r.chance(0.5)) request('textDocument/teleport', { x: 1 });
          else send({ method: 'custom/whatever', params: [1] });
          break;
        case 'garbage':
          write(Array.from({ length: 1 + r.int(300) }, () => String.fromCharCode(32 + r.int(90)).replace(/[Cc]/, '_')).join(''));
          break;
        case 'badHeader':
          write(r.pick(['Content-Type: text/plain\r\n\r\n', 'Content-Length: twelve\r\n\r\n', 'no colon here\r\n\r\n']));
          break;
        case 'hugeHeader':
          write(`Content-Length: ${65 * 1024 * 1024 + r.int(1e9)}\r\n\r\n{"jsonrpc":"2.0"`);
          break;
        case 'badJson':
          write(frame(r.pick(['{not json', '[1,2,3]', '{"jsonrpc":"2.0","id":{"x":1},"method":"textDocument/completion"}', '"str"'])));
          break;
        case 'config':
          send({
            method: 'workspace/didChangeConfiguration',
            params: {
              settings: r.pick<unknown>([
                { mode: 'single-line' },
                { mode: 'multi-line' },
                { maxTokens: 'many' },
                { debounceMs: r.int(30) },
                null,
                [1],
                { maxTokens: 8 + r.int(16) },
              ]),
            },
          });
          break;
      }
    }
    // Wait for the rest, but never forever: what is missing after 10 s is reported below.
    const deadline = Date.now() + 10_000;
    while (inFlight() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const fuzzMs = performance.now() - t0;
    const rss1 = rssMb(child.pid!);

    const missing = [...sent.keys()].filter((id) => !answered.has(id)).map((id) => `${id} ${sent.get(id)!.method}`);
    assert.deepEqual(missing, [], 'every request answered');
    const slow = [...answered.entries()]
      .filter(([id, a]) => id >= firstFuzzed && a.ms > MAX_ANSWER_MS)
      .map(([id, a]) => `${id} ${sent.get(id)!.method} ${Math.round(a.ms)} ms`);
    assert.deepEqual(slow, [], `no answer slower than ${MAX_ANSWER_MS} ms`);
    const codes = new Map<string, number>();
    for (const a of answered.values()) codes.set(String(a.error ?? 'result'), (codes.get(String(a.error ?? 'result')) ?? 0) + 1);
    // Internal errors would mean a handler crashed on input it should have refused.
    assert.equal(codes.get('-32603') ?? 0, 0, `answers by code: ${JSON.stringify([...codes])}`);
    assert.ok(
      (codes.get('-32800') ?? 0) > 0 && (codes.get('-32602') ?? 0) > 0 && (codes.get('result') ?? 0) > 0,
      JSON.stringify([...codes]),
    );
    if (rss0 !== undefined && rss1 !== undefined) assert.ok(rss1 - rss0 < 100, `RSS grew from ${rss0.toFixed(0)} to ${rss1.toFixed(0)} MB`);

    const down = request('shutdown', null);
    await answer(down);
    send({ method: 'exit' });
    assert.equal(await exited, 0, stderr.slice(-2000));
    const max = Math.max(...[...answered.entries()].filter(([id]) => id >= firstFuzzed).map(([, a]) => a.ms));
    if (process.env.FUZZ_DEBUG)
      process.stderr.write(
        JSON.stringify(
          [...answered.entries()]
            .filter(([id]) => id >= firstFuzzed)
            .sort((a, b) => b[1].ms - a[1].ms)
            .slice(0, 12)
            .map(([id, a]) => [id, sent.get(id)!.method, Math.round(a.ms), a.error]),
        ) + '\n',
      );
    process.stderr.write(
      `fuzz: ${MESSAGES} messages in ${Math.round(fuzzMs)} ms, ${sent.size} requests, slowest answer ${Math.round(max)} ms, ` +
        `RSS ${rss0?.toFixed(0)} -> ${rss1?.toFixed(0)} MB, answers ${JSON.stringify([...codes])}\n`,
    );
  });
});
