import { indentWidth } from './tasks/lines.js';
import type { StopRule } from './tasks/task.js';

/** Where `\n` at `nl` ends the text before it (a preceding \r goes too). */
function cutAt(text: string, nl: number): number {
  return nl > 0 && text[nl - 1] === '\r' ? nl - 1 : nl;
}

/**
 * Where a task's stop rule (see StopRule) ends a generated middle: a `line` middle at its first
 * newline; a `block` middle at its first blank line, or before its first non-blank line indented
 * less than its first line (a block whose first line is blank is that line alone). undefined
 * while the text may still grow into a longer middle. `final` (generation is over) also ends a
 * block at an unfinished whitespace-only last line.
 */
export function stopIndex(text: string, rule: StopRule, final = false): number | undefined {
  if (rule === 'none') return undefined;
  if (rule === 'line') {
    const nl = text.indexOf('\n');
    return nl < 0 ? undefined : cutAt(text, nl);
  }
  let indent = 0;
  for (let row = 0, start = 0; ; row++) {
    const nl = text.indexOf('\n', start);
    const line = text.slice(start, nl < 0 ? text.length : nl).replace(/\r$/, '');
    if (line.trim() === '') {
      if (nl >= 0 || final) return row === 0 ? start + line.length : cutAt(text, start - 1);
    } else if (row === 0) {
      indent = indentWidth(line);
    } else if (indentWidth(line) < indent) {
      return cutAt(text, start - 1);
    }
    if (nl < 0) return undefined;
    start = nl + 1;
  }
}

/** The generated text as the stop rule ends it, once generation is over. */
export function applyStopRule(text: string, rule: StopRule): string {
  return text.slice(0, stopIndex(text, rule, true) ?? text.length);
}
