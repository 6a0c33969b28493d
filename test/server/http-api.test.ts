// `codefudge serve --http` as a real process on a loopback port, driven with raw HTTP: every field
// of OpenAI's completion schema checked, streaming included, and vLLM's adapter routes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HttpServerProcess, post, sseEvents } from '../helpers/http-server-process.js';
import { makeScriptedModel, writeNoOpAdapter } from '../helpers/scripted-model.js';

const root = mkdtempSync(join(tmpdir(), 'cf-http-api-'));
const model = join(root, 'return-x');
const adapter = join(root, 'repo', '.codefudge', 'adapter');
const env = { CODEFUDGE_CACHE: join(root, 'cache') };
const NAME = basename(model);
let server: HttpServerProcess;
let url: string;

before(async () => {
  await makeScriptedModel(model, 'return x');
  writeNoOpAdapter(adapter, model);
  server = new HttpServerProcess(['--model', model, '--threads', '1'], env);
  url = await server.url;
});
after(() => {
  server?.kill();
  rmSync(root, { recursive: true, force: true });
});

const now = () => Math.floor(Date.now() / 1000);

/** A whole (non-streamed) completion, field by field. */
function assertCompletion(body: any, model: string, choices: { text: string; finish_reason: string }[]): void {
  assert.deepEqual(Object.keys(body).sort(), ['choices', 'created', 'id', 'model', 'object', 'usage']);
  assert.match(body.id, /^cmpl-[0-9a-f]{32}$/);
  assert.equal(body.object, 'text_completion');
  assert.ok(Number.isInteger(body.created) && Math.abs(body.created - now()) < 60, `created ${body.created}`);
  assert.equal(body.model, model);
  assert.equal(body.choices.length, choices.length);
  body.choices.forEach((c: any, i: number) => {
    assert.deepEqual(Object.keys(c).sort(), ['finish_reason', 'index', 'logprobs', 'text']);
    assert.equal(c.index, i);
    assert.equal(c.logprobs, null);
    assert.equal(c.text, choices[i].text);
    assert.equal(c.finish_reason, choices[i].finish_reason);
  });
  assert.deepEqual(Object.keys(body.usage).sort(), ['completion_tokens', 'prompt_tokens', 'total_tokens']);
  assert.ok(Number.isInteger(body.usage.prompt_tokens) && body.usage.prompt_tokens > 0);
  assert.ok(Number.isInteger(body.usage.completion_tokens) && body.usage.completion_tokens > 0);
  assert.equal(body.usage.total_tokens, body.usage.prompt_tokens + body.usage.completion_tokens);
}

const FIM = '<fim_prefix>def f(x):\n    <fim_suffix>\n<fim_middle>';

