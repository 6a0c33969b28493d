// The one writer of a byte-level BPE `tokenizer.json` (the tokenizers library's format 1.0): the
// pretrained tokenizer, one rebuilt from GGUF metadata, and placeholders all differ only in these fields.

/** An added (special) token as tokenizer.json lists it. */
export function addedToken(id: number, content: string, special = true): object {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special };
}

export interface BpeTokenizerParts {
  vocab: Record<string, number>;
  /** `"a b"` strings (byte-level tokens never contain a space). */
  merges: string[];
  addedTokens: object[];
  preTokenizer: object;
  normalizer?: object | null;
  postProcessor?: object | null;
  decoder?: object;
  ignoreMerges?: boolean;
}

export function bpeTokenizerJson(p: BpeTokenizerParts): Record<string, unknown> {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: p.addedTokens,
    normalizer: p.normalizer ?? null,
    pre_tokenizer: p.preTokenizer,
    post_processor: p.postProcessor ?? null,
    decoder: p.decoder ?? { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: p.ignoreMerges ?? false,
      vocab: p.vocab,
      merges: p.merges,
    },
  };
}
