// A small but real byte-level BPE tokenizer (GPT-2/StarCoder style) for test model folders.
import { addedToken, bpeTokenizerJson } from '../../engine/index.js';

/** Special tokens first, as StarCoder numbers them; every test model has them. */
export const TINY_SPECIAL_TOKENS = ['<|endoftext|>', '<fim_prefix>', '<fim_middle>', '<fim_suffix>', '<fim_pad>'] as const;

// Common code pieces that get their own tokens (as text; built from byte tokens by merges).
const MERGE_TARGETS = [
  '  ',
  '    ',
  '        ',
  '\n',
  '\n    ',
  'de',
  'def',
  ' def',
  're',
  'return',
  ' return',
  'in',
  ' in',
  'if',
  ' if',
  ' =',
  '()',
  '):',
  'self',
  ' self',
  'im',
  'import',
  ' x',
  ' (',
  'for',
  ' for',
];

/** GPT-2's reversible map from bytes to printable characters (byte-level BPE alphabet). */
export function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const map: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    map[b] = printable.includes(b) ? String.fromCodePoint(b) : String.fromCodePoint(256 + extra++);
  }
  return map;
}

function toByteLevel(text: string, alphabet: string[]): string {
  return [...Buffer.from(text, 'utf8')].map((b) => alphabet[b]).join('');
}

/** Merges that build each target left to right, skipping pieces that already exist. */
function mergesFor(targets: string[], alphabet: string[], limit: number): Array<[string, string]> {
  const known = new Set(alphabet);
  const merges: Array<[string, string]> = [];
  for (const target of targets) {
    const chars = [...toByteLevel(target, alphabet)];
    let piece = chars[0];
    for (const c of chars.slice(1)) {
      if (!known.has(piece + c)) {
        if (merges.length === limit) return merges;
        merges.push([piece, c]);
        known.add(piece + c);
      }
      piece += c;
    }
  }
  return merges;
}

export interface TinyTokenizerFiles {
  tokenizerJson: object;
  tokenizerConfig: object;
  /** Number of ids used (all below the model's vocab size). */
  usedIds: number;
}

/** tokenizer.json + tokenizer_config.json whose ids all fit in `vocabSize`. */
export function makeTinyTokenizer(vocabSize: number): TinyTokenizerFiles {
  const alphabet = bytesToUnicode();
  const base = TINY_SPECIAL_TOKENS.length + alphabet.length;
  if (vocabSize < base) throw new Error(`vocabSize ${vocabSize} is too small for the tiny tokenizer (needs ${base})`);
  const merges = mergesFor(MERGE_TARGETS, alphabet, vocabSize - base);
  const vocab: Record<string, number> = {};
  TINY_SPECIAL_TOKENS.forEach((t, i) => {
    vocab[t] = i;
  });
  for (const c of alphabet) vocab[c] = Object.keys(vocab).length;
  for (const [a, b] of merges) vocab[a + b] = Object.keys(vocab).length;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const tokenizerJson = bpeTokenizerJson({
    vocab,
    merges: merges.map(([a, b]) => `${a} ${b}`),
    addedTokens: TINY_SPECIAL_TOKENS.map((content, id) => addedToken(id, content)),
    preTokenizer: byteLevel,
    postProcessor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
  });
  const tokenizerConfig = {
    tokenizer_class: 'GPT2Tokenizer',
    bos_token: '<|endoftext|>',
    eos_token: '<|endoftext|>',
    unk_token: '<|endoftext|>',
    add_prefix_space: false,
    clean_up_tokenization_spaces: false,
    model_max_length: 2048,
    additional_special_tokens: [...TINY_SPECIAL_TOKENS],
  };
  return { tokenizerJson, tokenizerConfig, usedIds: Object.keys(vocab).length };
}
