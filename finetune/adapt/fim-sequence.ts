// A FIM example as a training sequence: the model's own FIM prompt (what the completer sends),
// then the middle and the end token. The middle is always learned; the rest optionally.
import type { FimMode } from '../../engine/index.js';
import type { TrainExample } from '../trainer/batching.js';
import { IGNORE, supportedMode, type SequenceFormat, headWithin, tailWithin, reachable } from '../../suggest/index.js';

/** Which tokens carry the loss: the middle (and its end token) only, or every text token. */
export type FimLoss = 'middle' | 'all';

export interface FimParts {
  prefix: string;
  middle: string;
  suffix: string;
  mode: FimMode;
}

/** Share of the context budget the suffix gets when both sides are longer than the budget. */
const SUFFIX_SHARE = 0.25;

/**
 * `[bos] prompt(prefix, suffix) middle end`, at most `fmt.maxLen` tokens: a long middle is cut
 * (and then has no end token: the model must not learn to stop there), a long prefix loses its
 * start and a long suffix its end, at line boundaries. null when not even the middle fits.
 */
export function fimSequence(fmt: SequenceFormat, parts: FimParts, loss: FimLoss = 'middle'): TrainExample | null {
  const tok = fmt.tokenizer;
  const mode = supportedMode(fmt, parts.mode);
  const maxMiddle = Math.floor(fmt.maxLen / 2);
  // Only the start of a long middle can be learned: the rest is never encoded.
  let middle = tok.encode(reachable(tok, parts.middle, maxMiddle + 1));
  if (middle.length === 0) return null;
  middle = middle.length < maxMiddle ? [...middle, fmt.endId] : middle.slice(0, maxMiddle);
  let room = fmt.maxLen - fmt.overhead[mode] - middle.length;
  if (room < 0) return null;
  for (let attempt = 0; attempt < 4; attempt++) {
    let suffix = headWithin(tok, parts.suffix, Math.floor(room * SUFFIX_SHARE));
    const prefix = tailWithin(tok, parts.prefix, room - suffix.tokens);
    // A short prefix leaves room for more suffix.
    if (prefix.text.length === parts.prefix.length) suffix = headWithin(tok, parts.suffix, room - prefix.tokens);
    const prompt = tok.encode(fmt.template.render(prefix.text, suffix.text, mode));
    const head = fmt.bosId === undefined ? prompt : [fmt.bosId, ...prompt];
    const over = head.length + middle.length - fmt.maxLen;
    // Pieces can merge into other tokens at the template's seams: shrink by the excess and retry.
    if (over > 0) {
      room -= over + 2;
      continue;
    }
    const ids = [...head, ...middle];
    const labels = ids.map((id, i) => {
      if (i >= head.length) return id;
      return loss === 'all' && i > 0 && !fmt.sentinelIds.has(id) && id !== fmt.bosId ? id : IGNORE;
    });
    return { ids, labels };
  }
  return null;
}
