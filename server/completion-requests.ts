// Completion requests as the editor sends them, around the completion service: the automatic-
// request rules, the completion cache, debouncing, one generation at a time, newer requests
// superseding older ones, cancellation, and one shared generation for requests at the same place.
//
// VS Code asks for a completion list and for inline completion at the same position at once: the
// second must not supersede the first (the list would always be empty), so both wait on one
// generation, which is stopped only when every request waiting on it is cancelled.
import { LSPErrorCodes, ResponseError, type CancellationToken, type Position } from 'vscode-languageserver/node';
import { CompletionCache } from './completion-cache.js';
import type { CompletionService } from './completion-service.js';
import type { TextView } from './context-window.js';
import type { DocumentStore } from './documents.js';
import { delay, LatestPerDocument, type Mutex, type Ticket } from './request-queue.js';
import type { Settings } from './settings.js';
import { autoCompletionWanted } from './trigger.js';

/** Raised inside a request whose client cancelled it. */
export const cancelled = () => new ResponseError(LSPErrorCodes.RequestCancelled, 'request cancelled');

export type SuggestResult =
  | { kind: 'text'; text: string; lineBefore: string; languageId: string }
  /** `tell`: an explicit request whose user should hear why nothing came (not for automatic ones). */
  | { kind: 'none'; why: string; tell: boolean };

/** What the last completion cost (codefudge.status). */
export interface LastCompletion {
  source: 'model' | 'cache';
  milliseconds: number;
  promptTokens?: number;
  reusedTokens?: number;
  generatedTokens?: number;
  reason?: string;
}

type FlightResult = { text: string } | { stopped: 'superseded' | 'cancelled' } | { none: string };

interface Flight {
  text: string;
  offset: number;
  ticket: Ticket;
  waiting: number;
  result: Promise<FlightResult>;
}

export interface CompletionRequestsOptions {
  documents: DocumentStore;
  service: CompletionService;
  mutex: Mutex;
  settings: () => Settings;
  log: (line: string) => void;
  error: (line: string) => void;
}

export class CompletionRequests {
  readonly cache = new CompletionCache();
  private readonly latest = new LatestPerDocument();
  private readonly flights = new Map<string, Flight>();
  private last?: LastCompletion;
  private readonly counts = { completions: 0, cancelled: 0, failed: 0, shared: 0 };

  constructor(private readonly opts: CompletionRequestsOptions) {}

  /**
   * The completion at `position`, or why there is none. Throws RequestCancelled when the client
   * cancelled the request (checked first, while waiting, and between generated tokens).
   */
  async suggest(uri: string, position: Position, automatic: boolean, token: CancellationToken): Promise<SuggestResult> {
    const t0 = performance.now();
    this.throwIfCancelled(token);
    // Only "the model had nothing to say" is told: a failed model load was shown once already, and
    // positions outside the document are the client's business, not the user's.
    const none = (why: string, tell = false): SuggestResult => ({ kind: 'none', why, tell });
    const doc = this.opts.documents.get(uri);
    if (!doc) return none('the document is not open');
    if (position.line >= doc.lineCount) return none('the position is past the end of the document');
    const text = doc.getText();
    const lineStart = doc.offsetAt({ line: position.line, character: 0 });
    const lineEnd = position.line + 1 < doc.lineCount ? doc.offsetAt({ line: position.line + 1, character: 0 }) : text.length;
    const line = text.slice(lineStart, lineEnd).replace(/(\r\n|\r|\n)$/, '');
    if (position.character > line.length) return none('the position is past the end of the line');
    const offset = lineStart + position.character;
    const lineBefore = line.slice(0, position.character);
    if (automatic && !autoCompletionWanted(lineBefore, line.slice(position.character))) return none('not wanted here', false);
    const found = (t: string): SuggestResult => ({ kind: 'text', text: t, lineBefore, languageId: doc.languageId });

    const remembered = this.cache.lookup(uri, text, offset);
    if (remembered !== undefined) {
      this.last = { source: 'cache', milliseconds: performance.now() - t0 };
      this.counts.completions++;
      return found(remembered);
    }
    let flight = this.flights.get(uri);
    if (flight && flight.text === text && flight.offset === offset) this.counts.shared++;
    else {
      const view: TextView = { text, lineCount: doc.lineCount, lineStart: (l) => doc.offsetAt({ line: l, character: 0 }) };
      flight = this.start(uri, view, offset, position, doc.languageId, automatic);
    }
    const r = await this.wait(flight, token);
    if ('text' in r) return r.text ? found(r.text) : none('the model has no suggestion here', !automatic);
    if ('none' in r) return none(r.none);
    if (r.stopped === 'cancelled') throw cancelled();
    return none('superseded by a newer request', false);
  }

