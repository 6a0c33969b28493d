// The prefix and suffix around the cursor that fit the token budgets.
//
// The prefix window starts at a line whose number is a multiple of a coarse step, the earliest such
// line that fits the budget. While the user types forward the start stays put, so the prompt's
// tokens up to the cursor stay identical and the model's KV cache of the previous prompt is reused;
// it jumps forward by a whole step only when the budget runs out.
import type { TokenCounter } from './token-counter.js';

/** A document as the window needs it: the text and where its lines start. */
export interface TextView {
  text: string;
  lineCount: number;
  /** Offset of the first character of line `line` (0-based, < lineCount). */
  lineStart(line: number): number;
}

export interface Cursor {
  offset: number;
  line: number;
}

export interface WindowBudget {
  maxPrefixTokens: number;
  maxSuffixTokens: number;
}

export interface PromptWindow {
  prefix: string;
  suffix: string;
  /** Offset of the window's first character in the document. */
  prefixStart: number;
  /** Offset just past the window's last character. */
  suffixEnd: number;
}

/** No token is longer than this many characters in the tokenizers we meet: bounds the text measured. */
const MAX_CHARS_PER_TOKEN = 16;
/** Offsets a window inside one over-long line may start at are multiples of this (stable too). */
const CHAR_STEP = 64;

/** Lines between the prefix window's possible starts: coarser for bigger budgets. */
export function anchorStep(maxPrefixTokens: number): number {
  return Math.max(1, Math.min(16, Math.floor(maxPrefixTokens / 64)));
}

function lineEnd(view: TextView, line: number): number {
  return line + 1 < view.lineCount ? view.lineStart(line + 1) : view.text.length;
}

/** Never start or end a window between the two halves of a surrogate pair. */
function onCharBoundary(text: string, offset: number): number {
  const c = text.charCodeAt(offset);
  return c >= 0xdc00 && c <= 0xdfff ? offset + 1 : offset;
}

/** The start of a window of `text[start, end)` inside one line too long to take whole. */
function charStart(text: string, lineBegin: number, end: number, budget: number, count: TokenCounter): number {
  let start = Math.max(lineBegin, end - budget);
  start = Math.min(end, Math.ceil(start / CHAR_STEP) * CHAR_STEP);
  while (start < end && count(text.slice(onCharBoundary(text, start), end)) > budget) start += CHAR_STEP;
  return onCharBoundary(text, Math.min(start, end));
}

export function prefixStart(view: TextView, cursor: Cursor, budget: number, count: TokenCounter): number {
  if (budget <= 0) return cursor.offset;
  const { text } = view;
  const capChars = budget * MAX_CHARS_PER_TOKEN;
  const step = anchorStep(budget);
  const begin = view.lineStart(cursor.line);
  if (cursor.offset - begin > capChars) return charStart(text, begin, cursor.offset, budget, count);
  let used = count(text.slice(begin, cursor.offset));
  if (used > budget) return charStart(text, begin, cursor.offset, budget, count);
  let stable = cursor.line % step === 0 ? begin : undefined;
  let fine = begin;
  for (let line = cursor.line - 1; line >= 0; line--) {
    const start = view.lineStart(line);
    if (cursor.offset - start > capChars) break;
    used += count(text.slice(start, view.lineStart(line + 1)));
    if (used > budget) break;
    fine = start;
    if (line % step === 0) stable = start;
  }
  return stable ?? fine;
}

export function suffixEnd(view: TextView, cursor: Cursor, budget: number, count: TokenCounter): number {
  if (budget <= 0) return cursor.offset;
  const { text } = view;
  const capChars = budget * MAX_CHARS_PER_TOKEN;
  let end = lineEnd(view, cursor.line);
  let used = end - cursor.offset > capChars ? Infinity : count(text.slice(cursor.offset, end));
  if (used > budget) {
    // One over-long line: keep its first characters, halving until they fit.
    let n = Math.min(end - cursor.offset, budget);
    while (n > 0 && count(text.slice(cursor.offset, onCharBoundary(text, cursor.offset + n))) > budget) n = Math.floor(n / 2);
    return onCharBoundary(text, cursor.offset + n);
  }
  for (let line = cursor.line + 1; line < view.lineCount; line++) {
    const next = lineEnd(view, line);
    if (next - cursor.offset > capChars) break;
    used += count(text.slice(view.lineStart(line), next));
    if (used > budget) break;
    end = next;
  }
  return end;
}

/** The prefix and suffix around `cursor` within the budgets (token counts are summed line by line). */
export function promptWindow(view: TextView, cursor: Cursor, budget: WindowBudget, count: TokenCounter): PromptWindow {
  const start = prefixStart(view, cursor, budget.maxPrefixTokens, count);
  const end = suffixEnd(view, cursor, budget.maxSuffixTokens, count);
  return {
    prefix: view.text.slice(start, cursor.offset),
    suffix: view.text.slice(cursor.offset, end),
    prefixStart: start,
    suffixEnd: end,
  };
}

/** A TextView over a plain string (tests, tools); the server uses the open document's own line table. */
export function textView(text: string): TextView {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return { text, lineCount: starts.length, lineStart: (line) => starts[line] };
}

/** Share of the room the budgets may fill: line-by-line counts can differ a little from the prompt's. */
const BUDGET_SLACK = 0.9;
/** Tokens of the FIM sentinels and a margin. */
const TEMPLATE_TOKENS = 16;

/**
 * The budgets scaled down (keeping their ratio) so that prompt and generation fit a model whose
 * context holds `contextTokens` positions, `reserved` of them for the generated tokens.
 */
export function fitBudget(budget: WindowBudget, contextTokens: number, reserved: number): WindowBudget {
  const room = Math.max(0, Math.floor((contextTokens - reserved - TEMPLATE_TOKENS) * BUDGET_SLACK));
  const total = budget.maxPrefixTokens + budget.maxSuffixTokens;
  if (total <= room) return { maxPrefixTokens: budget.maxPrefixTokens, maxSuffixTokens: budget.maxSuffixTokens };
  const scale = room / total;
  return { maxPrefixTokens: Math.floor(budget.maxPrefixTokens * scale), maxSuffixTokens: Math.floor(budget.maxSuffixTokens * scale) };
}
