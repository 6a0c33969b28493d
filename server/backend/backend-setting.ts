// The `backend` setting (LSP initializationOptions / didChangeConfiguration) and the CLI's
// --backend flags: which OpenAI-compatible server completes, under which model name.

export interface BackendSetting {
  /** The server, e.g. http://gpu-box:8000 (vLLM), http://127.0.0.1:8080 (llama-server), http://127.0.0.1:11434 (Ollama). */
  url: string;
  /** The served model's name (`model` in requests). */
  model: string;
  /** Sent as a bearer token. */
  apiKey?: string;
  /** A LoRA adapter's name on the server: sent as `model` instead of the base model's. */
  adapter?: string;
  /** Local model folder or hub id whose tokenizer (and FIM template) matches the served model; default: the `model` setting / --model / the embedded model. */
  tokenizer?: string;
  /** Longest wait for the server, in ms (10000). */
  timeoutMs?: number;
}

/** The setting checked: the value, or one line saying what is wrong. */
export function checkBackendSetting(v: unknown): { ok: true; value: BackendSetting | undefined } | { ok: false; expected: string } {
  if (v === null || v === undefined || v === false || v === '') return { ok: true, value: undefined };
  const expected = 'an object {url, model, apiKey?, adapter?, tokenizer?, timeoutMs?} with an http(s) url';
  if (typeof v !== 'object' || Array.isArray(v)) return { ok: false, expected };
  const o = v as Record<string, unknown>;
  const str = (k: string) => o[k] === undefined || o[k] === null || typeof o[k] === 'string';
  if (typeof o.url !== 'string' || !/^https?:\/\/./.test(o.url) || typeof o.model !== 'string' || o.model === '')
    return { ok: false, expected };
  if (!str('apiKey') || !str('adapter') || !str('tokenizer')) return { ok: false, expected };
  if (o.timeoutMs !== undefined && !(typeof o.timeoutMs === 'number' && o.timeoutMs >= 100 && o.timeoutMs <= 600_000))
    return { ok: false, expected: 'timeoutMs in 100..600000' };
  const known = new Set(['url', 'model', 'apiKey', 'adapter', 'tokenizer', 'timeoutMs']);
  const unknown = Object.keys(o).find((k) => !known.has(k));
  if (unknown) return { ok: false, expected: `${expected} (unknown field "${unknown}")` };
  return {
    ok: true,
    value: {
      url: o.url,
      model: o.model,
      ...(o.apiKey ? { apiKey: o.apiKey as string } : {}),
      ...(o.adapter ? { adapter: o.adapter as string } : {}),
      ...(o.tokenizer ? { tokenizer: o.tokenizer as string } : {}),
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs as number } : {}),
    },
  };
}
