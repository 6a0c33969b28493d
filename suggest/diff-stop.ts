// Where a generated diff ends: at the first whole line that no unified diff has, so a beam that
// wanders off into prose or code stops there instead of running to the token limit.

const DIFF_LINE = /^(?:--- |\+\+\+ |@@|[ +\-\\]|$)/;

/** The offset of the first complete line of `text` that cannot be part of a diff, or undefined. */
export function diffEnd(text: string): number | undefined {
  let start = 0;
  for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
    if (!DIFF_LINE.test(text.slice(start, nl))) return start;
    start = nl + 1;
  }
  return undefined;
}
