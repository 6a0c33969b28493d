import { UserError } from '../../common/index.js';
import { checkVocabSize, trainBpe, type TrainBpeProgress } from './bpe-train.js';
import type { BpeModel } from './bpe-model.js';
import { corpusTexts, scanCorpus, selectFiles, writeCorpusStats, type CorpusOptions, type CorpusStats } from './corpus.js';
import { writeTokenizer } from './tokenizer-files.js';

export interface TrainTokenizerOptions {
  corpus: string;
  out: string;
  vocabSize: number;
  /** Cap on the training-split bytes fed to BPE (a deterministic sample); default: all. */
  maxBytes?: number;
  minFrequency?: number;
  corpusOptions?: Omit<CorpusOptions, 'onProgress'>;
  /** One line of progress at a time (the CLI prints them on stderr). */
  log?: (line: string) => void;
}

export interface TrainTokenizerResult {
  model: BpeModel;
  stats: CorpusStats;
  trainFiles: number;
  trainBytes: number;
  scanSeconds: number;
  trainSeconds: number;
}

/** Scans the corpus, writes `corpus-stats.json`, trains BPE on the training split and writes the tokenizer, all into `out`. */
export function trainTokenizerFromCorpus(options: TrainTokenizerOptions): TrainTokenizerResult {
  const log = options.log ?? (() => {});
  checkVocabSize(options.vocabSize);
  const t0 = performance.now();
  const scan = scanCorpus(options.corpus, {
    ...options.corpusOptions,
    onProgress: ({ seen, kept }) => log(`scanning: ${seen} files seen, ${kept} kept`),
  });
  const { stats } = scan;
  writeCorpusStats(options.out, stats);
  const scanSeconds = (performance.now() - t0) / 1000;
  log(
    `corpus: ${stats.filesKept} of ${stats.filesSeen} files kept (${mb(stats.bytesKept)}; ` +
      `train ${stats.splits.train.files}, validation ${stats.splits.validation.files}) in ${scanSeconds.toFixed(1)} s`,
  );

  if (stats.splits.train.files === 0) {
    throw new UserError(`no training files left in ${options.corpus} after filtering (see corpus-stats.json)`);
  }
  const files = selectFiles(scan.files, { split: 'train', maxBytes: options.maxBytes });
  if (files.length === 0) throw new UserError(`--max-bytes ${options.maxBytes} is smaller than every training file`);
  const trainBytes = files.reduce((s, f) => s + f.bytes, 0);
  log(`training BPE (vocabulary ${options.vocabSize}) on ${files.length} files, ${mb(trainBytes)}`);
  const t1 = performance.now();
  const model = trainBpe(corpusTexts(scan.root, files), {
    vocabSize: options.vocabSize,
    minFrequency: options.minFrequency,
    onProgress: (p: TrainBpeProgress) =>
      log(
        p.phase === 'count'
          ? `counting: ${(p.chars / 1e6).toFixed(1)}M characters read, ${p.words} distinct pieces`
          : `merging: ${p.merges} merges`,
      ),
  });
  const trainSeconds = (performance.now() - t1) / 1000;
  writeTokenizer(options.out, model);
  if (model.vocab.length < options.vocabSize) {
    log(`stopped at ${model.vocab.length} tokens: no pair of tokens occurs ${options.minFrequency ?? 2} times or more`);
  }
  log(`tokenizer: ${model.vocab.length} tokens, ${model.merges.length} merges in ${trainSeconds.toFixed(1)} s -> ${options.out}`);
  return { model, stats, trainFiles: files.length, trainBytes, scanSeconds, trainSeconds };
}

function mb(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}
