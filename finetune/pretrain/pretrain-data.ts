import { UserError, createRng, shuffledIndices } from '../../common/index.js';
import type { BpeEncoder } from './bpe-encoder.js';
import { readCorpusFile, type CorpusFile } from './corpus.js';
import { fimTokens, fimTransform, type FimOptions } from './fim-transform.js';
import { packRows, type PackedRow, type PackPosition } from './packing.js';
import { EOT } from './special-tokens.js';

/** Documents by index, read on demand. */
export interface DocumentSource {
  count: number;
  read(index: number): string;
}

/** The given corpus files (e.g. one split's) as a document source. */
export function corpusSource(root: string, files: readonly CorpusFile[]): DocumentSource {
  return { count: files.length, read: (i) => readCorpusFile(root, files[i]) };
}

export interface PretrainDataOptions extends FimOptions {
  /** Tokens per row (a loop training on length T asks for T + 1). */
  rowLength: number;
  seed: number;
  /** Visit documents in a fresh seeded order each epoch (default true; false for evaluation). */
  shuffle?: boolean;
  /** Passes over the source (default: endless). */
  epochs?: number;
  /**
   * Cut documents into pieces of at most this many characters (at line ends) and FIM-transform each
   * piece on its own, so a short training row holds whole FIM examples; 0 or absent: whole documents.
   */
  fimChunkChars?: number;
}

/** `text` cut at line ends into pieces of at most `max` characters (a longer line is a piece of its own). */
export function chunkLines(text: string, max: number): string[] {
  const chunks: string[] = [];
  let current = '';
  for (const line of text.split(/(?<=\n)/)) {
    if (current && current.length + line.length > max) {
      chunks.push(current);
      current = '';
    }
    current += line;
  }
  if (current) chunks.push(current);
  return chunks;
}

const SHUFFLE_STREAM = 1;
const FIM_STREAM = 2;

/**
 * Token ids of the documents from global document index `fromDoc` on. Document d is number
 * d mod N of epoch floor(d / N); its order and FIM randomness depend only on (seed, epoch, d),
 * so starting anywhere gives exactly what a run from the beginning would have produced there.
 */
export function* pretrainDocuments(
  source: DocumentSource,
  encoder: BpeEncoder,
  options: PretrainDataOptions,
  fromDoc = 0,
): Generator<number[]> {
  const n = source.count;
  if (n === 0) throw new UserError('no documents to train on (the corpus split is empty)');
  const end = options.epochs === undefined ? Infinity : options.epochs * n;
  let orderEpoch = -1;
  let order: Uint32Array | null = null;
  for (let d = fromDoc; d < end; d++) {
    const epoch = Math.floor(d / n);
    const k = d - epoch * n;
    if (options.shuffle !== false && epoch !== orderEpoch) {
      order = shuffledIndices(n, createRng(options.seed, SHUFFLE_STREAM, epoch));
      orderEpoch = epoch;
    }
    const text = source.read(options.shuffle === false ? k : order![k]);
    if (!options.fimChunkChars) {
      yield fimTokens(fimTransform(text, createRng(options.seed, FIM_STREAM, epoch, k), options), encoder);
      continue;
    }
    // Pieces are separate examples: each ends with <|endoftext|> (the last one gets it from packing).
    const eot = encoder.specialId(EOT)!;
    const tokens: number[] = [];
    chunkLines(text, options.fimChunkChars).forEach((piece, i) => {
      if (i > 0) tokens.push(eot);
      tokens.push(...fimTokens(fimTransform(piece, createRng(options.seed, FIM_STREAM, epoch, k, i), options), encoder));
    });
    yield tokens;
  }
}

/** Packed rows of FIM-transformed documents, resumable from any row's `next` position. */
export function pretrainRows(
  source: DocumentSource,
  encoder: BpeEncoder,
  options: PretrainDataOptions,
  start: PackPosition = { doc: 0, offset: 0 },
): Generator<PackedRow> {
  const docs = pretrainDocuments(source, encoder, options, start.doc);
  return packRows(docs, options.rowLength, { eot: encoder.specialId(EOT), start });
}
