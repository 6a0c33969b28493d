import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, messageOf, writeTextAtomic } from '../../common/index.js';
import { addedToken, bpeTokenizerJson } from '../../engine/index.js';
import type { BpeModel } from './bpe-model.js';
import { PRETOKENIZE_PATTERN } from './pretokenize.js';
import { EOT } from './special-tokens.js';

/** The Hugging Face `tokenizer.json` document for a model (tokenizers library format, version 1.0). */
export function tokenizerJson(model: BpeModel): object {
  const vocab: Record<string, number> = {};
  model.vocab.forEach((token, id) => {
    vocab[token] = id;
  });
  return bpeTokenizerJson({
    vocab,
    // Byte-level tokens never contain a space (it is "Ġ"), so the classic "a b" form is unambiguous
    // and readable by every version of the tokenizers library.
    merges: model.merges.map(([a, b]) => `${a} ${b}`),
    addedTokens: model.specialTokens.map((content, id) => addedToken(id, content)),
    preTokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: PRETOKENIZE_PATTERN }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
  });
}

/** The `tokenizer_config.json` beside it: no BOS, EOS = `<|endoftext|>`, and decoding that keeps code as is. */
export function tokenizerConfigJson(model: BpeModel): object {
  const eos = model.specialTokens.includes(EOT) ? EOT : model.specialTokens[0];
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    add_bos_token: false,
    add_eos_token: false,
    bos_token: eos,
    eos_token: eos,
    pad_token: eos,
    additional_special_tokens: model.specialTokens.filter((t) => t !== eos),
    // The default (true) would turn "x ." into "x." on decode, which breaks code.
    clean_up_tokenization_spaces: false,
    model_max_length: 1_000_000_000,
    added_tokens_decoder: Object.fromEntries(
      model.specialTokens.map((content, id) => [
        String(id),
        { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true },
      ]),
    ),
  };
}

/** Writes `tokenizer.json` and `tokenizer_config.json` into `dir` (created if needed), each atomically. */
export function writeTokenizer(dir: string, model: BpeModel): void {
  fs.mkdirSync(dir, { recursive: true });
  writeTextAtomic(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson(model), null, 2) + '\n');
  writeTextAtomic(path.join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfigJson(model), null, 2) + '\n');
}

interface TokenizerJsonShape {
  added_tokens?: { id: number; content: string; special?: boolean }[];
  model?: { type?: string; vocab?: Record<string, number>; merges?: (string | [string, string])[] };
}

/** Reads a byte-level BPE `tokenizer.json` (ours, or any with specials first) back into a model. */
export function readTokenizer(dir: string): BpeModel {
  const file = path.join(dir, 'tokenizer.json');
  let json: TokenizerJsonShape;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8')) as TokenizerJsonShape;
  } catch (e) {
    throw new UserError(`cannot read tokenizer ${file}: ${messageOf(e)}`);
  }
  const m = json.model;
  if (m?.type !== 'BPE' || !m.vocab || !Array.isArray(m.merges)) throw new UserError(`${file} is not a BPE tokenizer.json`);
  const vocab: string[] = [];
  for (const [token, id] of Object.entries(m.vocab)) vocab[id] = token;
  const specials = (json.added_tokens ?? []).filter((t) => t.special !== false).sort((x, y) => x.id - y.id);
  for (const t of specials) vocab[t.id] = t.content;
  for (let id = 0; id < vocab.length; id++) {
    if (vocab[id] === undefined) throw new UserError(`${file}: vocabulary has no token with id ${id}`);
  }
  const merges = m.merges.map((x): [string, string] => {
    if (Array.isArray(x)) return [x[0], x[1]];
    const space = x.indexOf(' ');
    return [x.slice(0, space), x.slice(space + 1)];
  });
  return { vocab, merges, specialTokens: specials.map((t) => t.content) };
}
