// commit->diff suggestion: the prompt shared with training, unified diffs, and checking that a suggestion applies.
// suggest/ imports engine/ (tokenizer, generation) and history/ (reading the file at HEAD).
export { splitLines, usesCrlf } from './diff/file-lines.js';
export { lineText, countSides, hasChange } from './diff/hunk.js';
export type { DiffOp, DiffLine, Hunk, FilePatch, LineEdit } from './diff/hunk.js';
export { parseUnifiedDiff, readGeneratedDiff, DiffFormatError } from './diff/parse-diff.js';
export type { GeneratedDiff } from './diff/parse-diff.js';
export { applyHunks } from './diff/apply-diff.js';
export type { ApplyResult, PlacedHunk } from './diff/apply-diff.js';
export { fitHunks } from './diff/fit-diff.js';
export type { FitResult } from './diff/fit-diff.js';
export { renderUnifiedDiff } from './diff/render-diff.js';
export type { RenderOptions } from './diff/render-diff.js';
export { sequenceFormat, supportedMode, IGNORE, DEFAULT_SEQUENCE_LENGTH } from './sequence-format.js';
export type { SequenceFormat } from './sequence-format.js';
export { keepHead, keepTail, headWithin, tailWithin, maxCharsPerToken, reachable } from './token-budget.js';
export type { Kept, TextEncoder } from './token-budget.js';
export {
  commitDiffPrompt,
  commitDiffHeader,
  commitDiffInput,
  fitCommitDiffInput,
  MAX_MESSAGE_TOKENS,
  MAX_PATH_CHARS,
} from './commit-diff-prompt.js';
export type { CommitDiffRequest } from './commit-diff-prompt.js';
export { suggestDiff, SUGGEST_DEFAULTS } from './suggest-diff.js';
export type { SuggestDiffOptions, DiffSuggestion, RemoteTextBackend, SuggestModel } from './suggest-diff.js';
export { checkCandidate, firstApplicable } from './pick-candidate.js';
export type { DiffCandidate, AppliedDiff } from './pick-candidate.js';
export { diffEnd } from './diff-stop.js';
export { contextLength, trainedSequenceLength } from './context-length.js';
export { readRepoFile, readTextFile, repositoryRoot, checkMessage } from './repo-file.js';
export type { RepoFile } from './repo-file.js';
export { suggestDiffInRepo, adapterFor, replaceFileText } from './suggest-in-repo.js';
export type { RepoSuggestOptions, RepoSuggestion } from './suggest-in-repo.js';
