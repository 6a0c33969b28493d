// A document that contains a special token's text (say "<fim_middle>" in a file about FIM) must not
// turn into that token in the prompt: the tokenizer maps special-token strings to their ids.

const ZERO_WIDTH_SPACE = '\u200b';

/** `text` with every special-token string broken by a zero-width space after its first character. */
export function neutralizeSpecialTokens(text: string, specialTokens: readonly string[]): string {
  let out = text;
  for (const token of specialTokens) {
    if (token.length < 2 || !out.includes(token)) continue;
    out = out.split(token).join(token[0] + ZERO_WIDTH_SPACE + token.slice(1));
  }
  return out;
}
