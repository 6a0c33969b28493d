// Suggesting the diff a commit message asks of a file: the commit->diff prompt the adapter was
// trained on, the file's header forced (`--- a/PATH`, `+++ b/PATH`), beam search, and the first
// beam whose diff applies to the file.
import { generate, type Completer, type Generation, type ModelConfig, type Tokenizer } from '../engine/index.js';
import { UserError } from '../common/index.js';
import { commitDiffPrompt, type CommitDiffRequest } from './commit-diff-prompt.js';
import { sequenceFormat } from './sequence-format.js';
import { contextLength } from './context-length.js';
import { diffEnd } from './diff-stop.js';
import { firstApplicable, type AppliedDiff, type DiffCandidate } from './pick-candidate.js';

export const SUGGEST_DEFAULTS = { beams: 4, maxNewTokens: 256 };
/** The diff's share of the sequence in training (commitDiffSequence's DIFF_SHARE). */
const DIFF_SHARE = 0.6;

/**
 * An OpenAI-compatible backend, structurally server/backend's CompletionBackend (finetune does not
 * import the server): the diff is generated there, greedily, one candidate.
 */
export interface RemoteTextBackend {
  complete(req: {
    prompt: string;
    maxTokens: number;
    temperature: number;
    stop: string[];
    signal: AbortSignal;
    onText?: (delta: string) => void;
  }): Promise<{ text: string; finishReason: string }>;
}

/** What suggesting needs of the model: its tokenizer and template, and the model itself unless a remote backend generates. */
export interface SuggestModel {
  tokenizer: Tokenizer;
  template: Completer['template'];
  folder: { config: ModelConfig };
  adapter?: string;
  model?: Completer['model'];
}

export interface SuggestDiffOptions {
  /** Generate through this backend instead of the in-process model (greedy: one candidate). */
  remote?: RemoteTextBackend;
  /** Beams searched; every finished beam is a candidate (default 4). */
  beams?: number;
  /** Most tokens of diff (default 256, at most 60% of the context). */
  maxNewTokens?: number;
  /** Prompt and diff together (default: the adapter's training length, else adapt's default). */
  contextTokens?: number;
  lengthPenalty?: number;
  signal?: AbortSignal;
}

export interface DiffSuggestion {
  /** The first candidate that applies; undefined when none does. */
  applied?: AppliedDiff;
  /** Every candidate checked, best first, up to the one that applied. */
  candidates: DiffCandidate[];
  promptTokens: number;
  milliseconds: number;
}

/** The diff's file header, when the tokenizer splits it off the diff the same way as in training (so forcing it is safe). */
function forcedHeader(tok: Tokenizer, path: string): { text: string; ids: number[] } {
  const text = `--- a/${path}\n+++ b/${path}\n`;
  const ids = tok.encode(text);
  const probe = tok.encode(`${text}@@ -1 +1 @@\n`);
  return ids.every((id, i) => probe[i] === id) ? { text, ids } : { text: '', ids: [] };
}

/** The diff generated remotely from the prompt's text, cut where it stops being a diff (as stopAt does in-process). */
async function remoteGeneration(
  remote: RemoteTextBackend,
  prompt: string,
  headText: string,
  maxTokens: number,
  signal?: AbortSignal,
): Promise<Generation> {
  const local = new AbortController();
  const onCancel = () => local.abort();
  signal?.addEventListener('abort', onCancel, { once: true });
  let text = '';
  let cut: string | undefined;
  try {
    const out = await remote.complete({
      prompt,
      maxTokens,
      temperature: 0,
      stop: [],
      signal: local.signal,
      onText: (delta) => {
        if (cut !== undefined) return;
        text += delta;
        const end = diffEnd(headText + text);
        if (end !== undefined) {
          cut = (headText + text).slice(0, end);
          local.abort();
        }
      },
    });
    if (cut === undefined && out.text !== text) text = out.text;
    return {
      ids: [],
      text: cut ?? headText + text,
      reason: cut !== undefined ? 'stop-string' : out.finishReason === 'length' ? 'max-tokens' : 'stop-token',
      logprob: 0,
    };
  } finally {
    signal?.removeEventListener('abort', onCancel);
  }
}

export async function suggestDiff(completer: SuggestModel, req: CommitDiffRequest, opts: SuggestDiffOptions = {}): Promise<DiffSuggestion> {
  const t0 = performance.now();
  const tok = completer.tokenizer;
  const config = completer.folder.config;
  const context = contextLength(config.maxPositionEmbeddings, completer.adapter, opts.contextTokens);
  const fmt = sequenceFormat(tok, completer.template, config, context);
  const maxNewTokens = opts.maxNewTokens ?? Math.min(SUGGEST_DEFAULTS.maxNewTokens, Math.floor(context * DIFF_SHARE));
  const head = forcedHeader(tok, req.path);
  const prompt = commitDiffPrompt(fmt, req, maxNewTokens + head.ids.length);
  if (!prompt) {
    throw new UserError(
      `the commit message and path leave no room in ${context} tokens for a ${maxNewTokens}-token diff; lower --max-tokens`,
    );
  }
  if (opts.remote) {
    // The server adds BOS itself where the family wants one; the rest is sent as text.
    const ids = fmt.bosId !== undefined && prompt[0] === fmt.bosId ? prompt.slice(1) : prompt;
    const generation = await remoteGeneration(opts.remote, tok.decode(ids) + head.text, head.text, maxNewTokens, opts.signal);
    const picked = firstApplicable(req.before, req.path, [generation]);
    return { ...picked, promptTokens: prompt.length + head.ids.length, milliseconds: performance.now() - t0 };
  }
  if (!completer.model) throw new UserError('suggesting a diff needs the model in this process, or a remote backend');
  const out = await generate(completer.model, tok, [...prompt, ...head.ids], {
    maxNewTokens,
    numBeams: opts.beams ?? SUGGEST_DEFAULTS.beams,
    lengthPenalty: opts.lengthPenalty,
    stopTokens: [fmt.endId],
    stopAt: (text) => {
      const end = diffEnd(head.text + text);
      return end === undefined ? undefined : Math.max(0, end - head.text.length);
    },
    signal: opts.signal,
  });
  const generations = (out.candidates ?? [out]).map((g) => ({ ...g, text: head.text + g.text }));
  const picked = firstApplicable(req.before, req.path, generations);
  return { ...picked, promptTokens: prompt.length + head.ids.length, milliseconds: performance.now() - t0 };
}
