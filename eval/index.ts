// The eval part's public surface: other parts import only from here.
export { exactMatch, exactMatchFirstLine, normalizeTrailingWhitespace, firstLine } from './metrics/exact-match.js';
export { sentenceChrf, corpusChrf, chrfStats, chrfFromStats, emptyChrfStats, type ChrfStats } from './metrics/chrf.js';
export { sentenceBleu, corpusBleu, bleuStats, bleuFromStats, addBleuStats, emptyBleuStats, type BleuStats } from './metrics/bleu.js';
export { tokenize13a } from './metrics/tokenize-13a.js';
export { wer, corpusWer, werCounts, werFromCounts, type WerCounts } from './metrics/wer.js';
export { tokenIou } from './metrics/iou.js';
export { editSimilarity } from './metrics/edit-similarity.js';
export { levenshtein } from './metrics/levenshtein.js';
export { cosineSimilarity } from './metrics/cosine.js';
export { ScoreAccumulator, scorePair, type PairScores, type CorpusScores } from './score.js';
export { readPairsFile, type TextPair } from './pairs-file.js';
// Fill-in-the-middle evaluation (codefudge fim-eval): task sets, runs, reports.
export { TASK_SETS, makeTask, type FimTask, type SourceFile, type StopRule, type TaskSetName, type TaskSpan } from './tasks/task.js';
export { SOURCE_EXTENSIONS, languageOf, type Language } from './tasks/languages.js';
export type { CodeStructure, FunctionShape, RowRange, StructureParser, StructureSource } from './tasks/structure.js';
export { loadStructureParser, type LoadedStructureParser } from './tasks/structure-parser.js';
export { heuristicStructure } from './tasks/heuristic-structure.js';
export { loadGrammar } from './tasks/tree-sitter-structure.js';
export { Lines } from './tasks/lines.js';
export { MAX_BLOCK_LINES, functionLineSpans, singleLineSpans, multiLineSpans, rowRunSpans, isBlockMiddle } from './tasks/line-tasks.js';
export { randomSpans } from './tasks/random-span.js';
export { MAX_SPAN_CHARS, LINES_PER_SPAN } from './tasks/random-span.js';
export { buildTaskSets, seededRng, type BuildTasksOptions, type TaskSet, type TemporalSource } from './tasks/build.js';
export { readSourceTree, type SourceTree } from './tasks/source-files.js';
export { readTemporalSources, type TemporalHistory } from './tasks/temporal-source.js';
export { stopIndex, applyStopRule } from './stop-rules.js';
export { FIM_METRICS, METRIC_KEYS, type MetricInfo, type MetricKey, type MetricValues } from './fim-metrics.js';
export { scoreMiddle, aggregateScores, type ScoredMiddle } from './task-scores.js';
export { pairedBootstrap, percentileInterval, quantile, type BootstrapOptions, type Interval } from './bootstrap.js';
export { summarizeSet, type SetSummary, type Delta } from './set-summary.js';
export { HiddenStateJudge, MAX_JUDGED_TOKENS } from './hidden-cosine.js';
export {
  runFimEval,
  checkAdapterDir,
  DEFAULT_MAX_TOKENS,
  type DecodingOptions,
  type EvalPhase,
  type EvalProgress,
  type FimEvalOptions,
  type FimEvalResult,
  type GeneratedMiddle,
  type TaskResult,
  type FimCompleter,
  type FimCompleters,
} from './fim-eval.js';
export {
  evaluateFolder,
  parseTaskSets,
  DEFAULT_TASK_SETS,
  DEFAULT_LIMIT,
  DEFAULT_RESAMPLES,
  type EvaluateFolderOptions,
  type FolderProgress,
} from './evaluate-folder.js';
export {
  buildReport,
  REPORT_FORMAT,
  REPORT_VERSION,
  type FimEvalReport,
  type TaskRecord,
  type OutputRecord,
  type SetRecord,
  type ReportSource,
  type ReportOptions,
  type ReportInput,
} from './report/json-report.js';
export { formatTable } from './report/table.js';
export { renderHtmlReport, exampleLists } from './report/html-report.js';
export { escapeHtml } from './report/escape.js';
export { barChart, histogram, binCounts } from './report/svg-charts.js';
// The commit-diff task set (fim-eval --tasks commit-diff): suggested diffs for held-out commits, base against adapter.
export {
  readCommitDiffTasks,
  COMMIT_DIFF_SET,
  type CommitDiffTask,
  type CommitDiffTasks,
  type CommitDiffTaskOptions,
} from './commit-diff/commit-diff-tasks.js';
export { scoreCommitDiff, hunksText, type CommitDiffScore } from './commit-diff/commit-diff-score.js';
export {
  runCommitDiffEval,
  summarizeCommitDiff,
  aggregateCommitDiff,
  COMMIT_DIFF_METRICS,
  type CommitDiffOutput,
  type CommitDiffResult,
  type CommitDiffSummary,
  type CommitDiffValues,
  type CommitDiffMetric,
  type CommitDiffEvalOptions,
} from './commit-diff/commit-diff-eval.js';
export {
  buildCommitDiffReport,
  formatCommitDiffTable,
  COMMIT_DIFF_REPORT_FORMAT,
  type CommitDiffReport,
} from './commit-diff/commit-diff-report.js';
export { evaluateCommitDiff, takeCommitDiffSet, type EvaluateCommitDiffOptions } from './commit-diff/evaluate-commit-diff.js';
