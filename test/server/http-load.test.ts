// 50 concurrent clients on `codefudge serve --http`, some cancelling at random moments: every
// request is answered or cancelled (none lost, none hanging), the server stays up, its memory flat.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mulberry32 } from '../helpers/tiny-model.js';
import { HttpServerProcess, post, sseEvents } from '../helpers/http-server-process.js';
import { makeScriptedModel } from '../helpers/scripted-model.js';

const root = mkdtempSync(join(tmpdir(), 'cf-http-load-'));
// Loops until max_tokens: every generation runs its whole length unless cancelled.
const model = join(root, 'loop');
const NAME = basename(model);
let server: HttpServerProcess;
let url: string;

before(async () => {
  await makeScriptedModel(model, 'ab', { loop: true });
  server = new HttpServerProcess(['--model', model, '--threads', '1'], { CODEFUDGE_CACHE: join(root, 'cache') });
  url = await server.url;
});
after(() => {
  server?.kill();
  rmSync(root, { recursive: true, force: true });
});

type Outcome = 'answered' | 'cancelled';

/** One client: a streamed or whole completion, aborted after `cancelMs` when given. */
async function client(i: number, cancelMs: number | undefined): Promise<Outcome> {
  const abort = new AbortController();
  const timer = cancelMs === undefined ? undefined : setTimeout(() => abort.abort(), cancelMs);
  const stream = i % 2 === 0;
  try {
    const res = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': `client-${i % 7}` },
      body: JSON.stringify({ model: NAME, prompt: `<fim_prefix>x${i}<fim_suffix><fim_middle>`, max_tokens: 24, temperature: 0, stream }),
      signal: abort.signal,
    });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    if (stream) {
      const events = sseEvents(text);
      assert.equal(events.at(-1), '[DONE]');
      const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
      assert.equal(chunks.at(-1).choices[0].finish_reason, 'length');
      assert.equal(chunks.map((c) => c.choices[0].text).join('').length > 0, true);
    } else {
      const body = JSON.parse(text);
      assert.equal(body.choices[0].finish_reason, 'length');
      assert.equal(body.usage.completion_tokens, 24);
    }
    return 'answered';
  } catch (e) {
    if (abort.signal.aborted) return 'cancelled';
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** 50 clients at once, about a third cancelling within 0..150 ms. */
async function round(seed: number): Promise<Record<Outcome, number>> {
  const rand = mulberry32(seed);
  const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => client(i, rand() < 0.35 ? Math.floor(rand() * 150) : undefined)));
  const counts = { answered: 0, cancelled: 0 };
  for (const o of outcomes) counts[o]++;
  assert.equal(counts.answered + counts.cancelled, 50);
  return counts;
}

describe('serve --http under 50 concurrent clients', () => {
  it('answers or cancels every request, stays alive, and keeps its memory flat', { timeout: 120_000 }, async () => {
    const first = await round(1);
    assert.ok(first.answered > 0 && first.cancelled > 0, JSON.stringify(first));
    const rssAfterFirst = server.rss();
    let totals = { ...first };
    for (let seed = 2; seed <= 5; seed++) {
      const c = await round(seed);
      totals = { answered: totals.answered + c.answered, cancelled: totals.cancelled + c.cancelled };
    }
    const rssAfterAll = server.rss();
    assert.ok(server.alive, server.stderr);
    // Four more rounds of 50 must not grow the process: no request, stream or listener is kept.
    const grown = (rssAfterAll - rssAfterFirst) / 2 ** 20;
    assert.ok(grown < 40, `RSS grew by ${grown.toFixed(1)} MiB over 200 requests (${JSON.stringify(totals)})`);
    // The queue drained: a fresh request is answered at once, whole.
    const t0 = performance.now();
    const r = await post(`${url}/v1/completions`, {
      model: NAME,
      prompt: '<fim_prefix>y<fim_suffix><fim_middle>',
      max_tokens: 4,
      temperature: 0,
    });
    assert.equal(r.status, 200);
    assert.equal(r.json.usage.completion_tokens, 4);
    assert.ok(performance.now() - t0 < 5000);
    assert.doesNotMatch(server.stderr, /internal error|Error:/);
  });
});
