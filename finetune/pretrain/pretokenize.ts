// The code-aware pre-tokenizer: text is cut into pieces before BPE, and no merge crosses a cut.
// The same pattern goes into tokenizer.json (a Split pre-tokenizer, behaviour Isolated), so our
// encoder and @huggingface/tokenizers cut identically. It is written with explicit character
// classes only (no \s, \w, \d, ^), which mean different things in Oniguruma, Rust and JS regexes.

/** Whitespace other than CR and LF: the Unicode White_Space set minus U+000A and U+000D. */
const HSPACE = '\\t\\u000b\\u000c \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

/**
 * One alternative per kind of piece, tried in order at each position:
 * 1. line breaks plus the next line's indentation (`"\n        "`), so indentation levels become tokens;
 * 2. an identifier with at most one leading non-newline, non-word character (`" self"`, `".append"`, `"(x"`);
 * 3. up to three digits, optionally after one space;
 * 4. a run of punctuation, optionally after one space (`" =="`, `"):"`);
 * 5. a run of in-line whitespace not followed by a visible character (trailing spaces,
 *    or alignment runs less the space that leads the next piece);
 * 6. any other run of in-line whitespace (a tab before a word).
 * Every code point is covered by some alternative, so the pieces always tile the text.
 */
export const PRETOKENIZE_PATTERN = [
  '[\\r\\n]+[\\t ]*',
  '[^\\r\\n\\p{L}\\p{M}\\p{N}_]?[\\p{L}\\p{M}_][\\p{L}\\p{M}\\p{N}_]*',
  ' ?\\p{N}{1,3}',
  ' ?[^\\p{White_Space}\\p{L}\\p{M}\\p{N}_]+',
  `[${HSPACE}]+(?!\\P{White_Space})`,
  `[${HSPACE}]+`,
].join('|');

const PIECE = new RegExp(PRETOKENIZE_PATTERN, 'gu');

/**
 * Calls `visit` for each pre-token of `text`, in order. Like the tokenizers' Isolated split, any
 * text between matches is a piece of its own (the pattern leaves none, but the contract is kept).
 */
export function forEachPreToken(text: string, visit: (piece: string) => void): void {
  PIECE.lastIndex = 0;
  let prev = 0;
  for (let m = PIECE.exec(text); m !== null; m = PIECE.exec(text)) {
    if (m.index > prev) visit(text.slice(prev, m.index));
    visit(m[0]);
    prev = m.index + m[0].length;
  }
  if (prev < text.length) visit(text.slice(prev));
}

/** The pre-tokens of `text` as an array (for tests and small inputs). */
export function preTokenize(text: string): string[] {
  const out: string[] = [];
  forEachPreToken(text, (p) => out.push(p));
  return out;
}
