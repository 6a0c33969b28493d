// The generation step over a remote OpenAI-compatible backend (vLLM, llama.cpp's server, Ollama,
// `codefudge serve --http`). The FIM prompt is rendered here, with the template of the model the
// backend serves, so the prompt window and the post-processing stay the service's own, the same
// as for the local engine. The backend itself (HTTP, streaming) is any object with `complete`.
import type { FimMode, FimTemplate } from '../engine/index.js';
import { resolveFimMode, type Generator } from './generator.js';
import { neutralizeSpecialTokens } from './special-tokens.js';
import type { TokenCounter } from './token-counter.js';
import type { BackendRequest, BackendResult, CompletionBackend } from './backend/completion-backend.js';

export type { BackendRequest, BackendResult, CompletionBackend };

export interface RemoteModel {
  template: FimTemplate;
  /** Positions of the served model. */
  contextTokens: number;
  /** The served model's tokenizer when there is one locally; else ~4 characters a token. */
  countTokens?: TokenCounter;
  /** Special-token strings a document must not smuggle into the prompt (default: the template's). */
  specialTokens?: readonly string[];
  preferredFimMode?: FimMode;
}

const estimateTokens: TokenCounter = (text) => Math.ceil(text.length / 4);

function isAbort(e: unknown): boolean {
  return e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError');
}

/** The template's sentinels (what it renders around an empty prefix and suffix) and its stop tokens. */
function templateTokens(template: FimTemplate): string[] {
  const sentinels = template.render('', '').match(/<[^<>\s]{1,40}>/g) ?? [];
  return [...new Set([...sentinels, ...template.stopTokens])];
}

export function remoteGenerator(backend: CompletionBackend, model: RemoteModel): Generator {
  const special = model.specialTokens ?? templateTokens(model.template);
  return {
    countTokens: model.countTokens ?? estimateTokens,
    contextTokens: model.contextTokens,
    async generate(req) {
      if (req.signal.aborted) return { text: '', reason: 'aborted' };
      const { mode } = resolveFimMode(req.fimMode, model.preferredFimMode ?? 'psm', model.template.modes);
      const prompt = model.template.render(
        neutralizeSpecialTokens(req.prefix, special),
        neutralizeSpecialTokens(req.suffix, special),
        mode,
      );
      // The end of the line or block is known only from the text: stop the stream there, like the
      // local engine's stopAt, and cut the text at the same place.
      const stopped = new AbortController();
      const abort = () => stopped.abort();
      req.signal.addEventListener('abort', abort, { once: true });
      let streamed = '';
      let cut: number | undefined;
      const onText = (delta: string) => {
        streamed += delta;
        cut ??= req.stopAt(streamed);
        if (cut !== undefined) stopped.abort();
      };
      try {
        const r = await backend.complete({
          prompt,
          maxTokens: req.maxTokens,
          temperature: req.temperature,
          topP: req.topP,
          stop: model.template.stopTokens,
          signal: stopped.signal,
          onText,
        });
        const end = cut ?? req.stopAt(r.text);
        return { text: end === undefined ? r.text : r.text.slice(0, end), reason: end === undefined ? r.finishReason : 'stop-string' };
      } catch (e) {
        if (req.signal.aborted) return { text: '', reason: 'aborted' };
        // Stopped on purpose at the end of the line or block: what streamed so far is the answer.
        if (cut !== undefined && (stopped.signal.aborted || isAbort(e))) return { text: streamed.slice(0, cut), reason: 'stop-string' };
        throw e;
      } finally {
        req.signal.removeEventListener('abort', abort);
      }
    },
  };
}
