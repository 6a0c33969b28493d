import { trimEndWhitespace } from './text.js';

// Lines are split on "\n" only; a "\r" before it is trailing whitespace and so is trimmed,
// which makes CRLF and LF text compare equal. Whitespace at the end of the whole text
// (trailing newlines included) is trailing whitespace of the last lines, so it is ignored too;
// indentation (leading whitespace) is kept, because in Python it is part of the program.

/** The text with each line's trailing whitespace removed and trailing empty lines dropped. */
export function normalizeTrailingWhitespace(text: string): string {
  return trimEndWhitespace(text.split('\n').map(trimEndWhitespace).join('\n'));
}

/** The first line (up to the first "\n") with its trailing whitespace removed. */
export function firstLine(text: string): string {
  const nl = text.indexOf('\n');
  return trimEndWhitespace(nl < 0 ? text : text.slice(0, nl));
}

/** 1 when hyp equals ref after trimming trailing whitespace of each line, else 0. */
export function exactMatch(hyp: string, ref: string): number {
  return normalizeTrailingWhitespace(hyp) === normalizeTrailingWhitespace(ref) ? 1 : 0;
}

/** 1 when the first lines of hyp and ref are equal after trimming their trailing whitespace, else 0. */
export function exactMatchFirstLine(hyp: string, ref: string): number {
  return firstLine(hyp) === firstLine(ref) ? 1 : 0;
}