describe('codefudge serve --http', () => {
  it('listens on loopback by default and prints the URL', () => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('GET /v1/models lists the base model', async () => {
    const res = await fetch(`${url}/v1/models`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^application\/json/);
    const body = (await res.json()) as any;
    assert.equal(body.object, 'list');
    assert.equal(body.data.length, 1);
    const m = body.data[0];
    assert.equal(m.id, NAME);
    assert.equal(m.object, 'model');
    assert.ok(Number.isInteger(m.created));
    assert.equal(m.owned_by, 'codefudge');
    assert.equal(m.parent, null);
    assert.equal(m.max_model_len, 2048);
  });

  it('POST /v1/completions answers with the whole completion', async () => {
    const r = await post(`${url}/v1/completions`, { model: NAME, prompt: FIM, max_tokens: 16, temperature: 0 });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type')!, /^application\/json/);
    assertCompletion(r.json, NAME, [{ text: 'return x', finish_reason: 'stop' }]);
  });

  it('builds the fill-in-the-middle prompt itself from prompt and suffix', async () => {
    const r = await post(`${url}/v1/completions`, { model: NAME, prompt: 'def f(x):\n    ', suffix: '\n', max_tokens: 16, temperature: 0 });
    assertCompletion(r.json, NAME, [{ text: 'return x', finish_reason: 'stop' }]);
    const ids = await post(`${url}/v1/completions`, { model: NAME, prompt: [1, 2, 3], max_tokens: 4, temperature: 0 });
    assert.equal(ids.status, 200, ids.text);
    assert.equal(ids.json.usage.prompt_tokens, 3);
  });

  it('ends at max_tokens with finish_reason "length", and before a stop string with "stop"', async () => {
    const r = await post(`${url}/v1/completions`, { model: NAME, prompt: FIM, max_tokens: 1, temperature: 0 });
    assert.equal(r.json.choices[0].finish_reason, 'length');
    assert.equal(r.json.usage.completion_tokens, 1);
    assert.ok('return x'.startsWith(r.json.choices[0].text) && r.json.choices[0].text.length > 0);
    const s = await post(`${url}/v1/completions`, { model: NAME, prompt: FIM, max_tokens: 16, temperature: 0, stop: [' x', 'zzz'] });
    assertCompletion(s.json, NAME, [{ text: 'return', finish_reason: 'stop' }]);
    const one = await post(`${url}/v1/completions`, { model: NAME, prompt: FIM, max_tokens: 16, temperature: 0, stop: 'urn' });
    assert.equal(one.json.choices[0].text, 'ret');
  });

  it("streams server-sent events in OpenAI's chunk format, ending with [DONE]", async () => {
    const r = await post(`${url}/v1/completions`, {
      model: NAME,
      prompt: FIM,
      max_tokens: 16,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type')!, /^text\/event-stream/);
    assert.equal(r.headers.get('cache-control'), 'no-cache');
    const events = sseEvents(r.text);
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    const usage = chunks.pop();
    assert.deepEqual(usage.choices, []);
    assert.equal(usage.usage.total_tokens, usage.usage.prompt_tokens + usage.usage.completion_tokens);
    assert.ok(chunks.length >= 3, `one chunk per token, got ${chunks.length}`);
    const id = chunks[0].id;
    assert.match(id, /^cmpl-[0-9a-f]{32}$/);
    for (const [i, c] of chunks.entries()) {
      assert.deepEqual(Object.keys(c).sort(), ['choices', 'created', 'id', 'model', 'object']);
      assert.equal(c.id, id);
      assert.equal(c.object, 'text_completion');
      assert.equal(c.model, NAME);
      assert.ok(Number.isInteger(c.created));
      assert.equal(c.choices.length, 1);
      assert.deepEqual(Object.keys(c.choices[0]).sort(), ['finish_reason', 'index', 'logprobs', 'text']);
      assert.equal(c.choices[0].index, 0);
      assert.equal(c.choices[0].logprobs, null);
      assert.equal(c.choices[0].finish_reason, i === chunks.length - 1 ? 'stop' : null);
    }
    assert.equal(chunks.map((c) => c.choices[0].text).join(''), 'return x');
  });

  it('never streams text that a stop string later takes back', async () => {
    const r = await post(`${url}/v1/completions`, {
      model: NAME,
      prompt: FIM,
      max_tokens: 16,
      temperature: 0,
      stream: true,
      stop: ['rn x'],
    });
    const chunks = sseEvents(r.text)
      .slice(0, -1)
      .map((e) => JSON.parse(e));
    assert.equal(chunks.map((c) => c.choices[0].text).join(''), 'retu');
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
  });

  it('runs n/best_of as beam search and returns the n best beams', async () => {
    const r = await post(`${url}/v1/completions`, { model: NAME, prompt: FIM, max_tokens: 8, temperature: 0, n: 2, best_of: 3 });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.choices.length, 2);
    assert.deepEqual(
      r.json.choices.map((c: any) => c.index),
      [0, 1],
    );
    // The scripted model is nearly uniform, so its beams say little: the embedded model's are checked against in-process beam search in http-backend.
    for (const c of r.json.choices) assert.ok(['stop', 'length'].includes(c.finish_reason));
    const s = await post(`${url}/v1/completions`, { model: NAME, prompt: FIM, max_tokens: 8, temperature: 0, n: 2, stream: true });
    const chunks = sseEvents(s.text)
      .slice(0, -1)
      .map((e) => JSON.parse(e));
    assert.deepEqual(
      chunks.at(-1).choices.map((c: any) => c.index),
      [0, 1],
    );
    assert.deepEqual(
      chunks.at(-1).choices.map((c: any) => c.text),
      r.json.choices.map((c: any) => c.text),
    );
  });

  it("loads an adapter by name (vLLM's route), serves it as a model, and unloads it", async () => {
    const load = await post(`${url}/v1/load_lora_adapter`, { lora_name: 'repo', lora_path: adapter });
    assert.equal(load.status, 200, load.text);
    assert.equal(load.text, "Success: LoRA adapter 'repo' added successfully.");
    const models = (await (await fetch(`${url}/v1/models`)).json()) as any;
    assert.deepEqual(
      models.data.map((m: any) => m.id),
      [NAME, 'repo'],
    );
    assert.equal(models.data[1].parent, NAME);
    assert.equal(models.data[1].root, adapter);
    const r = await post(`${url}/v1/completions`, { model: 'repo', prompt: FIM, max_tokens: 16, temperature: 0 });
    assertCompletion(r.json, 'repo', [{ text: 'return x', finish_reason: 'stop' }]);
    // Base and adapter requests interleave: the adapter is swapped per request.
    const base = await post(`${url}/v1/completions`, { model: NAME, prompt: FIM, max_tokens: 16, temperature: 0 });
    assert.equal(base.json.choices[0].text, 'return x');
    const again = await post(`${url}/v1/load_lora_adapter`, { lora_name: 'repo', lora_path: adapter });
    assert.equal(again.status, 400);
    assert.match(again.json.error.message, /already been loaded/);
    const unload = await post(`${url}/v1/unload_lora_adapter`, { lora_name: 'repo' });
    assert.equal(unload.status, 200, unload.text);
    const gone = await post(`${url}/v1/completions`, { model: 'repo', prompt: FIM });
    assert.equal(gone.status, 404);
    assert.equal(gone.json.error.code, 'model_not_found');
  });

  it('is still alive', () => assert.ok(server.alive, server.stderr));
});

describe('codefudge serve --http --api-key', () => {
  let secured: HttpServerProcess;
  let surl: string;
  before(async () => {
    secured = new HttpServerProcess(['--model', model, '--threads', '1'], { ...env, CODEFUDGE_API_KEY: 'sesame' });
    surl = await secured.url;
  });
  after(() => secured?.kill());

  it('refuses requests without the bearer token with 401 and an OpenAI error body', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong' }, { authorization: 'Basic c2VzYW1l' }]) {
      const r = await post(`${surl}/v1/completions`, { model: NAME, prompt: FIM }, headers);
      assert.equal(r.status, 401);
      assert.equal(r.json.error.type, 'authentication_error');
      assert.equal(r.json.error.code, 'invalid_api_key');
      assert.equal(typeof r.json.error.message, 'string');
    }
    const models = await fetch(`${surl}/v1/models`);
    assert.equal(models.status, 401);
  });

  it('serves requests with it, and /health without it', async () => {
    const r = await post(
      `${surl}/v1/completions`,
      { model: NAME, prompt: FIM, max_tokens: 16, temperature: 0 },
      { authorization: 'Bearer sesame' },
    );
    assert.equal(r.json.choices[0].text, 'return x');
    assert.equal((await fetch(`${surl}/health`)).status, 200);
  });
});
