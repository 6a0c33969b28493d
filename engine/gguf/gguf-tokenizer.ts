// The tokenizer of a GGUF model, as the tokenizer.json + tokenizer_config.json pair that
// @huggingface/tokenizers loads (engine/tokenizer.ts), and the reverse for the exporter.
//
// Reading: our exporter stores the original tokenizer.json whole under `tokenizer.huggingface.json`
// (a key llama.cpp defines and ignores), which round-trips exactly. Any other GGUF gets a tokenizer.json
// synthesized from `tokenizer.ggml.*` (gpt2-style byte-level BPE: tokens, merges, token types, special
// ids), with the pre-tokenizer that `tokenizer.ggml.pre` names written as the Hugging Face Split regexes
// llama.cpp's own table (src/llama-vocab.cpp) was adapted from.
import { UserError } from '../../common/index.js';
import { addedToken, bpeTokenizerJson } from '../tokenizer-json.js';
import { GgufValueType, KEY, TokenType } from './gguf-format.js';
import type { GgufFile, GgufValue } from './gguf-reader.js';
import type { GgufMetadata } from './gguf-writer.js';

type Json = Record<string, unknown>;

const split = (regex: string) => ({ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false });
const byteLevel = (useRegex: boolean) => ({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: useRegex });

const QWEN2_REGEX =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const LLAMA3_REGEX =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const GPT2_REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";

interface PreTokenizer {
  preTokenizer: Json;
  normalizer?: Json;
  ignoreMerges?: boolean;
}

/** Hugging Face pre-tokenizers for the `tokenizer.ggml.pre` values of the code models we run. */
const PRE_TOKENIZERS: Readonly<Record<string, PreTokenizer>> = {
  qwen2: { preTokenizer: { type: 'Sequence', pretokenizers: [split(QWEN2_REGEX), byteLevel(false)] }, normalizer: { type: 'NFC' } },
  'llama-bpe': { preTokenizer: { type: 'Sequence', pretokenizers: [split(LLAMA3_REGEX), byteLevel(false)] }, ignoreMerges: true },
  'gpt-2': { preTokenizer: byteLevel(true) },
  starcoder: { preTokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, byteLevel(true)] } },
  'deepseek-coder': {
    preTokenizer: {
      type: 'Sequence',
      pretokenizers: [
        split('[\\r\\n]'),
        split('\\s?\\p{L}+'),
        split('\\s?\\p{P}+'),
        split('[一-龥ࠀ-一가-퟿]+'),
        split('\\p{N}'),
        byteLevel(false),
      ],
    },
  },
  // llama.cpp's fallback for a missing or unknown name: four regexes applied in turn.
  default: {
    preTokenizer: {
      type: 'Sequence',
      pretokenizers: [split('[\\p{P}\\$\\+<=>\\^~\\|]+'), split(GPT2_REGEX), split('\\p{N}+'), split('[0-9][0-9][0-9]'), byteLevel(false)],
    },
  },
};
const PRE_ALIASES: Readonly<Record<string, string>> = { llama3: 'llama-bpe', 'llama-v3': 'llama-bpe' };

export interface TokenizerFiles {
  tokenizerJson: Json;
  tokenizerConfig: Json;
}

function stringArray(v: GgufValue | undefined, key: string, label: string): string[] {
  if (v === undefined) throw new UserError(`${label}: missing metadata "${key}" (no tokenizer in this GGUF)`);
  if (typeof v !== 'object' || !Array.isArray(v.items) || v.itemType !== GgufValueType.STRING)
    throw new UserError(`${label}: "${key}" must be an array of strings`);
  return v.items as string[];
}

function idOf(gguf: GgufFile, key: string, count: number, label: string): number | undefined {
  const v = gguf.get(key);
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new UserError(`${label}: "${key}" must be an integer token id`);
  // llama.cpp writes -1 / out-of-range ids for "none" in some files: treat them as absent.
  return v >= 0 && v < count ? v : undefined;
}

