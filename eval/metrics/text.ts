// Text primitives shared by every metric, so that all of them agree on two things:
//  - whitespace is Python's `str.isspace()` set (what `str.split()` and `str.rstrip()` use, and
//    so what sacrebleu uses). It differs from JavaScript's `\s`: it adds U+001C..U+001F and
//    U+0085, and leaves out U+FEFF (the byte-order mark is not whitespace to Python).
//  - a character is a Unicode code point, as a Python `str` index is, never a UTF-16 unit:
//    an emoji outside the BMP is one character, not two. No normalisation (NFC/NFD) is applied.

const WS = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WS_RUN = new RegExp(`[${WS}]+`, 'gu');
const TRAILING_WS = new RegExp(`[${WS}]+$`, 'u');

/** Python's `s.split()`: the non-empty runs between whitespace. */
export function splitWhitespace(s: string): string[] {
  return s.split(WS_RUN).filter((w) => w.length > 0);
}

/** Python's `''.join(s.split())`. */
export function removeWhitespace(s: string): string {
  return s.replace(WS_RUN, '');
}

/** Python's `s.rstrip()`. */
export function trimEndWhitespace(s: string): string {
  return s.replace(TRAILING_WS, '');
}

/** The code points of `s`, each as one string (what `list(s)` gives in Python). */
export function codePoints(s: string): string[] {
  return Array.from(s);
}

/** The code points of `s` as numbers, for fast comparison. */
export function codePointValues(s: string): Uint32Array {
  const out = new Uint32Array(s.length);
  let n = 0;
  for (const ch of s) out[n++] = ch.codePointAt(0)!;
  return out.subarray(0, n);
}
