// From the model's generations (best first) to the first diff that applies to the file: each is
// read as a diff with repairs, fitted to the file, and rendered again with exact line numbers, so
// what is shown applies with `patch -p1` as it stands.
import { fitHunks, readGeneratedDiff, renderUnifiedDiff, splitLines, type LineEdit } from './index.js';
import { type Generation, type StopReason } from '../engine/index.js';

export interface DiffCandidate {
  /** 0-based place among the generations, best first. */
  rank: number;
  /** The generated diff as the model wrote it (with the forced header, if any). */
  text: string;
  reason: StopReason;
  logprob: number;
  /** Why it does not apply; undefined when it does. */
  problem?: string;
  repairs: string[];
}

export interface AppliedDiff {
  /** `--- a/PATH`, `+++ b/PATH` and hunks at their exact lines. */
  diff: string;
  /** The file with the diff applied. */
  after: string;
  edits: LineEdit[];
  candidate: DiffCandidate;
}

/** Checks one generation against the file; `applied` is set when it applies and changes something. */
export function checkCandidate(
  before: string,
  path: string,
  gen: Generation,
  rank: number,
): { candidate: DiffCandidate; applied?: AppliedDiff } {
  const candidate: DiffCandidate = { rank, text: gen.text, reason: gen.reason, logprob: gen.logprob, repairs: [] };
  const read = readGeneratedDiff(gen.text, { truncated: gen.reason === 'max-tokens' || gen.reason === 'aborted' });
  candidate.repairs.push(...read.repairs);
  if (!read.patch.hunks.length) {
    candidate.problem = 'no complete hunk';
    return { candidate };
  }
  // A hunk of added lines alone applies anywhere (patch takes it at its header's line): in a
  // file with lines it says nothing about where the change goes, so it is no suggestion.
  const loose = read.patch.hunks.findIndex((h) => h.lines.every((l) => l.op === '+'));
  if (before !== '' && loose >= 0) {
    candidate.problem = `hunk ${loose + 1} has no context or removed line to place it by`;
    return { candidate };
  }
  const fit = fitHunks(before, read.patch.hunks);
  if (!fit.ok) {
    candidate.problem = fit.reason;
    return { candidate };
  }
  candidate.repairs.push(...fit.repairs);
  const diff = renderUnifiedDiff(splitLines(before), fit.edits, { oldPath: `a/${path}`, newPath: `b/${path}` });
  if (!diff) {
    candidate.problem = 'changes nothing';
    return { candidate };
  }
  return { candidate, applied: { diff, after: fit.text, edits: fit.edits, candidate } };
}

/** The first generation that applies, and what became of each one tried (identical texts once). */
export function firstApplicable(
  before: string,
  path: string,
  gens: readonly Generation[],
): { applied?: AppliedDiff; candidates: DiffCandidate[] } {
  const candidates: DiffCandidate[] = [];
  const seen = new Set<string>();
  for (const [rank, gen] of gens.entries()) {
    if (seen.has(gen.text)) continue;
    seen.add(gen.text);
    const { candidate, applied } = checkCandidate(before, path, gen, rank);
    candidates.push(candidate);
    if (applied) return { applied, candidates };
  }
  return { candidates };
}
