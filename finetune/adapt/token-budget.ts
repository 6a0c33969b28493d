// Cutting text to a token budget at line boundaries, cheaply: a file can be far longer than any
// sequence, so it is first cut by characters (no token is that long on average), then by tokens.

export interface TextEncoder {
  encode(text: string): number[];
}

/** No tokenizer averages more characters per token than this on code (long whitespace runs included). */
const MAX_CHARS_PER_TOKEN = 24;

/** `text` from `start` on, moved to the next line start when `start` is inside a line that is not the last. */
function fromLineStart(text: string, start: number): string {
  if (start === 0 || text[start - 1] === '\n') return text.slice(start);
  const nl = text.indexOf('\n', start);
  return text.slice(nl >= 0 && nl + 1 < text.length ? nl + 1 : start);
}

/** `text` up to `end`, moved back to a line end when `end` is inside a line that is not the first. */
function toLineEnd(text: string, end: number): string {
  if (end === text.length || text[end - 1] === '\n') return text.slice(0, end);
  const nl = text.lastIndexOf('\n', end - 1);
  return text.slice(0, nl >= 0 ? nl + 1 : end);
}

/**
 * The end of `text` that encodes to at most `budget` tokens, starting at a line start when the
 * budget cuts the text (unless not even one line fits). Returns a substring of `text`.
 */
export function keepTail(tok: TextEncoder, text: string, budget: number): string {
  if (budget <= 0 || text === '') return '';
  let start = Math.max(0, text.length - budget * MAX_CHARS_PER_TOKEN);
  for (let attempt = 0; attempt < 8; attempt++) {
    const kept = fromLineStart(text, start);
    const n = tok.encode(kept).length;
    if (n <= budget) return kept;
    // Shrink in proportion, a little more than needed, so few re-encodes are needed.
    start = text.length - Math.floor(((kept.length * budget) / n) * 0.95);
  }
  return '';
}

/** The start of `text` that encodes to at most `budget` tokens, ending at a line end when cut. */
export function keepHead(tok: TextEncoder, text: string, budget: number): string {
  if (budget <= 0 || text === '') return '';
  let end = Math.min(text.length, budget * MAX_CHARS_PER_TOKEN);
  for (let attempt = 0; attempt < 8; attempt++) {
    const kept = toLineEnd(text, end);
    const n = tok.encode(kept).length;
    if (n <= budget) return kept;
    end = Math.floor(((kept.length * budget) / n) * 0.95);
  }
  return '';
}
