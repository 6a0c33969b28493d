// How examples become token sequences for one model: its tokenizer, FIM template, the tokens that
// open a prompt and end a completion, and the longest sequence trained on.
import { UserError } from '../common/index.js';
import { type FimMode, type FimTemplate, type ModelConfig, type Tokenizer } from '../engine/index.js';

/** The sequence length `codefudge adapt` trains with unless told otherwise. */
export const DEFAULT_SEQUENCE_LENGTH = 512;

/** Labels of positions that are not predicted (Hugging Face's ignore index). */
export const IGNORE = -100;

export interface SequenceFormat {
  tokenizer: Tokenizer;
  template: FimTemplate;
  /** Put first in every sequence (families whose prompts start with BOS), as the completer does. */
  bosId: number | undefined;
  /** Ends a middle or a diff: what the completer stops at. */
  endId: number;
  /** Longest sequence, in tokens. */
  maxLen: number;
  /** Tokens of the FIM template itself, never labels (loss on the whole sequence skips them). */
  sentinelIds: ReadonlySet<number>;
  /** Tokens the template adds around prefix and suffix, per mode. */
  overhead: Readonly<Record<FimMode, number>>;
}

const SENTINEL_NAME = /<[^<>]*(fim|PRE|SUF|MID)[^<>]*>/i;

/** A template token, not text the template puts between them (CodeLlama's spaces). */
function isSentinel(tokenizer: Tokenizer, id: number): boolean {
  const token = tokenizer.idToToken(id) ?? '';
  return tokenizer.specialTokens.includes(token) || SENTINEL_NAME.test(token);
}

export function sequenceFormat(tokenizer: Tokenizer, template: FimTemplate, config: ModelConfig, maxLen: number): SequenceFormat {
  if (!Number.isSafeInteger(maxLen) || maxLen < 16) throw new UserError(`sequence length must be an integer of at least 16, got ${maxLen}`);
  const stop = template.stopTokens.map((t) => tokenizer.tokenToId(t)).find((id) => id !== undefined);
  const endId = tokenizer.eosTokenIds[0] ?? config.eosTokenIds[0] ?? stop;
  if (endId === undefined) throw new UserError("the model's tokenizer has no end-of-text token to end a completion with");
  const bos = config.bosTokenId ?? tokenizer.bosTokenId;
  const bosId = template.addBos && bos !== null ? bos : undefined;
  const sentinelIds = new Set<number>();
  const overhead = {} as Record<FimMode, number>;
  for (const mode of template.modes) {
    const ids = tokenizer.encode(template.render('', '', mode));
    overhead[mode] = ids.length + (bosId === undefined ? 0 : 1);
    for (const id of ids) if (isSentinel(tokenizer, id)) sentinelIds.add(id);
  }
  overhead.spm ??= overhead.psm;
  return { tokenizer, template, bosId, endId, maxLen, sentinelIds, overhead };
}

/** The template's mode for `mode`, PSM where the template has no SPM. */
export function supportedMode(fmt: SequenceFormat, mode: FimMode): FimMode {
  return fmt.template.modes.includes(mode) ? mode : 'psm';
}
