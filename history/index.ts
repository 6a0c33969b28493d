// The history part's public surface: other parts import only from here.
//
// Typical use:
//   const repo = await openRepository(dir);           // UserError for bad input
//   try {
//     const data = await collectExamples(repo, { split: { holdoutPercent: 10 }, seed: 1 });
//     // data.train.fim, data.train.commitDiff, data.heldout (temporal items), data.stats
//   } finally { repo.close(); }
// or stream with generateExamples(repo, opts, stats), or walk commits yourself with
// listCommits + splitCommits + walkChanges / readChanges + readSnapshot.

export { openRepository, type HistoryRepository } from './repository.js';
export { listCommits, splitMessage, type CommitInfo, type Person, type ListCommitsOptions } from './commits.js';
export { readChanges, type ChangeOptions, type ChangeStatus, type CommitChanges, type FileChange, type SkippedFile } from './changes.js';
export { readSnapshot, blobsAt, type Snapshot, type SnapshotFile, type SnapshotOptions } from './snapshot.js';
export {
  FileFilter,
  DEFAULT_CODE_EXTENSIONS,
  DEFAULT_CODE_FILENAMES,
  DEFAULT_MAX_FILE_BYTES,
  LOCK_FILES,
  VENDORED_GLOBS,
  GENERATED_GLOBS,
  type FileFilterOptions,
  type SkipReason,
} from './filters.js';
export { compileGlob, anyGlob, type GlobOptions, type PathMatcher } from './glob.js';
export { splitCommits, parseCutoff, parseHoldout, DEFAULT_SPLIT, type SplitSpec, type CommitSplit } from './split.js';
export { fimExamples, blockSpans, charSpan, type FimExample, type FimOptions, type FimMode, type FimSpan, type Span } from './fim.js';
export {
  generateExamples,
  collectExamples,
  walkChanges,
  commitDiffExamples,
  temporalItems,
  toCommitDiffExample,
  emptyStats,
  type CommitDiffExample,
  type TemporalItem,
  type HistoryExample,
  type HistoryOptions,
  type HistoryProgress,
  type HistoryStats,
  type HistoryDataset,
} from './examples.js';
export {
  exportHistory,
  heldoutPathFor,
  trainRow,
  heldoutRow,
  type ExportOptions,
  type ExportResult,
  type TrainRow,
  type HeldoutRow,
} from './export.js';
export { decodeText, looksBinary, type TextEncodingName } from './decode.js';
