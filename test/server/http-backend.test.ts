// The OpenAI-compatible client against a real `codefudge serve --http` (the embedded model): the
// same text as in-process for the same model and prompt, streamed or not; and, against small
// real HTTP servers that misbehave on purpose, retries on 429/503, timeouts, stalls, one-line errors.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Completer, embeddedModelDir, EMBEDDED_MODEL, type FimRequest } from '../../engine/index.js';
import { BackendError, LocalBackend, OpenAiBackend, RemoteCompleter } from '../../server/index.js';
import { lineEndCut } from '../../server/block-end.js';
import { sseData } from '../../server/backend/sse.js';
import { HttpServerProcess, post } from '../helpers/http-server-process.js';

const root = mkdtempSync(join(tmpdir(), 'cf-http-backend-'));
const env = { CODEFUDGE_CACHE: process.env.CODEFUDGE_CACHE ?? join(root, 'cache') };
let server: HttpServerProcess;
let url: string;
let local: Completer;

before(async () => {
  server = new HttpServerProcess(['--threads', '1'], env);
  process.env.CODEFUDGE_CACHE = env.CODEFUDGE_CACHE;
  local = await Completer.load(embeddedModelDir(), { threads: 1 });
  url = await server.url;
});
after(async () => {
  server?.kill();
  await local?.release();
  rmSync(root, { recursive: true, force: true });
});

const FILES: [string, string][] = [
  ['import os\n\ndef read_file(path):\n    ', '\n\nprint(read_file("x"))\n'],
  ['class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n        ', '\n'],
  ['def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n', ''],
  ['for i in range(10):\n    if i % 2 == 0:\n        ', '\n    else:\n        continue\n'],
];

describe('the OpenAI client against codefudge serve --http', () => {
  it('gives the same text as the in-process backend for the same prompt, streamed or not', async () => {
    const remote = new OpenAiBackend({ url, model: EMBEDDED_MODEL });
    const inProcess = new LocalBackend(async () => local);
    for (const [prefix, suffix] of FILES) {
      const prompt = local.template.render(prefix, suffix, local.preferredFimMode);
      for (const stop of [[], ['\n\n']]) {
        const req = { prompt, maxTokens: 24, temperature: 0, stop, signal: new AbortController().signal };
        const want = await inProcess.complete(req);
        const deltas: string[] = [];
        const got = await remote.complete({ ...req, onText: (d) => deltas.push(d) });
        assert.deepEqual(got, want, `prompt ${JSON.stringify(prefix.slice(-20))} stop ${JSON.stringify(stop)}`);
        assert.equal(deltas.join(''), got.text);
      }
    }
  });

  it('RemoteCompleter completes like Completer: same prompt budgets, line/block stops and loop stop', async () => {
    const remote = RemoteCompleter_({ url, model: EMBEDDED_MODEL });
    const rc = await remote();
    for (const [prefix, suffix] of FILES) {
      for (const extra of [{}, { stopAt: lineEndCut }, { stopStrings: ['\n\n'] }, { maxPrefixTokens: 16, maxSuffixTokens: 8 }]) {
        const req: FimRequest = { prefix, suffix, maxNewTokens: 40, stopOnLoop: true, ...extra };
        const want = await local.complete(req);
        const got = await rc.complete(req);
        assert.equal(got.text, want.text, `${JSON.stringify(prefix.slice(-20))} ${JSON.stringify(Object.keys(extra))}`);
        // A server says "stop" for a stop token and a stop string alike; the length and loop ends must agree.
        for (const reason of ['max-tokens', 'loop'] as const)
          assert.equal(got.reason === reason, want.reason === reason, `${got.reason} vs ${want.reason}`);
        assert.equal(got.promptTokens, want.promptTokens);
      }
    }
  });

  it("n/best_of over HTTP are the in-process beam search's best beams", async () => {
    const [prefix, suffix] = FILES[1];
    const prompt = local.template.render(prefix, suffix, local.preferredFimMode);
    const r = await post(`${url}/v1/completions`, {
      model: EMBEDDED_MODEL,
      prompt,
      max_tokens: 12,
      temperature: 0,
      n: 2,
      best_of: 3,
      stop: ['\n'],
    });
    const want = await local.completeIds(local.withBos(local.tokenizer.encode(prompt)), {
      maxNewTokens: 12,
      numBeams: 3,
      stopStrings: ['\n'],
    });
    assert.deepEqual(
      r.json.choices.map((c: any) => c.text),
      want.candidates!.slice(0, 2).map((c) => c.text),
    );
  });

  it('a cancelled request returns at once with what came so far, and the server goes on serving', async () => {
    const remote = new OpenAiBackend({ url, model: EMBEDDED_MODEL });
    const abort = new AbortController();
    let deltas = 0;
    const t0 = performance.now();
    const r = await remote.complete({
      prompt: 'def f(x):\n    ',
      maxTokens: 200,
      temperature: 0,
      stop: [],
      signal: abort.signal,
      onText: () => {
        if (++deltas === 1) abort.abort();
      },
    });
    assert.equal(r.finishReason, 'abort');
    assert.ok(performance.now() - t0 < 5000);
    const next = await remote.complete({ prompt: 'import ', maxTokens: 3, temperature: 0, stop: [], signal: new AbortController().signal });
    assert.equal(next.finishReason, 'length');
  });

  it('lists the served models', async () => {
    assert.deepEqual(await new OpenAiBackend({ url: `${url}/v1/`, model: 'x' }).models(), [EMBEDDED_MODEL]);
  });
});

