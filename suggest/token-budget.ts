// Cutting text to a token budget at line boundaries, cheaply: a file can be far longer than any
// sequence and encoding is the slow part, so lines are encoded one at a time from the kept end
// only as far as the budget reaches, then the cut is encoded once whole to count it exactly.

export interface TextEncoder {
  encode(text: string): number[];
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
    const nl = text.lastIndexOf('\n', end - 2);
    yield text.slice(nl + 1, end);
    end = nl + 1;
  }
}

/** The start (or end) of one long line within the budget, by proportional cuts. */
function partialLine(tok: TextEncoder, line: string, budget: number, fromEnd: boolean): Kept {
  let n = line.length;
  for (let attempt = 0; attempt < 6 && n > 0; attempt++) {
    const text = fromEnd ? line.slice(line.length - n) : line.slice(0, n);
    const tokens = tok.encode(text).length;
    if (tokens <= budget) return { text, tokens };
    n = Math.floor(((n * budget) / tokens) * 0.9);
  }
  return { text: '', tokens: 0 };
}

function fit(tok: TextEncoder, text: string, budget: number, fromEnd: boolean): Kept {
  if (budget <= 0 || text === '') return { text: '', tokens: 0 };
  const kept: string[] = [];
  let estimate = 0;
  let next: string | undefined;
  for (const line of linesFrom(text, fromEnd)) {
    const cost = tok.encode(line).length;
    if (estimate + cost > budget) { next = line; break; }
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
