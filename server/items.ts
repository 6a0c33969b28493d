// A completion's text as the editor gets it: a completion item (every LSP editor) or an inline item.
import {
  CompletionItemKind,
  InsertTextFormat,
  MarkupKind,
  type CompletionItem,
  type InlineCompletionItem,
  type Position,
} from 'vscode-languageserver';

const LABEL_CHARS = 40;

/** A short label: the first non-blank line, trimmed, with an ellipsis when anything is left out. */
export function completionLabel(text: string): string {
  const lines = text.split('\n');
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first < 0) return '';
  const line = lines[first].trim();
  const more = lines.slice(first + 1).some((l) => l.trim() !== '');
  if (line.length > LABEL_CHARS) return line.slice(0, LABEL_CHARS - 1).trimEnd() + '…';
  return more ? `${line} …` : line;
}

/** A Markdown code block holding `text` exactly, whatever backticks it contains. */
export function codeBlock(text: string, languageId: string): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${languageId}\n${text}\n${fence}`;
}

/** The word (letters, digits, underscores) that ends `lineBefore`. */
export function wordBefore(lineBefore: string): string {
  return /[\p{L}\p{N}_]*$/u.exec(lineBefore)?.[0] ?? '';
}

/**
 * The item inserts `text` at `position` through a text edit (a range, so Helix applies it too).
 * Editors filter items against the word typed before the cursor, so the filter text starts with it.
 * The kind is Text, never Snippet: Helix expands any Snippet item as a snippet whatever
 * insertTextFormat says, which would mangle `\\`, `$1` and `${x}` in the completion.
 */
export function completionItem(text: string, position: Position, languageId: string, lineBefore: string): CompletionItem {
  return {
    label: completionLabel(text),
    kind: CompletionItemKind.Text,
    detail: 'codefudge',
    documentation: { kind: MarkupKind.Markdown, value: codeBlock(text, languageId) },
    insertTextFormat: InsertTextFormat.PlainText,
    textEdit: { range: { start: position, end: position }, newText: text },
    filterText: wordBefore(lineBefore) + text.split('\n')[0],
    sortText: '0',
    preselect: true,
  };
}

export function inlineCompletionItem(text: string, position: Position): InlineCompletionItem {
  return { insertText: text, range: { start: position, end: position } };
}