/** A RemoteCompleter over the OpenAI client with the embedded model's tokenizer. */
function RemoteCompleter_(o: { url: string; model: string }) {
  return () => RemoteCompleter.load(new OpenAiBackend(o), embeddedModelDir());
}

/** A real HTTP server on a loopback port whose answers the test scripts. */
async function scripted(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const s = createServer(handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    server: s,
    close: () =>
      new Promise<void>((r) => {
        s.closeAllConnections();
        s.close(() => r());
      }),
  };
}

const sse = (...texts: string[]) =>
  texts.map((t) => `data: ${JSON.stringify({ choices: [{ text: t, index: 0, finish_reason: null }] })}\n\n`).join('') +
  `data: ${JSON.stringify({ choices: [{ text: '', index: 0, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`;

const req = (over: Partial<Parameters<OpenAiBackend['complete']>[0]> = {}) => ({
  prompt: 'p',
  maxTokens: 4,
  temperature: 0,
  stop: [],
  signal: new AbortController().signal,
  ...over,
});

describe('the OpenAI client against servers that misbehave', () => {
  it('retries 503 and 429 with backoff, honouring Retry-After, then streams', async () => {
    let calls = 0;
    const bodies: any[] = [];
    const s = await scripted((rq, res) => {
      let body = '';
      rq.on('data', (d) => {
        body += d;
      });
      rq.on('end', () => {
        bodies.push(JSON.parse(body));
        calls++;
        if (calls === 1) res.writeHead(503, { 'retry-after': '0' }).end('{"error":{"message":"loading"}}');
        else if (calls === 2) res.writeHead(429).end('{"error":{"message":"slow down"}}');
        else res.writeHead(200, { 'content-type': 'text/event-stream' }).end(sse('hel', 'lo'));
      });
    });
    try {
      const r = await new OpenAiBackend({ url: s.url, model: 'm', backoffMs: 10, apiKey: 'k' }).complete(
        req({ stop: ['\n'], topP: 0.9, temperature: 0.2 }),
      );
      assert.deepEqual(r, { text: 'hello', finishReason: 'stop' });
      assert.equal(calls, 3);
      assert.deepEqual(bodies[0], { model: 'm', prompt: 'p', max_tokens: 4, temperature: 0.2, top_p: 0.9, stop: ['\n'], stream: true });
    } finally {
      await s.close();
    }
  });

  it('gives up after its retries with one line naming the server and the status', async () => {
    const s = await scripted((_rq, res) => res.writeHead(429).end('{"error":{"message":"rate limited\\nsecond line"}}'));
    try {
      await assert.rejects(new OpenAiBackend({ url: s.url, model: 'm', backoffMs: 1, retries: 2 }).complete(req()), (e: unknown) => {
        assert.ok(e instanceof BackendError);
        assert.equal(e.status, 429);
        assert.equal(e.message, `backend ${s.url} answered 429 to /v1/completions: rate limited`);
        return true;
      });
      const bad = await scripted((_rq, res) => res.writeHead(404).end('{"object":"error","message":"The model `m` does not exist."}'));
      await assert.rejects(
        new OpenAiBackend({ url: bad.url, model: 'm' }).complete(req()),
        /answered 404 to \/v1\/completions: The model `m` does not exist\.$/,
      );
      await bad.close();
    } finally {
      await s.close();
    }
  });

  it('times out a server that does not answer, and one that stops streaming', async () => {
    const silent = await scripted(() => undefined);
    const stalls = await scripted((_rq, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sse('a').split('\n\n')[0] + '\n\n');
    });
    try {
      await assert.rejects(
        new OpenAiBackend({ url: silent.url, model: 'm', timeoutMs: 300, retries: 0 }).complete(req()),
        /did not answer within 0\.3 s/,
      );
      await assert.rejects(
        new OpenAiBackend({ url: stalls.url, model: 'm', timeoutMs: 300 }).complete(req()),
        /stopped streaming for 0\.3 s/,
      );
    } finally {
      await silent.close();
      await stalls.close();
    }
  });

  it('says a server is unreachable, and a URL is bad, in one line', async () => {
    const s = await scripted(() => undefined);
    const { url: gone } = s;
    await s.close();
    await assert.rejects(
      new OpenAiBackend({ url: gone, model: 'm' }).complete(req()),
      new RegExp(`^BackendError: backend ${gone} is unreachable: ECONNREFUSED$`),
    );
    assert.throws(() => new OpenAiBackend({ url: 'ftp://x', model: 'm' }), /must be http/);
    assert.throws(() => new OpenAiBackend({ url: 'not a url', model: 'm' }), /is not a URL/);
  });

  it('reads a server that ignores stream and answers with one JSON object', async () => {
    const s = await scripted((_rq, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ choices: [{ text: 'whole', finish_reason: 'length' }] })),
    );
    try {
      const deltas: string[] = [];
      assert.deepEqual(await new OpenAiBackend({ url: s.url, model: 'm' }).complete(req({ onText: (d) => deltas.push(d) })), {
        text: 'whole',
        finishReason: 'length',
      });
      assert.deepEqual(deltas, ['whole']);
    } finally {
      await s.close();
    }
  });
});

describe('sseData', () => {
  it('splits events on blank lines across chunk boundaries, CRLF included', async () => {
    const parts = ['data: {"a"', ':1}\r', '\n\r\ndata: x\ndata: y\n', '\ndata: [DONE]'];
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const p of parts) c.enqueue(new TextEncoder().encode(p));
        c.close();
      },
    });
    const got: string[] = [];
    for await (const d of sseData(body)) got.push(d);
    assert.deepEqual(got, ['{"a":1}', 'x\ny', '[DONE]']);
  });
});
