// Cutting text to a token budget at line boundaries, cheaply: a file can be far longer than any
// sequence and encoding is the slow part, so lines are encoded one at a time from the kept end
// only as far as the budget reaches, then the cut is encoded once whole to count it exactly.

export interface TextEncoder {
  encode(text: string): number[];
  /** With these (an engine tokenizer), the longest token bounds how much text a budget can hold. */
  vocabSize?: number;
  idToToken?(id: number): string | undefined;
}

const bounds = new WeakMap<object, number>();

/**
 * The most characters one token can stand for: its longest vocabulary entry (byte-level pieces are
 * at least as long as the text they decode to). Text beyond `budget` times this cannot fit, so it
 * is never encoded: a 900 KB line costs no more than a short one. 256 for encoders without a vocabulary.
 */
export function maxCharsPerToken(tok: TextEncoder): number {
  let bound = bounds.get(tok);
  if (bound !== undefined) return bound;
  bound = 256;
  if (typeof tok.vocabSize === 'number' && typeof tok.idToToken === 'function') {
    let longest = 1;
    for (let id = 0; id < tok.vocabSize; id++) longest = Math.max(longest, tok.idToToken(id)?.length ?? 0);
    bound = longest;
  }
  bounds.set(tok, bound);
  return bound;
}

/** At most the characters `budget` tokens can cover, from the start (or end) of `text`. */
export function reachable(tok: TextEncoder, text: string, budget: number, fromEnd = false): string {
  const most = Math.max(0, budget) * maxCharsPerToken(tok);
  if (text.length <= most) return text;
  return fromEnd ? text.slice(text.length - most) : text.slice(0, most);
}

/** A cut of a text and its token count. */
export interface Kept {
  text: string;
  tokens: number;
}

/** The lines of `text` (each with its newline) from the start, or from the end when `fromEnd`, lazily. */
function* linesFrom(text: string, fromEnd: boolean): Generator<string> {
  if (!fromEnd) {
    for (let at = 0; at < text.length;) {
      const nl = text.indexOf('\n', at);
      const end = nl < 0 ? text.length : nl + 1;
      yield text.slice(at, end);
      at = end;
    }
    return;
  }
  for (let end = text.length; end > 0;) {
    // lastIndexOf clamps a negative start to 0: at end 1 it would find a leading newline again
    // and yield '' forever (the kept list then grows until V8 dies with "invalid size").
    const nl = end >= 2 ? text.lastIndexOf('\n', end - 2) : -1;
    yield text.slice(nl + 1, end);
    end = nl + 1;
  }
}

/** The start (or end) of one long line within the budget, by proportional cuts. */
function partialLine(tok: TextEncoder, whole: string, budget: number, fromEnd: boolean): Kept {
  const line = reachable(tok, whole, budget, fromEnd);
  let n = line.length;
  for (let attempt = 0; attempt < 6 && n > 0; attempt++) {
    const text = fromEnd ? line.slice(line.length - n) : line.slice(0, n);
    const tokens = tok.encode(text).length;
    if (tokens <= budget) return { text, tokens };
    n = Math.floor(((n * budget) / tokens) * 0.9);
  }
  return { text: '', tokens: 0 };
}

function fit(tok: TextEncoder, whole: string, budget: number, fromEnd: boolean): Kept {
  if (budget <= 0 || whole === '') return { text: '', tokens: 0 };
  let text = reachable(tok, whole, budget, fromEnd);
  if (text.length < whole.length) {
    // The window may begin (or end) inside a line: only whole lines count, unless none fits.
    const cut = fromEnd ? text.indexOf('\n') : text.lastIndexOf('\n');
    const atBoundary = fromEnd ? whole[whole.length - text.length - 1] === '\n' : text.endsWith('\n');
    if (!atBoundary && cut >= 0 && cut < text.length - 1) text = fromEnd ? text.slice(cut + 1) : text.slice(0, cut + 1);
  }
  const kept: string[] = [];
  let estimate = 0;
  let next: string | undefined;
  for (const line of linesFrom(text, fromEnd)) {
    const cost = tok.encode(line).length;
    if (estimate + cost > budget) {
      next = line;
      break;
    }
    estimate += cost;
    kept.push(line);
  }
  if (!kept.length) return next === undefined ? { text: '', tokens: 0 } : partialLine(tok, next, budget, fromEnd);
  const join = (lines: string[]) => (fromEnd ? [...lines].reverse() : lines).join('');
  let cut = join(kept);
  let tokens = tok.encode(cut).length;
  // Lines can merge across their boundary (a newline with the next line's indent): the whole may be
  // shorter than the sum, leaving room for one more line, or (rarely) longer.
  while (tokens > budget && kept.length > 1) {
    kept.pop();
    cut = join(kept);
    tokens = tok.encode(cut).length;
  }
  if (next !== undefined && tokens < budget) {
    const wider = join([...kept, next]);
    const more = tok.encode(wider).length;
    if (more <= budget) return { text: wider, tokens: more };
  }
  return tokens <= budget ? { text: cut, tokens } : partialLine(tok, cut, budget, fromEnd);
}

/**
 * The end of `text` that encodes to at most `budget` tokens: whole lines, as many as fit, unless
 * not even the last line fits (then the end of it). Its text is a substring of `text`.
 */
export function tailWithin(tok: TextEncoder, text: string, budget: number): Kept {
  return fit(tok, text, budget, true);
}

/** The start of `text` within `budget` tokens: whole lines, as many as fit (or the start of the first). */
export function headWithin(tok: TextEncoder, text: string, budget: number): Kept {
  return fit(tok, text, budget, false);
}

/** {@link tailWithin}'s text. */
export function keepTail(tok: TextEncoder, text: string, budget: number): string {
  return tailWithin(tok, text, budget).text;
}

/** {@link headWithin}'s text. */
export function keepHead(tok: TextEncoder, text: string, budget: number): string {
  return headWithin(tok, text, budget).text;
}
