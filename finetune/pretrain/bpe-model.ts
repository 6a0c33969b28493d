/** A trained byte-level BPE tokenizer, as written to and read from tokenizer.json. */
export interface BpeModel {
  /**
   * Token strings in byte-level form (see byte-level.ts), indexed by id: first the special tokens
   * (ids 0..specialTokens.length-1), then the 256 single bytes in byte order, then merged tokens.
   */
  vocab: string[];
  /** Merges in rank order: each pair of token strings merges into their concatenation. */
  merges: [string, string][];
  /** The special tokens (matched whole in text, never merged); `trainBpe` gives them ids 0..n-1 in this order. */
  specialTokens: string[];
}
