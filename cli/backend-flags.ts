// --backend URL --backend-model NAME: the generating commands complete through an OpenAI-compatible
// server (vLLM, llama-server, Ollama, codefudge serve --http) instead of in this process.
import { UserError } from '../common/index.js';
import { BackendError, OpenAiBackend, openRemoteCompleter, type RemoteCompleter } from '../server/index.js';
import { flagInt, flagString, type Args } from './args.js';

export const backendFlags = {
  names: ['backend', 'backend-model', 'backend-adapter', 'backend-key', 'backend-timeout'],
  help: `  --backend URL       complete through an OpenAI-compatible server (vLLM, llama-server, Ollama,
                      codefudge serve --http); the prompt is still built here with --model's tokenizer
  --backend-model NAME   the served model's name   --backend-adapter NAME  a LoRA adapter's name there
  --backend-key KEY   bearer token (or CODEFUDGE_BACKEND_KEY)   --backend-timeout MS  (10000)`,
};

/** The remote completer the flags ask for, or undefined without --backend. */
export async function remoteFromFlags(args: Args): Promise<RemoteCompleter | undefined> {
  const url = flagString(args, 'backend');
  const others = backendFlags.names.filter((n) => n !== 'backend' && args.flags.has(n));
  if (!url) {
    if (others.length) throw new UserError(`--${others[0]} needs --backend URL`);
    return undefined;
  }
  const model = flagString(args, 'backend-model');
  if (!model) throw new UserError('--backend needs --backend-model NAME (the model name the server serves; see its /v1/models)');
  if (!/^https?:\/\/./.test(url)) throw new UserError(`--backend must be an http(s) URL, got "${url}"`);
  return openRemoteCompleter(
    {
      url,
      model,
      adapter: flagString(args, 'backend-adapter'),
      apiKey: flagString(args, 'backend-key') ?? (process.env.CODEFUDGE_BACKEND_KEY || undefined),
      timeoutMs: args.flags.has('backend-timeout') ? flagInt(args, 'backend-timeout', 10_000) : undefined,
    },
    flagString(args, 'model'),
  );
}

/**
 * fim-eval's two columns through the backend: --backend-model, and --backend-adapter when given
 * (an adapter the server serves by name); undefined without --backend.
 */
export function remoteColumnsFromFlags(
  args: Args,
): { base: () => Promise<RemoteCompleter>; adapter?: () => Promise<RemoteCompleter> } | undefined {
  if (!flagString(args, 'backend')) {
    const other = backendFlags.names.find((n) => n !== 'backend' && args.flags.has(n));
    if (other) throw new UserError(`--${other} needs --backend URL`);
    return undefined;
  }
  const adapter = flagString(args, 'backend-adapter');
  const open = (withAdapter: boolean) => async () => {
    const copy: Args = { positionals: args.positionals, flags: new Map(args.flags) };
    if (!withAdapter) copy.flags.delete('backend-adapter');
    return (await remoteFromFlags(copy))!;
  };
  return { base: open(false), ...(adapter ? { adapter: open(true) } : {}) };
}

/** The bare backend (no local tokenizer) the flags ask for: suggest-diff builds its own prompt. */
export function backendFromFlags(args: Args): OpenAiBackend | undefined {
  const url = flagString(args, 'backend');
  if (!url) {
    const other = backendFlags.names.find((n) => n !== 'backend' && args.flags.has(n));
    if (other) throw new UserError(`--${other} needs --backend URL`);
    return undefined;
  }
  const model = flagString(args, 'backend-model');
  if (!model) throw new UserError('--backend needs --backend-model NAME (the model name the server serves; see its /v1/models)');
  if (!/^https?:\/\/./.test(url)) throw new UserError(`--backend must be an http(s) URL, got "${url}"`);
  return new OpenAiBackend({
    url,
    model: flagString(args, 'backend-adapter') ?? model,
    apiKey: flagString(args, 'backend-key') ?? (process.env.CODEFUDGE_BACKEND_KEY || undefined),
    timeoutMs: args.flags.has('backend-timeout') ? flagInt(args, 'backend-timeout', 10_000) : undefined,
  });
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
