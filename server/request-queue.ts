// Latency plumbing: only the newest request per document runs, and one generation runs at a time.

/** One request's right to run: aborted when the client cancels it or a newer request supersedes it. */
export class Ticket {
  private readonly controller = new AbortController();
  superseded = false;
  cancelled = false;

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get stopped(): boolean {
    return this.controller.signal.aborted;
  }

  supersede(): void {
    this.superseded = true;
    this.controller.abort();
  }

  cancel(): void {
    this.cancelled = true;
    this.controller.abort();
  }
}

/** The newest ticket per document; starting a new one supersedes the one before. */
export class LatestPerDocument {
  private readonly latest = new Map<string, Ticket>();
  superseded = 0;

  begin(uri: string): Ticket {
    const previous = this.latest.get(uri);
    if (previous && !previous.stopped) {
      previous.supersede();
      this.superseded++;
    }
    const ticket = new Ticket();
    this.latest.set(uri, ticket);
    return ticket;
  }

  end(uri: string, ticket: Ticket): void {
    if (this.latest.get(uri) === ticket) this.latest.delete(uri);
  }
}

/** Runs tasks one after the other (the model and its KV cache serve one generation at a time). */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** Waits `ms`, or less when `signal` aborts first. */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
