// The model's tokenizer (tokenizer.json + tokenizer_config.json) through @huggingface/tokenizers (the
// tokenizer inside @huggingface/transformers, without its image and ONNX stacks: loading those cost
// every model-loading start ~0.35 s of CPU), built straight from the local files so it can never reach
// for the network.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../common/index.js';
import { ggufTokenizerFiles } from './gguf/gguf-open.js';
import { isGgufFile } from './gguf/gguf-model.js';
import type { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';

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

/**
 * A special token named in tokenizer_config.json (`eos_token` etc.): a string, or an AddedToken
 * object; read as transformers.js reads it, so ids match what its PreTrainedTokenizer gives.
 */
function configToken(config: Record<string, unknown>, key: string): string | undefined {
  const item = config[key];
  if (typeof item === 'string' && item) return item;
  if (item && typeof item === 'object' && typeof (item as { content?: unknown }).content === 'string')
    return (item as { content: string }).content;
  return undefined;
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
  const tokenizers = await import('@huggingface/tokenizers');
  let hf: HfTokenizer;
  try {
    hf = new tokenizers.Tokenizer(tokenizerJson, tokenizerConfig);
  } catch (e) {
    throw new UserError(`${label} cannot be loaded: ${(e as Error).message}`);
  }
  return wrap(hf, tokenizerConfig, label, rows);
}

function wrap(hf: HfTokenizer, config: Record<string, unknown>, label: string, rows = Infinity): Tokenizer {
  const vocab = hf.get_vocab();
  const idToToken = new Map<number, string>();
  let maxId = -1;
  let beyond: { token: string; id: number; count: number } | undefined;
  for (const [token, id] of vocab) {
    // @huggingface/tokenizers lists the holes below an added token's id as undefined tokens.
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
  const idOf = (key: string) => {
    const token = configToken(config, key);
    const id = token === undefined ? undefined : hf.token_to_id(token);
    return typeof id === 'number' && id >= 0 ? id : undefined;
  };
  const eos = idOf('eos_token');
  return {
    encode: (text) => (text === '' ? [] : hf.encode(text, { add_special_tokens: false }).ids),
    // Code must round-trip: never "clean up" spaces before punctuation.
    decode: (ids, opts = {}) =>
      ids.length === 0
        ? ''
        : hf.decode([...ids], { skip_special_tokens: opts.skipSpecialTokens ?? false, clean_up_tokenization_spaces: false }),
    tokenToId: (token) => vocab.get(token),
    idToToken: (id) => idToToken.get(id),
    vocabSize: maxId + 1,
    eosTokenIds: eos === undefined ? [] : [eos],
    bosTokenId: idOf('bos_token'),
    specialTokens: [...hf.get_added_tokens_decoder().values()].filter((t) => t.special).map((t) => t.content),
  };
}
