// `codefudge adapt REPO --register URL`: the trained adapter loaded into a running vLLM by name
// (POST /v1/load_lora_adapter; the server needs VLLM_ALLOW_RUNTIME_LORA_UPDATING=True), after
// which requests with `model: <name>` use it. A refreshed adapter replaces the loaded one: vLLM
// keeps an adapter by name, so the old one is unloaded first.
import { BackendError } from './completion-backend.js';
import { OpenAiBackend } from './openai-client.js';

export interface RegisterOptions {
  url: string;
  apiKey?: string;
  /** The adapter's name on the server (lora_name). */
  name: string;
  /** The adapter folder as the server sees it (lora_path). */
  path: string;
}

function client(o: Pick<RegisterOptions, 'url' | 'apiKey'>): OpenAiBackend {
  return new OpenAiBackend({ url: o.url, model: '', apiKey: o.apiKey, timeoutMs: 30_000 });
}

/** Checks before a long training run that the server answers (GET /v1/models); returns the models it serves. */
export async function checkRegisterTarget(o: Pick<RegisterOptions, 'url' | 'apiKey'>): Promise<string[]> {
  return client(o).models();
}

/** Loads (or reloads) the adapter; returns what was done, in one line. */
export async function registerAdapter(o: RegisterOptions): Promise<string> {
  const c = client(o);
  try {
    await c.loadLoraAdapter(o.name, o.path);
    return `loaded adapter "${o.name}" from ${o.path} into ${c.root}; requests with "model": "${o.name}" use it`;
  } catch (e) {
    if (!(e instanceof BackendError && e.status === 400 && /already/i.test(e.message))) throw e;
  }
  await c.unloadLoraAdapter(o.name);
  await c.loadLoraAdapter(o.name, o.path);
  return `reloaded adapter "${o.name}" from ${o.path} into ${c.root}; requests with "model": "${o.name}" use it`;
}
