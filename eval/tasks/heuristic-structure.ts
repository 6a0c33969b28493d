// The fallback when no tree-sitter grammar loads: functions and blocks read line by line from
// indentation (Python) or braces (TypeScript/JavaScript). It knows nothing of strings spanning
// lines or of braces inside strings and comments, so it is an approximation, labelled as such
// wherever results are reported.
import { usesIndentation, type Language } from './languages.js';
import { Lines, indentWidth, isBlank } from './lines.js';
import type { CodeStructure, FunctionShape, RowRange } from './structure.js';

const PY_DEF = /^\s*(async\s+)?def\s/;
const PY_HEADER = /:\s*$/;
const JS_CONTROL = /^\s*(\}\s*)?(if|for|while|switch|catch|else|do|try|finally|with)\b/;
const JS_FUNCTION =
  /\bfunction\b|=>\s*\{\s*$|^\s*(async\s+|static\s+|get\s+|set\s+|public\s+|private\s+|protected\s+)*[\w$]+\s*(<[^>]*>)?\s*\(.*\)\s*(:\s*[^{]+)?\{\s*$/;

/** Drops a trailing comment and string contents, roughly, so brackets can be counted. */
function codeOf(line: string, language: Language): string {
  const noStrings = line.replace(/(["'`])(?:\\.|(?!\1).)*\1/g, '""');
  return noStrings.replace(usesIndentation(language) ? /#.*$/ : /\/\/.*$/, '');
}

function depthChange(code: string, open: string, close: string): number {
  let d = 0;
  for (const ch of code) {
    if (open.includes(ch)) d++;
    else if (close.includes(ch)) d--;
  }
  return d;
}

/** The last non-blank row before the first row after `from` indented at most `indent` (the block's end). */
function indentedBlockEnd(lines: Lines, from: number, indent: number): number {
  let last = from - 1;
  for (let r = from; r < lines.count; r++) {
    const text = lines.line(r);
    if (isBlank(text)) continue;
    if (indentWidth(text) <= indent) break;
    last = r;
  }
  return last;
}

function pythonStructure(lines: Lines): CodeStructure {
  const functions: FunctionShape[] = [];
  const blocks: RowRange[] = [];
  for (let r = 0; r < lines.count; r++) {
    const text = lines.line(r);
    const isDef = PY_DEF.test(text);
    // A header runs until its brackets close on a line ending in a colon.
    let end = r;
    let depth = depthChange(codeOf(text, 'python'), '([{', ')]}');
    while (depth > 0 && end + 1 < lines.count) depth += depthChange(codeOf(lines.line(++end), 'python'), '([{', ')]}');
    if (!PY_HEADER.test(codeOf(lines.line(end), 'python'))) continue;
    const last = indentedBlockEnd(lines, end + 1, indentWidth(text));
    const body = last > end ? { first: end + 1, last } : null;
    if (isDef) functions.push({ signature: { first: r, last: end }, body });
    if (body) blocks.push(body);
  }
  return { functions, blocks };
}

function braceStructure(lines: Lines, language: Language): CodeStructure {
  const functions: FunctionShape[] = [];
  const blocks: RowRange[] = [];
  // Only function bodies and the blocks of control statements are statement blocks (not classes or object literals).
  const open: Array<{ row: number; isFunction: boolean; isStatementBlock: boolean }> = [];
  for (let r = 0; r < lines.count; r++) {
    const code = codeOf(lines.line(r), language);
    for (const ch of code) {
      if (ch === '{') {
        const control = JS_CONTROL.test(code);
        open.push({ row: r, isFunction: !control && JS_FUNCTION.test(code), isStatementBlock: control });
      } else if (ch === '}') {
        const o = open.pop();
        if (!o) continue;
        // The inner lines, when the braces sit on lines of their own edges.
        const body =
          r - 1 > o.row && /^\s*\}/.test(code) && /\{\s*$/.test(codeOf(lines.line(o.row), language))
            ? { first: o.row + 1, last: r - 1 }
            : null;
        if (body && (o.isFunction || o.isStatementBlock)) blocks.push(body);
        if (o.isFunction) functions.push({ signature: { first: o.row, last: o.row }, body });
      }
    }
  }
  const byStart = (a: { first: number }, b: { first: number }) => a.first - b.first;
  functions.sort((a, b) => byStart(a.signature, b.signature));
  blocks.sort(byStart);
  return { functions, blocks };
}

export function heuristicStructure(text: string, language: Language): CodeStructure {
  const lines = new Lines(text);
  return usesIndentation(language) ? pythonStructure(lines) : braceStructure(lines, language);
}
