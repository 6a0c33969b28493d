// When an automatic request (one the user did not ask for explicitly) should not run the model.

/** Characters that may follow the cursor without making the completion an edit in the middle of code. */
const CLOSING = /[\s)\]}>"'`;:,.]/gu;

/** Whether an automatic completion is wanted with this text around the cursor on its line. */
export function autoCompletionWanted(lineBefore: string, lineAfter: string): boolean {
  // In the middle (or at the start) of a word: the user is editing it, not writing new code.
  if (/^[\p{L}\p{N}_]/u.test(lineAfter)) return false;
  // Substantial text to the right: anything but closing brackets, quotes and separators.
  return lineAfter.replace(CLOSING, '') === '';
}