  private throwIfCancelled(token: CancellationToken): void {
    if (!token.isCancellationRequested) return;
    this.counts.cancelled++;
    throw cancelled();
  }

  /** Waits for `flight`'s result, or rejects when this request is cancelled first. */
  private async wait(flight: Flight, token: CancellationToken): Promise<FlightResult> {
    flight.waiting++;
    let sub: { dispose(): void } | undefined;
    const cancel = new Promise<'cancel'>((resolve) => {
      sub = token.onCancellationRequested(() => resolve('cancel'));
    });
    try {
      const r = await Promise.race([flight.result, cancel]);
      if (r === 'cancel' || token.isCancellationRequested) {
        this.counts.cancelled++;
        throw cancelled();
      }
      return r;
    } finally {
      sub?.dispose();
      // The last request waiting on a generation that is still running stops it.
      if (--flight.waiting === 0) flight.ticket.cancel();
    }
  }

  private start(uri: string, view: TextView, offset: number, position: Position, languageId: string, automatic: boolean): Flight {
    const ticket = this.latest.begin(uri);
    const flight: Flight = { text: view.text, offset, ticket, waiting: 0, result: Promise.resolve({ stopped: 'cancelled' }) };
    this.flights.set(uri, flight);
    const stopped = (): FlightResult => ({ stopped: ticket.superseded ? 'superseded' : 'cancelled' });
    flight.result = (async (): Promise<FlightResult> => {
      const t0 = performance.now();
      try {
        if (automatic) await delay(this.opts.settings().debounceMs, ticket.signal);
        if (ticket.stopped) return stopped();
        const c = await this.opts.mutex.run(() =>
          ticket.stopped
            ? Promise.resolve(null)
            : this.opts.service.complete({ view, offset, line: position.line, languageId, signal: ticket.signal }),
        );
        if (c === null || ticket.stopped || c?.reason === 'aborted') return stopped();
        if (!c) return { none: 'no model is loaded' };
        const ms = performance.now() - t0;
        this.last = {
          source: 'model',
          milliseconds: ms,
          promptTokens: c.promptTokens,
          reusedTokens: c.reusedTokens,
          generatedTokens: c.generatedTokens,
          reason: c.reason,
        };
        this.counts.completions++;
        this.opts.log(
          `completion ${uri.slice(uri.lastIndexOf('/') + 1)}:${position.line + 1}:${position.character + 1} ${Math.round(ms)} ms ` +
            `(prompt ${c.promptTokens} tokens, ${c.reusedTokens} reused, ${c.generatedTokens} generated, ${c.reason})`,
        );
        if (c.text) this.cache.remember(uri, view.text, offset, c.text);
        return { text: c.text };
      } catch (e) {
        this.counts.failed++;
        this.opts.error(`completion failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        return { none: 'the completion failed (see the server log)' };
      } finally {
        this.latest.end(uri, ticket);
        if (this.flights.get(uri) === flight) this.flights.delete(uri);
      }
    })();
    return flight;
  }

  forget(uri: string): void {
    this.cache.forget(uri);
  }

  status() {
    const last = this.last;
    return {
      cache: this.cache.stats(),
      lastCompletion: last ? { ...last, milliseconds: Math.round(last.milliseconds * 10) / 10 } : null,
      requests: { ...this.counts, superseded: this.latest.superseded },
    };
  }
}
