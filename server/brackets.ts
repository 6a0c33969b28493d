// Bracket balance of a completion against the code around it, with a small lexer that skips
// brackets inside strings and line comments (an approximation good enough for the usual languages).

const OPENERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
const CLOSERS = new Set(Object.values(OPENERS));

/** Languages whose line comments start with "#"; every other one is taken to use "//". */
const HASH_COMMENT_LANGUAGES = new Set([
  'python',
  'ruby',
  'shellscript',
  'sh',
  'bash',
  'zsh',
  'fish',
  'perl',
  'r',
  'yaml',
  'toml',
  'make',
  'makefile',
  'dockerfile',
  'elixir',
  'julia',
  'nim',
  'coffeescript',
  'cmake',
  'powershell',
  'starlark',
  'gdscript',
  'tcl',
]);

export function lineCommentOf(languageId: string): string {
  return HASH_COMMENT_LANGUAGES.has(languageId.toLowerCase()) ? '#' : '//';
}

interface Open {
  char: string;
  /** Index in the completion, or -1 for a bracket opened before the cursor. */
  at: number;
}

interface LexState {
  stack: Open[];
  string?: { quote: string; at: number };
  comment: boolean;
}

interface Event {
  kind: 'open' | 'close';
  char: string;
  index: number;
}

/** Runs the lexer over `text` from `state` (updated in place), reporting the brackets that are code; false stops it. */
function lex(text: string, state: LexState, lineComment: string, onEvent: (e: Event) => boolean | void): void {
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (state.comment) {
      if (c === '\n') state.comment = false;
      continue;
    }
    const str = state.string;
    if (str) {
      if (c === '\\') i++;
      else if (text.startsWith(str.quote, i)) {
        state.string = undefined;
        i += str.quote.length - 1;
      } else if (c === '\n' && str.quote.length === 1 && str.quote !== '`') state.string = undefined;
      continue;
    }
    if (text.startsWith(lineComment, i)) {
      state.comment = true;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      const quote = text.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
      state.string = { quote, at: i };
      i += quote.length - 1;
      continue;
    }
    if (c in OPENERS || CLOSERS.has(c)) {
      if (onEvent({ kind: c in OPENERS ? 'open' : 'close', char: c, index: i }) === false) return;
    }
  }
}

/** How many brackets open in `state` the text `after` closes (stopping at its first mismatch). */
function closedBy(after: string, state: LexState, lineComment: string): number {
  const s: LexState = { stack: [...state.stack], string: state.string && { ...state.string }, comment: state.comment };
  let own = 0;
  let closed = 0;
  lex(after, s, lineComment, (e) => {
    if (e.kind === 'open') own++;
    else {
      if (own > 0) {
        own--;
        return;
      }
      const top = s.stack.pop();
      if (!top || OPENERS[top.char] !== e.char) return false;
      closed++;
    }
  });
  return closed;
}

export interface BracketContext {
  /** Code before the cursor whose open brackets the completion may close (the cursor's line, or the prompt's prefix). */
  before: string;
  /** Code after the cursor whose closing brackets are already there. */
  after: string;
  languageId: string;
  /** Whether brackets the completion opens may stay open (multi-line completions continue on later lines). */
  allowOpen: boolean;
}

/**
 * `text` cut so that its brackets fit the code around it: at its first closing bracket that matches
 * nothing opened before it (or closes one that the code after the cursor already closes), and,
 * unless `allowOpen`, at the first bracket or string it opens and leaves open.
 */
export function balanceBrackets(text: string, ctx: BracketContext): string {
  const lineComment = lineCommentOf(ctx.languageId);
  const state: LexState = { stack: [], comment: false };
  lex(ctx.before, state, lineComment, (e) => {
    if (e.kind === 'open') state.stack.push({ char: e.char, at: -1 });
    else if (e.kind === 'close' && state.stack.length && OPENERS[state.stack[state.stack.length - 1].char] === e.char) state.stack.pop();
  });
  // Brackets opened before the cursor that the code after it closes are not the completion's to close.
  const reserved = closedBy(ctx.after, state, lineComment);
  let closable = Math.max(0, state.stack.length - reserved);
  const stringBefore = state.string !== undefined;
  let cut = text.length;
  lex(text, state, lineComment, (e) => {
    if (e.kind === 'open') state.stack.push({ char: e.char, at: e.index });
    else {
      const top = state.stack[state.stack.length - 1];
      if (!top || OPENERS[top.char] !== e.char || (top.at < 0 && closable === 0)) {
        cut = e.index;
        return false;
      }
      if (top.at < 0) closable--;
      state.stack.pop();
    }
  });
  if (cut < text.length) return text.slice(0, cut);
  if (ctx.allowOpen) return text;
  const stillOpen = state.stack.filter((o) => o.at >= 0).map((o) => o.at);
  // A string the completion opens and leaves open, unless the code after the cursor closes it.
  if (!stringBefore && state.string && !ctx.after.split('\n')[0].includes(state.string.quote)) stillOpen.push(state.string.at);
  return stillOpen.length ? text.slice(0, Math.min(...stillOpen)) : text;
}
