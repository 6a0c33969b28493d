// Fill-in-the-middle (Bavarian et al. 2022), StarCoder-style. The split is at the character
// level: two cut points drawn uniformly over the document's code points, and each part is then
// tokenized on its own, as the bigcode Megatron-LM pipeline does. So the middle's first token
// starts exactly where a FIM prompt ends at inference time, never fused with the prefix.
//   PSM: <fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>{middle}<|endoftext|>
//   SPM: <fim_prefix><fim_suffix>{suffix}<fim_middle>{prefix}{middle}<|endoftext|>
// (SPM is the SantaCoder/StarCoder variant: both sentinels first, the prefix after <fim_middle>.)
import type { BpeEncoder } from './bpe-encoder.js';
import { randomInt, type Random } from '../../common/index.js';
import { EOT, FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX } from './special-tokens.js';

export type FimMode = 'psm' | 'spm' | 'none';

export interface FimOptions {
  /** Share of documents turned into FIM examples (default 0.5). */
  fimRate?: number;
  /** Share of FIM examples in SPM rather than PSM order (default 0.5). */
  spmRate?: number;
  /**
   * Share of FIM examples cut at line starts, so the middle is whole lines: where an editor asks on a
   * new line. Uniform character cuts almost never fall there, and a model trained only on them
   * starts its middles mid-word (default 0: character cuts only).
   */
  lineRate?: number;
}

/** A document cut in three; with mode 'none' the whole text is the prefix. */
export interface FimParts {
  mode: FimMode;
  prefix: string;
  middle: string;
  suffix: string;
}

const SURROGATE = /[\uD800-\uDFFF]/;

/** Cuts `text` at two code-point positions drawn uniformly from [0, length] (parts may be empty). */
export function splitAtRandom(text: string, rng: Random): [string, string, string] {
  const chars = SURROGATE.test(text) ? Array.from(text) : null;
  const length = chars ? chars.length : text.length;
  let a = randomInt(rng, length + 1);
  let b = randomInt(rng, length + 1);
  if (a > b) [a, b] = [b, a];
  if (chars) return [chars.slice(0, a).join(''), chars.slice(a, b).join(''), chars.slice(b).join('')];
  return [text.slice(0, a), text.slice(a, b), text.slice(b)];
}

/**
 * Cuts `text` around whole lines i..j drawn uniformly: the middle runs from line i's start to line
 * j's end, its last newline left to the suffix — what an editor has when the cursor sits on a line
 * of its own (the prefix ends with a newline, the suffix starts with one).
 */
export function splitAtLines(text: string, rng: Random): [string, string, string] {
  const starts = [0];
  for (let k = text.indexOf('\n'); k >= 0 && k + 1 < text.length; k = text.indexOf('\n', k + 1)) starts.push(k + 1);
  let i = randomInt(rng, starts.length);
  let j = randomInt(rng, starts.length);
  if (i > j) [i, j] = [j, i];
  const a = starts[i];
  const next = j + 1 < starts.length ? starts[j + 1] - 1 : text.length;
  const b = text[next - 1] === '\n' && next === text.length ? next - 1 : next;
  return [text.slice(0, a), text.slice(a, b), text.slice(b)];
}

/** Decides, with `rng`, whether and how a document becomes a FIM example. */
export function fimTransform(text: string, rng: Random, options: FimOptions = {}): FimParts {
  if (!(rng() < (options.fimRate ?? 0.5))) return { mode: 'none', prefix: text, middle: '', suffix: '' };
  const mode = rng() < (options.spmRate ?? 0.5) ? 'spm' : 'psm';
  // No draw at all when lineRate is 0, so recipes without it keep their exact random stream.
  const byLine = (options.lineRate ?? 0) > 0 && rng() < options.lineRate!;
  const [prefix, middle, suffix] = byLine ? splitAtLines(text, rng) : splitAtRandom(text, rng);
  return { mode, prefix, middle, suffix };
}

/** The example as text, `<|endoftext|>` included: what `decode(fimTokens(...) + [eot])` gives. */
export function fimString(parts: FimParts): string {
  switch (parts.mode) {
    case 'none':
      return `${parts.prefix}${EOT}`;
    case 'psm':
      return `${FIM_PREFIX}${parts.prefix}${FIM_SUFFIX}${parts.suffix}${FIM_MIDDLE}${parts.middle}${EOT}`;
    case 'spm':
      return `${FIM_PREFIX}${FIM_SUFFIX}${parts.suffix}${FIM_MIDDLE}${parts.prefix}${parts.middle}${EOT}`;
  }
}

/**
 * The example's token ids, without the closing `<|endoftext|>` (packing adds it between
 * documents). Each part is encoded on its own, as plain text.
 */
export function fimTokens(parts: FimParts, encoder: BpeEncoder): number[] {
  const out: number[] = [];
  const text = (s: string) => encoder.encodeInto(s, out);
  const special = (s: string) => out.push(encoder.specialId(s));
  switch (parts.mode) {
    case 'none':
      text(parts.prefix);
      break;
    case 'psm':
      special(FIM_PREFIX);
      text(parts.prefix);
      special(FIM_SUFFIX);
      text(parts.suffix);
      special(FIM_MIDDLE);
      text(parts.middle);
      break;
    case 'spm':
      special(FIM_PREFIX);
      special(FIM_SUFFIX);
      text(parts.suffix);
      special(FIM_MIDDLE);
      text(parts.prefix);
      text(parts.middle);
      break;
  }
  return out;
}