/** The tokenizer.json and tokenizer_config.json a GGUF's metadata describes. */
export function tokenizerFilesFromGguf(gguf: GgufFile, label: string): TokenizerFiles {
  const tokens = stringArray(gguf.get(KEY.tokens), KEY.tokens, label);
  const special = (key: string) => {
    const id = idOf(gguf, key, tokens.length, label);
    return id === undefined ? undefined : tokens[id];
  };
  const tokenizerConfig: Json = {
    add_bos_token: false,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
    bos_token: special(KEY.bosId) ?? null,
    eos_token: special(KEY.eosId) ?? null,
    pad_token: special(KEY.padId) ?? null,
  };
  const stored = gguf.get(KEY.hfJson);
  if (typeof stored === 'string') {
    try {
      return { tokenizerJson: JSON.parse(stored) as Json, tokenizerConfig };
    } catch (e) {
      throw new UserError(`${label}: "${KEY.hfJson}" is not valid JSON: ${(e as Error).message}`);
    }
  }
  const model = gguf.get(KEY.tokenizerModel);
  if (model !== 'gpt2')
    throw new UserError(`${label}: tokenizer model "${String(model)}" is not supported (only gpt2-style byte-level BPE is)`);
  const preName = typeof gguf.get(KEY.tokenizerPre) === 'string' ? (gguf.get(KEY.tokenizerPre) as string) : 'default';
  const pre = PRE_TOKENIZERS[PRE_ALIASES[preName] ?? preName];
  if (!pre)
    throw new UserError(`${label}: pre-tokenizer "${preName}" is not supported (supported: ${Object.keys(PRE_TOKENIZERS).join(', ')})`);
  const merges = stringArray(gguf.get(KEY.merges), KEY.merges, label);
  const typesValue = gguf.get(KEY.tokenType);
  const types = typesValue && typeof typesValue === 'object' && Array.isArray(typesValue.items) ? (typesValue.items as number[]) : [];
  const vocab: Record<string, number> = {};
  const addedTokens: object[] = [];
  tokens.forEach((token, id) => {
    const type = types[id] ?? TokenType.NORMAL;
    // convert_hf_to_gguf pads the list to the model's vocab size with "[PADn]" UNUSED entries no tokenizer had.
    if (type === TokenType.UNUSED && token === `[PAD${id}]`) return;
    if (!Object.prototype.hasOwnProperty.call(vocab, token)) vocab[token] = id;
    if (type === TokenType.CONTROL || type === TokenType.USER_DEFINED) {
      addedTokens.push(addedToken(id, token, type === TokenType.CONTROL));
    }
  });
  const tokenizerJson: Json = bpeTokenizerJson({
    vocab,
    merges,
    addedTokens,
    normalizer: pre.normalizer ?? null,
    preTokenizer: pre.preTokenizer,
    ignoreMerges: pre.ignoreMerges ?? false,
  }) as Json;
  return { tokenizerJson, tokenizerConfig };
}

function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as Json).content === 'string') return (v as Json).content as string;
  return undefined;
}

function splitRegexes(pre: unknown): string[] | undefined {
  const p = pre as Json | null;
  if (!p) return undefined;
  if (p.type === 'Sequence') {
    const out: string[] = [];
    for (const part of p.pretokenizers as Json[]) {
      if (part.type === 'Split') out.push(((part.pattern as Json).Regex ?? (part.pattern as Json).String) as string);
      else if (part.type === 'ByteLevel') out.push(part.use_regex === false ? '' : 'bytelevel-regex');
      else if (part.type === 'Digits') out.push(part.individual_digits ? 'digits' : 'digits+');
      else return undefined;
    }
    return out.filter((s) => s !== '');
  }
  if (p.type === 'ByteLevel') return p.use_regex === false ? [] : ['bytelevel-regex'];
  return undefined;
}

/** The `tokenizer.ggml.pre` name whose splitting matches this tokenizer.json, or undefined when none does. */
export function preTokenizerName(tokenizerJson: Json): string | undefined {
  const regexes = splitRegexes(tokenizerJson.pre_tokenizer)?.join('\n');
  const table: [string, string[]][] = [
    ['qwen2', [QWEN2_REGEX]],
    ['llama-bpe', [LLAMA3_REGEX]],
    ['gpt-2', ['bytelevel-regex']],
    ['starcoder', ['digits', 'bytelevel-regex']],
  ];
  return table.find(([, r]) => r.join('\n') === regexes)?.[0];
}

/**
 * Writes the `tokenizer.ggml.*` metadata llama.cpp reads (the token list padded to the model's vocab size
 * as convert_hf_to_gguf does) plus the original tokenizer.json. Returns the pre-tokenizer name chosen and
 * whether it reproduces the original splitting (when not, llama.cpp tokenizes text slightly differently;
 * token ids fed directly are unaffected).
 */
