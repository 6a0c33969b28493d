// From the model's raw middle to the text the editor inserts: clean, cut at the end of the line or
// block, without what repeats the suffix, with balanced brackets.
import { blockEndCut, lineEndCut } from './block-end.js';
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

/** Where generation may stop: the end of the line or of the block. */
export function stopAtFor(ctx: CompletionContext): (text: string) => number | undefined {
  if (effectiveMode(ctx) === 'single-line') return lineEndCut;
  const { lineBefore } = around(ctx);
  return (text) => blockEndCut(text, lineBefore);
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
  const end = stopAtFor(ctx)(text);
  if (end !== undefined) text = text.slice(0, end);
  text = text.trimEnd();
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
