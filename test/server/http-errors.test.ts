// Bad requests to `codefudge serve --http` get a 4xx with OpenAI's error body, never a hang or a
// crash: malformed JSON, wrong types, oversize bodies, unknown models and adapters, bad routes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HttpServerProcess, post } from '../helpers/http-server-process.js';
import { makeScriptedModel } from '../helpers/scripted-model.js';

const root = mkdtempSync(join(tmpdir(), 'cf-http-errors-'));
const model = join(root, 'return-x');
const NAME = basename(model);
let server: HttpServerProcess;
let url: string;

before(async () => {
  await makeScriptedModel(model, 'return x', { maxPositionEmbeddings: 64 });
  server = new HttpServerProcess(['--model', model, '--threads', '1', '--max-body-bytes', '4096', '--max-tokens-limit', '32'], {
    CODEFUDGE_CACHE: join(root, 'cache'),
  });
  url = await server.url;
});
after(() => {
  server?.kill();
  rmSync(root, { recursive: true, force: true });
});

/** An OpenAI error body: {error: {message, type, param, code}}, the message one line. */
function assertError(r: { status: number; json: any; text: string }, status: number, param: string | null, message: RegExp): void {
  assert.equal(r.status, status, r.text);
  assert.ok(r.json, `not JSON: ${r.text}`);
  assert.deepEqual(Object.keys(r.json), ['error']);
  assert.deepEqual(Object.keys(r.json.error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(r.json.error.type, status >= 500 ? 'server_error' : 'invalid_request_error');
  assert.equal(r.json.error.param, param);
  assert.match(r.json.error.message, message);
  assert.doesNotMatch(r.json.error.message, /\n/);
}

const ok = { model: NAME, prompt: 'def f(x):', max_tokens: 4 };

describe('serve --http: bad requests', () => {
  it('malformed JSON and non-object bodies: 400', async () => {
    assertError(await post(`${url}/v1/completions`, '{"model": '), 400, null, /not valid JSON/);
    assertError(await post(`${url}/v1/completions`, ''), 400, null, /empty/);
    assertError(await post(`${url}/v1/completions`, '[1,2]'), 400, null, /JSON object/);
    assertError(await post(`${url}/v1/completions`, 'null'), 400, null, /JSON object/);
  });

  it('wrong types and out-of-range values: 400 naming the field', async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ model: 5 }, 'model', /non-empty string/],
      [{ model: '' }, 'model', /non-empty string/],
      [{ prompt: undefined }, 'prompt', /required/],
      [{ prompt: 7 }, 'prompt', /string/],
      [{ prompt: ['a', 'b'] }, 'prompt', /one prompt per request/],
      [{ prompt: [1.5] }, 'prompt', /string/],
      [{ max_tokens: '5' }, 'max_tokens', /must be a number/],
      [{ max_tokens: 0 }, 'max_tokens', /between 1 and 32/],
      [{ max_tokens: 33 }, 'max_tokens', /between 1 and 32/],
      [{ max_tokens: 2.5 }, 'max_tokens', /integer/],
      [{ temperature: 'hot' }, 'temperature', /number/],
      [{ temperature: 3 }, 'temperature', /between 0 and 2/],
      [{ top_p: 1.5 }, 'top_p', /between 0 and 1/],
      [{ stop: 5 }, 'stop', /string/],
      [{ stop: ['a', 3] }, 'stop', /strings/],
      [{ stop: Array(17).fill('x') }, 'stop', /at most 16/],
      [{ stream: 'yes' }, 'stream', /true or false/],
      [{ n: 0 }, 'n', /between 1 and 8/],
      [{ n: 9 }, 'n', /between 1 and 8/],
      [{ n: 3, best_of: 2 }, 'best_of', /at least n/],
      [{ suffix: 1 }, 'suffix', /string/],
      [{ echo: true }, 'echo', /not supported/],
      [{ logprobs: 5 }, 'logprobs', /not supported/],
      [{ seed: -1 }, 'seed', /between/],
    ];
    for (const [change, param, message] of cases) {
      const r = await post(`${url}/v1/completions`, { ...ok, ...change });
      assertError(r, 400, param, message);
    }
  });

  it("a prompt too long for the model's context: 400 context_length_exceeded", async () => {
    const r = await post(`${url}/v1/completions`, { ...ok, prompt: 'x = 1\n'.repeat(200) });
    assertError(r, 400, 'prompt', /maximum context length is 64 tokens/);
    assert.equal(r.json.error.code, 'context_length_exceeded');
    assertError(await post(`${url}/v1/completions`, { ...ok, prompt: [100000] }), 400, 'prompt', /outside the vocabulary/);
  });

  it('oversize bodies: 413, by Content-Length or while reading a chunked body', async () => {
    const big = { ...ok, prompt: 'x'.repeat(5000) };
    assertError(await post(`${url}/v1/completions`, big), 413, null, /larger than 4096 bytes/);
    // No Content-Length: the body is streamed and refused once past the limit.
    const chunked = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        start(c) {
          for (let i = 0; i < 8; i++) c.enqueue(new TextEncoder().encode(' '.repeat(1000)));
          c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    assert.equal(chunked.status, 413);
    assert.match(((await chunked.json()) as any).error.message, /larger than/);
  });

  it('unknown models and adapters: 404 model_not_found; bad adapter folders: 400', async () => {
    const r = await post(`${url}/v1/completions`, { ...ok, model: 'no-such-adapter' });
    assertError(r, 404, 'model', /The model `no-such-adapter` does not exist/);
    assert.equal(r.json.error.code, 'model_not_found');
    assertError(await post(`${url}/v1/unload_lora_adapter`, { lora_name: 'nope' }), 404, 'lora_name', /cannot be found/);
    assertError(
      await post(`${url}/v1/load_lora_adapter`, { lora_name: 'x', lora_path: join(root, 'missing') }),
      400,
      'lora_path',
      /does not exist/,
    );
    assertError(await post(`${url}/v1/load_lora_adapter`, { lora_name: 'x', lora_path: model }), 400, 'lora_path', /adapter_config\.json/);
    assertError(await post(`${url}/v1/load_lora_adapter`, { lora_name: 3, lora_path: model }), 400, 'lora_name', /lora_name/);
    assertError(await post(`${url}/v1/load_lora_adapter`, { lora_name: 'x' }), 400, 'lora_path', /lora_path/);
    assertError(await post(`${url}/v1/load_lora_adapter`, '"x"'), 400, null, /JSON object/);
  });

  it('unknown routes: 404; wrong methods: 405', async () => {
    const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', body: '{}' });
    assert.equal(r.status, 404);
    assert.match(((await r.json()) as any).error.message, /no route POST \/v1\/chat\/completions/);
    const m = await fetch(`${url}/v1/completions`);
    assert.equal(m.status, 405);
    assert.match(((await m.json()) as any).error.message, /takes POST/);
  });

  it('bytes that are no HTTP: 400 and the connection closed', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(url).port), '127.0.0.1');
      let got = '';
      socket.on('data', (d) => {
        got += d.toString();
      });
      socket.on('end', () => resolve(got));
      socket.on('error', reject);
      socket.write('NOT HTTP AT ALL\r\n\r\n');
    });
    assert.match(reply, /^HTTP\/1\.1 400/);
  });

  it('answers a valid request after all that', async () => {
    const r = await post(`${url}/v1/completions`, {
      model: NAME,
      prompt: '<fim_prefix>def f(x):\n    <fim_suffix>\n<fim_middle>',
      max_tokens: 16,
      temperature: 0,
    });
    assert.equal(r.status, 200);
    assert.equal(r.json.choices[0].text, 'return x');
    assert.ok(server.alive);
    assert.doesNotMatch(server.stderr, /internal error|Error:/);
  });
});
