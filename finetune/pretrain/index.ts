// The data side of `codefudge pretrain`: corpus, tokenizer, FIM and packing. Other parts import only from here.
export type { BpeModel } from './bpe-model.js';
export { trainBpe, type TrainBpeOptions, type TrainBpeProgress } from './bpe-train.js';
export { BpeEncoder } from './bpe-encoder.js';
export { writeTokenizer, readTokenizer, tokenizerJson, tokenizerConfigJson } from './tokenizer-files.js';
export { PRETOKENIZE_PATTERN, preTokenize } from './pretokenize.js';
export { DEFAULT_SPECIAL_TOKENS, EOT, FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX, FIM_PAD } from './special-tokens.js';
export {
  scanCorpus,
  selectFiles,
  corpusTexts,
  readCorpusFile,
  writeCorpusStats,
  splitOf,
  isTestDataPath,
  type CorpusOptions,
  type CorpusFile,
  type CorpusScan,
  type CorpusStats,
  type DropReason,
  type Split,
} from './corpus.js';
export { DEFAULT_QUALITY_LIMITS, type QualityLimits } from './corpus-filters.js';
export { fimTransform, fimTokens, fimString, splitAtRandom, type FimMode, type FimOptions, type FimParts } from './fim-transform.js';
export { packRows, type PackPosition, type PackedRow, type PackOptions } from './packing.js';
export {
  pretrainRows,
  pretrainDocuments,
  corpusSource,
  chunkLines,
  type DocumentSource,
  type PretrainDataOptions,
} from './pretrain-data.js';
export { trainTokenizerFromCorpus, type TrainTokenizerOptions, type TrainTokenizerResult } from './train-tokenizer.js';
export { bigramBaseline, type BigramResult } from './bigram-baseline.js';
