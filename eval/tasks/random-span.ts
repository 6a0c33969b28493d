import type { Rng } from '../../common/index.js';
import type { TaskSpan } from './task.js';

/** One random span per this many lines of a file, at least one. */
export const LINES_PER_SPAN = 40;
/** Longest random span, in characters. */
export const MAX_SPAN_CHARS = 100;

/** Moves an offset off the second half of a surrogate pair and off the \n of a \r\n. */
function snap(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c >= 0xdc00 && c <= 0xdfff && i > 0) return i - 1;
  if (text[i] === '\n' && text[i - 1] === '\r') return i - 1;
  return i;
}

/** Random character spans that hold something other than whitespace. */
export function randomSpans(text: string, lineCount: number, rng: Rng, maxChars = MAX_SPAN_CHARS): TaskSpan[] {
  const spans: TaskSpan[] = [];
  if (!/\S/.test(text)) return spans;
  const wanted = Math.max(1, Math.ceil(lineCount / LINES_PER_SPAN));
  for (let n = 0, tries = 0; n < wanted && tries < 20 * wanted; tries++) {
    const start = snap(text, rng.int(text.length));
    const end = snap(text, start + 1 + rng.int(Math.min(maxChars, text.length - start)));
    if (end <= start || !/\S/.test(text.slice(start, end))) continue;
    spans.push({ start, end, stop: 'none' });
    n++;
  }
  return spans.sort((a, b) => a.start - b.start);
}
