// The model's tokenizer (tokenizer.json + tokenizer_config.json) through @huggingface/transformers,
// built straight from the local files so it can never reach for the network.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../common/index.js';
import { ggufTokenizerFiles } from './gguf/gguf-open.js';
import { isGgufFile } from './gguf/gguf-model.js';

export interface Tokenizer {
  /** Token ids of `text`; adds no BOS/EOS (special-token strings in the text become their ids). */
  encode(text: string): number[];
  decode(ids: readonly number[], opts?: { skipSpecialTokens?: boolean }): string;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  /** One more than the largest id the tokenizer can produce. */
  vocabSize: number;
  eosTokenIds: number[];
  bosTokenId: number | undefined;
  specialTokens: string[];
}

function readJson(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  try {
    const json = JSON.parse(text);
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('not a JSON object');
    return json;
  } catch (e) {
    throw new UserError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
}

// Structural view of the transformers.js tokenizer: only what this wrapper calls.
interface HfTokenizer {
  encode(text: string, opts: { add_special_tokens: boolean }): number[];
  decode(ids: number[], opts: { skip_special_tokens: boolean; clean_up_tokenization_spaces: boolean }): string;
  get_vocab(): Map<string, number>;
  all_special_tokens: string[];
  eos_token_id: number | undefined | null;
  bos_token_id: number | undefined | null;
}
type HfTokenizerClass = new (tokenizerJson: unknown, tokenizerConfig: unknown) => HfTokenizer;

/** The tokenizer class transformers.js would pick for this tokenizer_config.json. */
async function tokenizerClass(config: Record<string, unknown>): Promise<HfTokenizerClass> {
  const transformers = (await import('@huggingface/transformers')) as unknown as Record<string, unknown>;
  const base = transformers.PreTrainedTokenizer as HfTokenizerClass;
  const name = typeof config.tokenizer_class === 'string' ? config.tokenizer_class.replace(/Fast$/, '') : '';
  const cls = transformers[name];
  return typeof cls === 'function' && (cls === base || cls.prototype instanceof base) ? (cls as HfTokenizerClass) : base;
}

/** The tokenizer of a model folder, or of a GGUF file (built from its metadata, no tokenizer.json needed). */
export async function loadTokenizer(dir: string): Promise<Tokenizer> {
  if (isGgufFile(dir)) {
    const { tokenizerJson, tokenizerConfig } = ggufTokenizerFiles(dir);
    return tokenizerFromJson(tokenizerJson, tokenizerConfig, dir);
  }
  const tokenizerPath = path.join(dir, 'tokenizer.json');
  if (!fs.existsSync(tokenizerPath)) throw new UserError(`model folder "${dir}" has no tokenizer.json`);
  const tokenizerJson = readJson(tokenizerPath);
  const configPath = path.join(dir, 'tokenizer_config.json');
  const tokenizerConfig = fs.existsSync(configPath) ? readJson(configPath) : {};
  return tokenizerFromJson(tokenizerJson, tokenizerConfig, tokenizerPath, embeddingRows(dir));
}

/** vocab_size in the folder's config.json: the embedding rows every token id must index (undefined when not given). */
function embeddingRows(dir: string): number | undefined {
  const file = path.join(dir, 'config.json');
  if (!fs.existsSync(file)) return undefined;
  const rows = readJson(file).vocab_size;
  return typeof rows === 'number' && Number.isSafeInteger(rows) && rows > 0 ? rows : undefined;
}

/**
 * A tokenizer from the parsed tokenizer.json and tokenizer_config.json; `label` names the source in
 * errors. With `rows` (the model's embedding rows), a token whose id is past them is refused: the
 * model could not look it up.
 */
export async function tokenizerFromJson(
  tokenizerJson: Record<string, unknown>,
  tokenizerConfig: Record<string, unknown>,
  label: string,
  rows?: number,
): Promise<Tokenizer> {
  let hf: HfTokenizer;
  try {
    hf = new (await tokenizerClass(tokenizerConfig))(tokenizerJson, tokenizerConfig);
  } catch (e) {
    throw new UserError(`${label} cannot be loaded: ${(e as Error).message}`);
  }
  return wrap(hf, label, rows);
}

function wrap(hf: HfTokenizer, label: string, rows = Infinity): Tokenizer {
  const vocab = hf.get_vocab();
  const idToToken = new Map<number, string>();
  let maxId = -1;
  let beyond: { token: string; id: number; count: number } | undefined;
  for (const [token, id] of vocab) {
    // transformers.js lists the holes below an added token's id as undefined tokens.
    if (typeof token !== 'string') continue;
    if (!idToToken.has(id)) idToToken.set(id, token);
    if (id > maxId) maxId = id;
    if (id >= rows) beyond = { ...(beyond && beyond.id < id ? beyond : { token, id }), count: (beyond?.count ?? 0) + 1 };
  }
  if (beyond) {
    const more = beyond.count > 1 ? `; ${beyond.count - 1} more tokens have ids of ${rows} or more` : '';
    throw new UserError(
      `${label}: token ${JSON.stringify(beyond.token)} has id ${beyond.id}, but the model has only ${rows} token embeddings (vocab_size in config.json)${more}`,
    );
  }
  const present = (id: number | undefined | null) => (typeof id === 'number' && id >= 0 ? id : undefined);
  const eos = present(hf.eos_token_id);
  return {
    encode: (text) => (text === '' ? [] : hf.encode(text, { add_special_tokens: false })),
    // Code must round-trip: never "clean up" spaces before punctuation.
    decode: (ids, opts = {}) =>
      ids.length === 0
        ? ''
        : hf.decode([...ids], { skip_special_tokens: opts.skipSpecialTokens ?? false, clean_up_tokenization_spaces: false }),
    tokenToId: (token) => vocab.get(token),
    idToToken: (id) => idToToken.get(id),
    vocabSize: maxId + 1,
    eosTokenIds: eos === undefined ? [] : [eos],
    bosTokenId: present(hf.bos_token_id),
    specialTokens: [...hf.all_special_tokens],
  };
}
