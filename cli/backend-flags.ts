// --backend URL --backend-model NAME: the generating commands complete through an OpenAI-compatible
// server (vLLM, llama-server, Ollama, codefudge serve --http) instead of in this process.
import { UserError } from '../common/index.js';
import { BackendError, OpenAiBackend, openRemoteCompleter, type RemoteCompleter } from '../server/index.js';
import { flagInt, givenFrom, type FlagValues, type OptionTable } from './flags.js';

export const backendFlags = {
  options: {
    backend: { type: 'string' },
    'backend-model': { type: 'string' },
    'backend-adapter': { type: 'string' },
    'backend-key': { type: 'string' },
    'backend-timeout': { type: 'string' },
  } satisfies OptionTable,
  help: `  --backend URL       complete through an OpenAI-compatible server (vLLM, llama-server, Ollama,
                      codefudge serve --http); the prompt is still built here with --model's tokenizer
  --backend-model NAME   the served model's name   --backend-adapter NAME  a LoRA adapter's name there
  --backend-key KEY   bearer token (or CODEFUDGE_BACKEND_KEY)   --backend-timeout MS  (10000)`,
};

type BackendValues = FlagValues<typeof backendFlags.options>;

/** The server the flags name, checked; undefined without --backend (then no other --backend-* flag may be given). */
function target(values: BackendValues): { url: string; model: string; adapter?: string; apiKey?: string; timeoutMs?: number } | undefined {
  const url = values.backend;
  if (!url) {
    const other = givenFrom(values, backendFlags.options).find((n) => n !== 'backend');
    if (other) throw new UserError(`--${other} needs --backend URL`);
    return undefined;
  }
  const model = values['backend-model'];
  if (!model) throw new UserError('--backend needs --backend-model NAME (the model name the server serves; see its /v1/models)');
  if (!/^https?:\/\/./.test(url)) throw new UserError(`--backend must be an http(s) URL, got "${url}"`);
  return {
    url,
    model,
    adapter: values['backend-adapter'],
    apiKey: values['backend-key'] ?? (process.env.CODEFUDGE_BACKEND_KEY || undefined),
    timeoutMs: flagInt(values, 'backend-timeout'),
  };
}

/** The remote completer the flags ask for, or undefined without --backend; --model names the tokenizer. */
export async function remoteFromFlags(values: BackendValues & { model?: string }): Promise<RemoteCompleter | undefined> {
  const t = target(values);
  return t && openRemoteCompleter(t, values.model);
}

/**
 * fim-eval's two columns through the backend: --backend-model, and --backend-adapter when given
 * (an adapter the server serves by name); undefined without --backend.
 */
export function remoteColumnsFromFlags(
  values: BackendValues & { model?: string },
): { base: () => Promise<RemoteCompleter>; adapter?: () => Promise<RemoteCompleter> } | undefined {
  const t = target(values);
  if (!t) return undefined;
  const open = (adapter: string | undefined) => () => openRemoteCompleter({ ...t, adapter }, values.model);
  return { base: open(undefined), ...(t.adapter ? { adapter: open(t.adapter) } : {}) };
}

/** The bare backend (no local tokenizer) the flags ask for: suggest-diff builds its own prompt. */
export function backendFromFlags(values: BackendValues): OpenAiBackend | undefined {
  const t = target(values);
  return t && new OpenAiBackend({ url: t.url, model: t.adapter ?? t.model, apiKey: t.apiKey, timeoutMs: t.timeoutMs });
}

/** A backend's failure as the CLI's one-line error. */
export async function userErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof BackendError) throw new UserError(e.message);
    throw e;
  }
}
