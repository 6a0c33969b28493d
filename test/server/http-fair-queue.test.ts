// The HTTP server's queue: one generation at a time, waiting requests taken round-robin by client,
// a request whose client left removed while it waits, a full queue refused with 429.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FairQueue } from '../../server/http/fair-queue.js';
import { HttpError } from '../../server/http/http-errors.js';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('FairQueue', () => {
  it('runs one task at a time, alternating between clients', async () => {
    const q = new FairQueue(100);
    const order: string[] = [];
    let running = 0;
    const job = (client: string, n: number) =>
      q.run(client, new AbortController().signal, async () => {
        running++;
        assert.equal(running, 1);
        await tick();
        order.push(`${client}${n}`);
        running--;
      });
    await Promise.all([job('a', 1), job('a', 2), job('a', 3), job('a', 4), job('b', 1), job('b', 2), job('c', 1)]);
    // a1 was running when the rest arrived; then one per client in turn.
    assert.deepEqual(order, ['a1', 'a2', 'b1', 'c1', 'a3', 'b2', 'a4']);
  });

  it('drops a waiting task whose signal aborts, and refuses beyond its length with 429', async () => {
    const q = new FairQueue(2);
    let release!: () => void;
    const first = q.run(
      'a',
      new AbortController().signal,
      () =>
        new Promise<void>((r) => {
          release = r;
        }),
    );
    const abort = new AbortController();
    const ran: string[] = [];
    const dropped = q.run('b', abort.signal, async () => {
      ran.push('b');
    });
    const kept = q.run('c', new AbortController().signal, async () => {
      ran.push('c');
    });
    await assert.rejects(
      q.run('d', new AbortController().signal, async () => undefined),
      (e: unknown) => e instanceof HttpError && e.status === 429,
    );
    abort.abort(new Error('client left'));
    await assert.rejects(dropped, /client left/);
    assert.equal(q.depth, 1);
    release();
    await first;
    await kept;
    assert.deepEqual(ran, ['c']);
    assert.equal(q.depth, 0);
  });
});