export function writeTokenizerMetadata(
  meta: GgufMetadata,
  tokenizerJson: Json,
  tokenizerConfig: Json,
  vocabSize: number,
): { pre: string; exact: boolean } {
  const model = tokenizerJson.model as Json | undefined;
  if (!model || model.type !== 'BPE')
    throw new UserError(`tokenizer.json: only BPE tokenizers can be written to GGUF, got ${String(model?.type)}`);
  const byId = new Map<number, string>();
  for (const [token, id] of Object.entries(model.vocab as Record<string, number>)) byId.set(id, token);
  const added = new Map<number, Json>();
  for (const t of (tokenizerJson.added_tokens as Json[] | undefined) ?? []) {
    byId.set(t.id as number, t.content as string);
    added.set(t.id as number, t);
  }
  let maxId = -1; // a loop, not Math.max(...ids): a real vocabulary is too many arguments for one call
  for (const id of byId.keys()) if (id > maxId) maxId = id;
  if (maxId >= vocabSize) throw new UserError(`tokenizer.json has token id ${maxId}, beyond the model's vocab size ${vocabSize}`);
  const tokens: string[] = [];
  const types: number[] = [];
  for (let id = 0; id < vocabSize; id++) {
    const token = byId.get(id);
    const a = added.get(id);
    if (token === undefined) {
      tokens.push(`[PAD${id}]`);
      types.push(TokenType.UNUSED);
    } else {
      tokens.push(token);
      types.push(a ? (a.special || /^<\|.*\|>$/.test(token) ? TokenType.CONTROL : TokenType.USER_DEFINED) : TokenType.NORMAL);
    }
  }
  const merges = ((model.merges as unknown[]) ?? []).map((m) => (Array.isArray(m) ? m.join(' ') : String(m)));
  const detected = preTokenizerName(tokenizerJson);
  const pre = detected ?? 'default';
  meta
    .string(KEY.tokenizerModel, 'gpt2')
    .string(KEY.tokenizerPre, pre)
    .array(KEY.tokens, GgufValueType.STRING, tokens)
    .array(KEY.tokenType, GgufValueType.INT32, types)
    .array(KEY.merges, GgufValueType.STRING, merges);
  const idFor = (v: unknown) => {
    const c = tokenContent(v);
    if (c === undefined) return undefined;
    const id = tokens.indexOf(c);
    return id >= 0 ? id : undefined;
  };
  const bos = idFor(tokenizerConfig.bos_token);
  const eos = idFor(tokenizerConfig.eos_token);
  const pad = idFor(tokenizerConfig.pad_token);
  if (bos !== undefined) meta.u32(KEY.bosId, bos);
  if (eos !== undefined) meta.u32(KEY.eosId, eos);
  if (pad !== undefined) meta.u32(KEY.padId, pad);
  meta.bool(KEY.addBos, tokenizerConfig.add_bos_token === true);
  meta.string(KEY.hfJson, JSON.stringify(tokenizerJson));
  return { pre, exact: detected !== undefined };
}

/** GPT-2's reversible byte → printable character map (the byte-level BPE alphabet). */
function byteAlphabet(): string[] {
  const map: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    map.push(String.fromCodePoint(printable ? b : 256 + extra++));
  }
  return map;
}

/**
 * A byte-level tokenizer.json with no merges (256 byte tokens and <|endoftext|>), for model folders that
 * have no tokenizer (random benchmark models): llama.cpp refuses a GGUF without a vocabulary.
 */
export function placeholderTokenizer(vocabSize: number): { json: Json; config: Json } {
  const alphabet = byteAlphabet();
  if (vocabSize < alphabet.length + 1)
    throw new UserError(`the model's vocab size ${vocabSize} is too small for a placeholder byte-level vocabulary (257)`);
  const vocab: Record<string, number> = {};
  alphabet.forEach((c, i) => {
    vocab[c] = i;
  });
  const eos = '<|endoftext|>';
  const byteLevelRegex = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    json: bpeTokenizerJson({
      vocab,
      merges: [],
      addedTokens: [addedToken(256, eos)],
      preTokenizer: byteLevelRegex,
      decoder: byteLevelRegex,
    }) as Json,
    config: { bos_token: eos, eos_token: eos, add_bos_token: false },
  };
}
