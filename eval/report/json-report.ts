// The full record of a fim-eval run: what was evaluated, how, every task with its outputs and
// scores, and the aggregates. The terminal table and the HTML page are drawn from this alone.
import type { BootstrapOptions } from '../bootstrap.js';
import type { DecodingOptions, FimEvalResult, GeneratedMiddle } from '../fim-eval.js';
import { FIM_METRICS, type MetricInfo, type MetricValues } from '../fim-metrics.js';
import type { SetSummary } from '../set-summary.js';
import type { TaskSet } from '../tasks/build.js';
import type { Language } from '../tasks/languages.js';
import type { StructureSource } from '../tasks/structure.js';
import type { FimTask, TaskSetName } from '../tasks/task.js';

export const REPORT_FORMAT = 'codefudge-fim-eval';
export const REPORT_VERSION = 1;
/** Lines of context kept per task: the end of the prefix and the start of the suffix. */
export const CONTEXT_BEFORE_LINES = 12;
export const CONTEXT_AFTER_LINES = 6;

export interface OutputRecord {
  text: string;
  reason: string;
  tokens: number;
  milliseconds: number;
  scores: MetricValues;
}

/** A task as reported: where its middle is (the file's text is not repeated), the expected text and both outputs. */
export interface TaskRecord extends Pick<FimTask, 'id' | 'set' | 'path' | 'language' | 'sha' | 'line' | 'start' | 'end' | 'stop'> {
  expected: string;
  context: { before: string; after: string };
  base: OutputRecord;
  adapter?: OutputRecord;
}

export interface SetRecord extends SetSummary {
  /** Tasks the files offered before --limit. */
  candidates: number;
}

export interface ReportSource {
  path: string;
  git: boolean;
  files: number;
  /** How function and block boundaries were found, per language present. */
  boundaries: Partial<Record<Language, StructureSource>>;
  /** Why a language fell back to the heuristic splitter. */
  fallbacks?: Partial<Record<Language, string>>;
  temporal?: { cutoffSha: string | null; heldoutCommits: number };
}

export interface ReportOptions {
  sets: TaskSetName[];
  limit: number;
  seed: number;
  decoding: DecodingOptions;
  bootstrap: Required<BootstrapOptions>;
}

export interface FimEvalReport {
  format: typeof REPORT_FORMAT;
  version: typeof REPORT_VERSION;
  created: string;
  source: ReportSource;
  model: { dir: string; adapter: string | null; fimFamily: string };
  options: ReportOptions;
  metrics: MetricInfo[];
  sets: SetRecord[];
  overall: SetSummary;
  tasks: TaskRecord[];
  seconds: number;
}

/** The last n lines of a prefix, with whatever it has of the middle's own line. */
export function lastLines(text: string, n: number): string {
  return text
    .split('\n')
    .slice(-(n + 1))
    .join('\n');
}

/** The rest of the middle's line and the n lines after it. */
export function firstLines(text: string, n: number): string {
  return text
    .split('\n')
    .slice(0, n + 1)
    .join('\n');
}

function output(g: GeneratedMiddle): OutputRecord {
  return { text: g.text, reason: g.reason, tokens: g.tokens, milliseconds: Math.round(g.milliseconds * 10) / 10, scores: g.scores };
}

export interface ReportInput {
  result: FimEvalResult;
  taskSets: readonly TaskSet[];
  source: ReportSource;
  model: { dir: string; adapter?: string };
  options: ReportOptions;
  created?: Date;
}

export function buildReport(input: ReportInput): FimEvalReport {
  const { result } = input;
  const candidates = new Map(input.taskSets.map((s) => [s.name, s.candidates]));
  return {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    created: (input.created ?? new Date()).toISOString(),
    source: input.source,
    model: { dir: input.model.dir, adapter: input.model.adapter ?? null, fimFamily: result.fimFamily },
    options: input.options,
    metrics: [...FIM_METRICS],
    sets: result.sets.map((s) => ({ ...s, candidates: candidates.get(s.name as TaskSetName) ?? s.tasks })),
    overall: result.overall,
    tasks: result.results.map(({ task, base, adapter }) => ({
      id: task.id,
      set: task.set,
      path: task.path,
      language: task.language,
      ...(task.sha ? { sha: task.sha } : {}),
      line: task.line,
      start: task.start,
      end: task.end,
      stop: task.stop,
      expected: task.middle,
      context: { before: lastLines(task.prefix, CONTEXT_BEFORE_LINES), after: firstLines(task.suffix, CONTEXT_AFTER_LINES) },
      base: output(base),
      ...(adapter ? { adapter: output(adapter) } : {}),
    })),
    seconds: Math.round(result.seconds * 100) / 100,
  };
}
