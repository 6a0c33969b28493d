// One model, many clients: generations run one at a time (they share the model and its KV cache),
// and waiting requests are taken round-robin by client, so one client sending many requests
// cannot starve the others. A request whose client went away leaves the queue at once.
import { HttpError } from './http-errors.js';

interface Job {
  start: () => void;
  fail: (e: unknown) => void;
}

export class FairQueue {
  private running = false;
  /** Waiting jobs per client, in arrival order; the Map's order is the round-robin order. */
  private readonly waiting = new Map<string, Job[]>();
  private count = 0;

  constructor(private readonly maxWaiting: number) {}

  get depth(): number {
    return this.count;
  }

  /** Runs `task` when its turn comes; rejects with the signal's reason if it aborts while waiting. */
  async run<T>(client: string, signal: AbortSignal, task: () => Promise<T>): Promise<T> {
    if (signal.aborted) throw signal.reason;
    if (this.running || this.count > 0) {
      if (this.count >= this.maxWaiting) {
        throw new HttpError(429, `server busy: ${this.count} requests are already waiting; retry later`, null, 'queue_full');
      }
      await new Promise<void>((resolve, reject) => {
        const job: Job = {
          start: () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          },
          fail: reject,
        };
        const onAbort = () => {
          const list = this.waiting.get(client);
          const i = list?.indexOf(job) ?? -1;
          if (list && i >= 0) {
            list.splice(i, 1);
            this.count--;
            if (!list.length) this.waiting.delete(client);
          }
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        const list = this.waiting.get(client);
        if (list) list.push(job);
        else this.waiting.set(client, [job]);
        this.count++;
      });
    } else {
      this.running = true;
    }
    try {
      return await task();
    } finally {
      this.next();
    }
  }

  /** Hands the model to the first waiting job of the next client in turn. */
  private next(): void {
    const first = this.waiting.entries().next();
    if (first.done) {
      this.running = false;
      return;
    }
    const [client, list] = first.value;
    const job = list.shift()!;
    this.count--;
    // The client moves to the back of the round.
    this.waiting.delete(client);
    if (list.length) this.waiting.set(client, list);
    job.start();
  }
}
