// The input half of a commit->diff sequence, `message \n path \n before`, shared by training
// (commitDiffSequence, which adds the diff) and by suggesting a diff (the prompt alone), so an
// adapter sees at inference exactly the prompt it was trained on.
import type { SequenceFormat } from './sequence-format.js';
import { keepHead, type TextEncoder } from './token-budget.js';

export const MAX_MESSAGE_TOKENS = 64;
export const MAX_PATH_CHARS = 200;

/** `message \n path \n`: the message cut to its first tokens, the path to its last characters. */
export function commitDiffHeader(tok: TextEncoder, message: string, path: string): string {
  return `${keepHead(tok, message.trim(), MAX_MESSAGE_TOKENS).trimEnd()}\n${path.slice(-MAX_PATH_CHARS)}\n`;
}

/** The prompt's tokens: BOS where the family wants it, the header, and the file's lines shown (ending in a newline). */
export function commitDiffInput(fmt: SequenceFormat, header: string, window: string): number[] {
  const bos = fmt.bosId === undefined ? [] : [fmt.bosId];
  return [...bos, ...fmt.tokenizer.encode(window === '' || window.endsWith('\n') ? header + window : `${header}${window}\n`)];
}

/**
 * Tries windows of the file under a shrinking token budget until the prompt and `reserve` more
 * tokens fit in the format's length: `windowFor(budget)` gives the lines shown. null when
 * nothing fits.
 */
export function fitCommitDiffInput(
  fmt: SequenceFormat,
  header: string,
  reserve: number,
  windowFor: (budget: number) => string,
): number[] | null {
  let budget = fmt.maxLen - (fmt.bosId === undefined ? 0 : 1) - fmt.tokenizer.encode(header).length - reserve;
  for (let attempt = 0; attempt < 4 && budget >= 0; attempt++) {
    const input = commitDiffInput(fmt, header, windowFor(budget));
    const over = input.length + reserve - fmt.maxLen;
    if (over <= 0) return input;
    budget -= over + 2;
  }
  return null;
}

export interface CommitDiffRequest {
  message: string;
  path: string;
  /** The file as it is now. */
  before: string;
}

/**
 * The prompt for suggesting the diff of `before` for a commit message, leaving `reserve` tokens
 * of the format's length for the diff. With no diff to centre on, the file is shown from its
 * start, as much as fits. null when not even the header fits.
 */
export function commitDiffPrompt(fmt: SequenceFormat, req: CommitDiffRequest, reserve: number): number[] | null {
  const header = commitDiffHeader(fmt.tokenizer, req.message, req.path);
  return fitCommitDiffInput(fmt, header, reserve, (budget) => keepHead(fmt.tokenizer, req.before, budget));
}
