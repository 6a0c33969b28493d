import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameGuard } from '../../server/transport.js';

const frame = (body: string) => `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

/** Feeds `chunks` through a guard; returns the frames it passed and the garbage it reported. */
async function guard(chunks: (string | Buffer)[]) {
  const garbage: string[] = [];
  const g = new FrameGuard((what) => garbage.push(what));
  const out: Buffer[] = [];
  g.on('data', (b: Buffer) => out.push(b));
  for (const c of chunks) g.write(typeof c === 'string' ? Buffer.from(c, 'utf8') : c);
  g.end();
  await new Promise((r) => g.on('end', r));
  return { passed: Buffer.concat(out).toString('utf8'), garbage };
}

describe('frame guard', () => {
  it('passes well-formed frames through unchanged, however the bytes are split', async () => {
    const text = frame('{"a":1}') + frame('{"b":"é"}');
    const bytes = Buffer.from(text, 'utf8');
    const pieces = [bytes.subarray(0, 5), bytes.subarray(5, 20), bytes.subarray(20, 31), bytes.subarray(31)];
    const r = await guard(pieces);
    assert.equal(r.passed, text);
    assert.deepEqual(r.garbage, []);
  });

  it('drops bytes that are not a frame and resumes at the next header', async () => {
    const good = frame('{"ok":true}');
    const r = await guard(['hello world, no header here', good]);
    assert.equal(r.passed, good);
    assert.equal(r.garbage.length, 1);
  });

  it('drops a header block without a Content-Length, or with a bad one', async () => {
    const good = frame('{"ok":1}');
    const r = await guard(['Content-Type: text/plain\r\n\r\n', 'Content-Length: twelve\r\n\r\n', 'no colon here\r\n\r\n', good]);
    assert.equal(r.passed, good);
    assert.equal(r.garbage.length, 3);
  });

  it('passes a body that is not JSON (the reader answers it with a parse error)', async () => {
    const bad = frame('{not json');
    const r = await guard([bad]);
    assert.equal(r.passed, bad);
  });

  it('joins a large frame received in many chunks', async () => {
    const big = frame(JSON.stringify({ text: 'x'.repeat(3_000_000) }));
    const bytes = Buffer.from(big);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 65536) chunks.push(bytes.subarray(i, i + 65536));
    const t0 = performance.now();
    const r = await guard(chunks);
    assert.equal(r.passed.length, big.length);
    assert.ok(performance.now() - t0 < 2000);
  });

  it('skips garbage longer than any header', async () => {
    const good = frame('{"x":2}');
    const r = await guard(['z'.repeat(10_000), good]);
    assert.equal(r.passed, good);
    assert.ok(r.garbage.length >= 1);
  });
});
