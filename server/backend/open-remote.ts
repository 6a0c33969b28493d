// A RemoteCompleter for a backend setting: the OpenAI client plus the local tokenizer folder.
import { modelDirFor } from '../../engine/index.js';
import type { BackendSetting } from './backend-setting.js';
import type { CompletionBackend } from './completion-backend.js';
import { OpenAiBackend } from './openai-client.js';
import { RemoteCompleter } from './remote-completer.js';

/** `fallbackTokenizer`: the model setting or --model when the backend setting names no tokenizer (undefined: the embedded model). */
export async function openRemoteCompleter(
  setting: BackendSetting,
  fallbackTokenizer?: string,
  wrap: (b: CompletionBackend) => CompletionBackend = (b) => b,
): Promise<RemoteCompleter> {
  const backend = new OpenAiBackend({
    url: setting.url,
    // vLLM serves each loaded adapter as a model of its own name.
    model: setting.adapter ?? setting.model,
    apiKey: setting.apiKey,
    timeoutMs: setting.timeoutMs,
  });
  return RemoteCompleter.load(wrap(backend), await modelDirFor(setting.tokenizer ?? fallbackTokenizer));
}
