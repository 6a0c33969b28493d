// The client for OpenAI-compatible completion servers: vLLM, llama.cpp's llama-server, Ollama,
// `codefudge serve --http`. POST /v1/completions with stream: true, read as server-sent events.
// Every failure becomes one BackendError line; 429 and 503 (overloaded, model loading) are retried
// with backoff; a cancelled request closes its HTTP request so the server stops generating.
import type { BackendRequest, BackendResult, CompletionBackend } from './completion-backend.js';
import { BackendError } from './completion-backend.js';
import { sseData } from './sse.js';

export interface OpenAiBackendOptions {
  /** The server: `http://host:8000` or `http://host:8000/v1` (both mean the same). */
  url: string;
  /** The `model` field: the served model's name, or a LoRA adapter's name on vLLM. */
  model: string;
  /** Sent as `Authorization: Bearer ...`. */
  apiKey?: string;
  /** Longest wait for the response headers, and between two streamed chunks (10 s). */
  timeoutMs?: number;
  /** Retries after 429 or 503 (3). */
  retries?: number;
  /** First backoff; doubled each retry, capped at 8x, Retry-After wins when the server sends one (250 ms). */
  backoffMs?: number;
}

/** `http://h:8000/v1/` and `http://h:8000` both become `http://h:8000`. */
export function serverRoot(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BackendError(`backend URL "${url}" is not a URL (expected e.g. http://127.0.0.1:8000)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new BackendError(`backend URL "${url}" must be http:// or https://`);
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '').replace(/\/v1$/, '')}`;
}

/** The message of an OpenAI-style error body (`{error: {message}}`, vLLM's `{message}`), else the text's first line. */
export function errorMessageOf(body: string): string {
  try {
    const json = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
    const m = typeof json.error === 'object' ? json.error?.message : (json.error ?? json.message ?? json.detail);
    if (typeof m === 'string' && m) return m.split('\n')[0];
  } catch {
    // not JSON: the text itself
  }
  return body.trim().split('\n')[0].slice(0, 300) || '(empty body)';
}

/** Why fetch failed, in a few words: ECONNREFUSED, ENOTFOUND, a timeout. */
function networkReason(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
}

/** Waits `ms`, rejecting with the signal's reason when it aborts first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const done = () => {
      signal.removeEventListener('abort', stop);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', stop, { once: true });
  });
}

/** One stream chunk's choice, as OpenAI and vLLM send it. */
interface StreamChoice {
  text?: unknown;
  finish_reason?: unknown;
}

export class OpenAiBackend implements CompletionBackend {
  readonly root: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;

  constructor(readonly opts: OpenAiBackendOptions) {
    this.root = serverRoot(opts.url);
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.retries = opts.retries ?? 3;
    this.backoffMs = opts.backoffMs ?? 250;
  }

  private headers(json: boolean): Record<string, string> {
    return {
      ...(json ? { 'content-type': 'application/json' } : {}),
      accept: json ? 'text/event-stream, application/json' : 'application/json',
      ...(this.opts.apiKey ? { authorization: `Bearer ${this.opts.apiKey}` } : {}),
    };
  }

  /**
   * Sends one request, retrying 429/503 with backoff; the response is OK. `signal` is the
   * caller's; each attempt also times out after timeoutMs without response headers.
   */
  private async send(
    path: string,
    init: { method: string; body?: string },
    signal: AbortSignal,
    watchdog?: AbortController,
  ): Promise<Response> {
    const url = `${this.root}${path}`;
    for (let attempt = 0; ; attempt++) {
      const headerTimer = new AbortController();
      const timer = setTimeout(
        () => headerTimer.abort(new BackendError(`backend ${this.root} did not answer within ${this.timeoutMs / 1000} s`, undefined, true)),
        this.timeoutMs,
      );
      const signals = [signal, headerTimer.signal, ...(watchdog ? [watchdog.signal] : [])];
      let res: Response;
      try {
        res = await fetch(url, { ...init, headers: this.headers(init.body !== undefined), signal: AbortSignal.any(signals) });
      } catch (e) {
        if (signal.aborted) throw signal.reason;
        if (headerTimer.signal.aborted) throw headerTimer.signal.reason;
        throw new BackendError(`backend ${this.root} is unreachable: ${networkReason(e)}`, undefined, true);
      } finally {
        clearTimeout(timer);
      }
      if (res.ok) return res;
      const text = await res.text().catch(() => '');
      const retryable = res.status === 429 || res.status === 503;
      if (retryable && attempt < this.retries) {
        const after = Number(res.headers.get('retry-after'));
        const backoff = Number.isFinite(after) && after > 0 ? Math.min(after * 1000, 30_000) : this.backoffMs * 2 ** Math.min(attempt, 3);
        // Jitter spreads the retries of many editors hitting one overloaded server.
        await sleep(backoff * (0.75 + Math.random() * 0.5), signal);
        continue;
      }
      throw new BackendError(`backend ${this.root} answered ${res.status} to ${path}: ${errorMessageOf(text)}`, res.status, retryable);
    }
  }

  async complete(req: BackendRequest): Promise<BackendResult> {
    const body = JSON.stringify({
      model: this.opts.model,
      prompt: req.prompt,
      max_tokens: req.maxTokens,
      temperature: req.temperature,
      ...(req.topP !== undefined && req.topP < 1 ? { top_p: req.topP } : {}),
      ...(req.stop.length ? { stop: req.stop } : {}),
      stream: true,
    });
    // Aborted when no chunk comes for timeoutMs: a server that hangs mid-stream must not hang the editor.
    const watchdog = new AbortController();
    let text = '';
    let finishReason = 'length';
    try {
      const res = await this.send('/v1/completions', { method: 'POST', body }, req.signal, watchdog);
      const stall = () =>
        watchdog.abort(new BackendError(`backend ${this.root} stopped streaming for ${this.timeoutMs / 1000} s`, undefined, true));
      let timer = setTimeout(stall, this.timeoutMs);
      try {
        if (!(res.headers.get('content-type') ?? '').includes('text/event-stream')) {
          // A server that ignores `stream` answers with one JSON object.
          const json = JSON.parse(await res.text()) as { choices?: StreamChoice[] };
          const choice = json.choices?.[0];
          if (typeof choice?.text !== 'string') throw new BackendError(`backend ${this.root} sent a completion without choices[0].text`);
          req.onText?.(choice.text);
          return { text: choice.text, finishReason: typeof choice.finish_reason === 'string' ? choice.finish_reason : 'stop' };
        }
        for await (const data of sseData(res.body!)) {
          clearTimeout(timer);
          timer = setTimeout(stall, this.timeoutMs);
          if (data.trim() === '[DONE]') break;
          let chunk: { choices?: StreamChoice[]; error?: unknown };
          try {
            chunk = JSON.parse(data);
          } catch {
            throw new BackendError(`backend ${this.root} streamed an event that is not JSON: ${data.slice(0, 80)}`);
          }
          if (chunk.error) throw new BackendError(`backend ${this.root} failed mid-stream: ${errorMessageOf(data)}`);
          const choice = chunk.choices?.[0];
          if (typeof choice?.text === 'string' && choice.text) {
            text += choice.text;
            req.onText?.(choice.text);
          }
          if (typeof choice?.finish_reason === 'string') finishReason = choice.finish_reason;
        }
      } finally {
        clearTimeout(timer);
      }
      return { text, finishReason };
    } catch (e) {
      // The caller cancelled: what came so far is the answer (the caller usually drops it).
      if (req.signal.aborted) return { text, finishReason: 'abort' };
      if (watchdog.signal.aborted) throw watchdog.signal.reason;
      if (e instanceof BackendError) throw e;
      throw new BackendError(`backend ${this.root} broke off the stream: ${networkReason(e)}`, undefined, true);
    }
  }

  /** The model ids the server serves (GET /v1/models). */
  async models(signal: AbortSignal = AbortSignal.timeout(this.timeoutMs * 2)): Promise<string[]> {
    const res = await this.send('/v1/models', { method: 'GET' }, signal);
    const json = (await res.json().catch(() => ({}))) as { data?: { id?: unknown }[] };
    if (!Array.isArray(json.data)) throw new BackendError(`backend ${this.root} answered /v1/models without a "data" list`);
    return json.data.map((m) => m.id).filter((id): id is string => typeof id === 'string');
  }

  /**
   * Loads a PEFT adapter folder under `name` (vLLM's POST /v1/load_lora_adapter, which needs
   * VLLM_ALLOW_RUNTIME_LORA_UPDATING=True); `path` is the folder as the server sees it.
   */
  async loadLoraAdapter(name: string, path: string, signal: AbortSignal = AbortSignal.timeout(120_000)): Promise<string> {
    const res = await this.send(
      '/v1/load_lora_adapter',
      { method: 'POST', body: JSON.stringify({ lora_name: name, lora_path: path }) },
      signal,
    );
    return (await res.text()).trim();
  }

  async unloadLoraAdapter(name: string, signal: AbortSignal = AbortSignal.timeout(30_000)): Promise<string> {
    const res = await this.send('/v1/unload_lora_adapter', { method: 'POST', body: JSON.stringify({ lora_name: name }) }, signal);
    return (await res.text()).trim();
  }
}
