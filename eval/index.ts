// The eval part's public surface: other parts import only from here.
export { exactMatch, exactMatchFirstLine, normalizeTrailingWhitespace, firstLine } from './metrics/exact-match.js';
export { sentenceChrf, corpusChrf, chrfStats, chrfFromStats, emptyChrfStats, type ChrfStats } from './metrics/chrf.js';
export {
  sentenceBleu, corpusBleu, bleuStats, bleuFromStats, addBleuStats, emptyBleuStats, type BleuStats,
} from './metrics/bleu.js';
export { tokenize13a } from './metrics/tokenize-13a.js';
export { wer, corpusWer, werCounts, werFromCounts, type WerCounts } from './metrics/wer.js';
export { tokenIou } from './metrics/iou.js';
export { editSimilarity } from './metrics/edit-similarity.js';
export { levenshtein } from './metrics/levenshtein.js';
export { cosineSimilarity } from './metrics/cosine.js';
export { ScoreAccumulator, scorePair, type PairScores, type CorpusScores } from './score.js';
export { readPairsFile, type TextPair } from './pairs-file.js';
