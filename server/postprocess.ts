// From the model's raw middle to the text the editor inserts: clean, cut at the end of the line or
// block, without what repeats the suffix, with balanced brackets.
import { blockEndCut, indentWidth, lineEndCut } from './block-end.js';
import { balanceBrackets } from './brackets.js';
import type { CompletionMode } from './settings.js';
import { dropSuffixRepeat } from './suffix-repeat.js';

export interface CompletionContext {
  /** The prompt's prefix window (ends at the cursor). */
  prefix: string;
  /** The prompt's suffix window (starts at the cursor). */
  suffix: string;
  mode: CompletionMode;
  languageId: string;
}

interface Around {
  lineBefore: string;
  lineAfter: string;
  nextLines: string[];
}

function around(ctx: CompletionContext): Around {
  const lines = ctx.suffix.split('\n');
  return { lineBefore: ctx.prefix.slice(ctx.prefix.lastIndexOf('\n') + 1), lineAfter: lines[0], nextLines: lines.slice(1) };
}

/** Multi-line completions only where the rest of the line is empty: text inserted before code on the line stays on it. */
export function effectiveMode(ctx: CompletionContext): CompletionMode {
  return ctx.mode === 'multi-line' && around(ctx).lineAfter.trim() === '' ? 'multi-line' : 'single-line';
}

const TAB_WIDTH = 4;

/**
 * What the start of `text` repeats of the cursor's line, when the line is blank up to the cursor:
 * leading line breaks (the model starting "on the next line" would leave the user's line empty
 * behind the insertion) and then the indentation the line already has (a model trained on
 * whole-line middles writes it again: "    " + "    return x"). `skip` is their length;
 * `dedent` says the first line after those line breaks is indented less than the cursor: it
 * belongs to an outer block, so there is nothing to insert here.
 */
export function repeatedStart(text: string, lineBefore: string): { skip: number; dedent: boolean } {
  if (lineBefore.trim() !== '') return { skip: 0, dedent: false };
  const breaks = /^(?:[ \t]*\n)*/.exec(text)![0].length;
  const indent = indentWidth(lineBefore);
  let i = breaks;
  for (let width = 0; i < text.length && width < indent && (text[i] === ' ' || text[i] === '\t'); i++) {
    width += text[i] === '\t' ? TAB_WIDTH : 1;
  }
  // Judged once the line has a non-blank character, like blockEndCut's lines.
  const line = text.slice(breaks).split('\n')[0];
  const dedent = breaks > 0 && line.trim() !== '' && indentWidth(line) < indent;
  return { skip: i, dedent };
}

/**
 * Length of the start of `text` that restarts the cursor's line, when the line has code before the
 * cursor: a model trained on whole-line middles may begin at the line's start, writing its
 * indentation (and the code already typed) again: "    def " + "    def __init__(self):". After
 * whitespace or an opening bracket the completion's leading whitespace is never wanted; the typed
 * code is dropped when it follows that whitespace.
 */
export function restartedLine(text: string, lineBefore: string): number {
  if (lineBefore.trim() === '' || !/[\s([{.]$/.test(lineBefore)) return 0;
  const lead = /^[ \t]*/.exec(text)![0].length;
  if (lead === 0) return 0;
  const typed = lineBefore.trimStart();
  return text.startsWith(typed, lead) ? lead + typed.length : lead;
}

/** The end of the line or block in a text that starts at the cursor (its repeated start removed). */
function endCut(ctx: CompletionContext): (text: string) => number | undefined {
  if (effectiveMode(ctx) === 'single-line') return lineEndCut;
  const { lineBefore } = around(ctx);
  return (text) => blockEndCut(text, lineBefore);
}

/** Where generation may stop: the end of the line or of the block (after any repeated start). */
export function stopAtFor(ctx: CompletionContext): (text: string) => number | undefined {
  const cut = endCut(ctx);
  const { lineBefore } = around(ctx);
  return (text) => {
    const { skip, dedent } = repeatedStart(text, lineBefore);
    if (dedent) return 0;
    const end = cut(text.slice(skip));
    return end === undefined ? undefined : skip + end;
  };
}

/** The first character a completion must not contain: undecodable bytes and control characters. */
const INVALID = /[\u0000-\u0008\u000b-\u001f\u007f\ufffd]/u;

function clean(raw: string): string {
  const text = raw.replace(/\r\n/g, '\n');
  const bad = text.search(INVALID);
  return bad < 0 ? text : text.slice(0, bad);
}

/** The text to insert for the model's `raw` middle; '' when nothing is worth inserting. */
export function postprocess(raw: string, ctx: CompletionContext): string {
  const mode = effectiveMode(ctx);
  const a = around(ctx);
  let text = clean(raw);
  const start = repeatedStart(text, a.lineBefore);
  if (start.dedent) return '';
  text = text.slice(start.skip);
  text = text.slice(restartedLine(text, a.lineBefore));
  const end = endCut(ctx)(text);
  if (end !== undefined) text = text.slice(0, end);
  // No line ends in spaces (a blank line inside stays, empty), and no blank lines trail.
  text = text.replace(/[ \t]+(?=\n)/g, '').trimEnd();
  const brackets = {
    before: mode === 'multi-line' ? ctx.prefix : a.lineBefore,
    after: mode === 'multi-line' ? ctx.suffix : a.lineAfter,
    languageId: ctx.languageId,
  };
  const balance = (t: string) => balanceBrackets(t, { ...brackets, allowOpen: mode === 'multi-line' && t.includes('\n') });
  text = balance(text).trimEnd();
  text = dropSuffixRepeat(text, a, (shorter) => balance(shorter) === shorter).trimEnd();
  return text.trim() === '' ? '' : text;
}
