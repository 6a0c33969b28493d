// Suggesting the diff a commit message asks of a file: the commit->diff prompt the adapter was
// trained on, the file's header forced (`--- a/PATH`, `+++ b/PATH`), beam search, and the first
// beam whose diff applies to the file.
import { generate, type Completer, type Tokenizer } from '../engine/index.js';
import { UserError } from '../common/index.js';
import { commitDiffPrompt, type CommitDiffRequest } from './commit-diff-prompt.js';
import { sequenceFormat } from './sequence-format.js';
import { contextLength } from './context-length.js';
import { diffEnd } from './diff-stop.js';
import { firstApplicable, type AppliedDiff, type DiffCandidate } from './pick-candidate.js';

export const SUGGEST_DEFAULTS = { beams: 4, maxNewTokens: 256 };
/** The diff's share of the sequence in training (commitDiffSequence's DIFF_SHARE). */
const DIFF_SHARE = 0.6;

export interface SuggestDiffOptions {
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

export async function suggestDiff(completer: Completer, req: CommitDiffRequest, opts: SuggestDiffOptions = {}): Promise<DiffSuggestion> {
  const t0 = performance.now();
  const tok = completer.tokenizer;
  const config = completer.folder.config;
  const context = contextLength(config.maxPositionEmbeddings, completer.adapter, opts.contextTokens);
  const fmt = sequenceFormat(tok, completer.template, config, context);
  const maxNewTokens = opts.maxNewTokens ?? Math.min(SUGGEST_DEFAULTS.maxNewTokens, Math.floor(context * DIFF_SHARE));
  const head = forcedHeader(tok, req.path);
  const prompt = commitDiffPrompt(fmt, req, maxNewTokens + head.ids.length);
  if (!prompt) {
    throw new UserError(`the commit message and path leave no room in ${context} tokens for a ${maxNewTokens}-token diff; lower --max-tokens`);
  }
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
