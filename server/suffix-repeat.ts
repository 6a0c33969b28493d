// Models often end a middle by writing out what already follows the cursor (the closing ")" of the
// line, or the next line of the file). Inserted, that text would appear twice: drop it.

export interface SuffixContext {
  /** The cursor's line before the cursor. */
  lineBefore: string;
  /** The cursor's line after the cursor. */
  lineAfter: string;
  /** The lines after the cursor's line, as far as the prompt's suffix reaches. */
  nextLines: readonly string[];
}

const isPunctuation = (s: string) => /^[^\p{L}\p{N}_]*$/u.test(s);

/**
 * The longest tail of `text` that equals the start of `lineAfter`, when it is safe to call it a
 * repeat: the whole rest of the line, or only punctuation (a letter overlap may be a real word).
 */
function lineTailOverlap(text: string, lineAfter: string, keeps: (shorter: string) => boolean): number {
  const rest = lineAfter.trimEnd();
  for (let k = Math.min(text.length, rest.length); k > 0; k--) {
    const head = rest.slice(0, k);
    if (text.endsWith(head) && (k === rest.length || isPunctuation(head)) && keeps(text.slice(0, text.length - k))) return k;
  }
  return 0;
}

/** How many of the completed lines, counted from the last, equal the lines that follow the cursor. */
function repeatedLines(lines: readonly string[], next: readonly string[]): number {
  for (let j = Math.min(lines.length, next.length); j > 0; j--) {
    const tail = lines.slice(lines.length - j);
    const same = tail.every((line, t) => line.trim() === next[t].trim());
    if (same && tail.some((line) => line.trim() !== '')) return j;
  }
  return 0;
}

/**
 * `text` without the part of its end that only repeats what follows the cursor. `keeps` vets a
 * shortened text (e.g. that its brackets still balance: the ")" of `f(x)` before a ")" already in
 * the line is the call's own, not a repeat).
 */
export function dropSuffixRepeat(text: string, ctx: SuffixContext, keeps: (shorter: string) => boolean = () => true): string {
  let out = text.slice(0, text.length - lineTailOverlap(text, ctx.lineAfter, keeps));
  if (ctx.lineAfter.trim() !== '' || out.trim() === '') return out;
  // The lines the completion makes: the cursor's line (with what is before the cursor), then its own.
  const parts = out.split('\n');
  const lines = [ctx.lineBefore + parts[0], ...parts.slice(1)];
  const j = repeatedLines(lines, ctx.nextLines);
  if (j === 0) return out;
  if (j >= lines.length) return '';
  out = parts.slice(0, parts.length - j).join('\n');
  return out;
}
