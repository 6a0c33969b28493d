/** The special tokens of codefudge's own tokenizer, StarCoder-style, in id order: they take ids 0..4. */
export const EOT = '<|endoftext|>';
export const FIM_PREFIX = '<fim_prefix>';
export const FIM_MIDDLE = '<fim_middle>';
export const FIM_SUFFIX = '<fim_suffix>';
export const FIM_PAD = '<fim_pad>';

export const DEFAULT_SPECIAL_TOKENS: readonly string[] = [EOT, FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX, FIM_PAD];
