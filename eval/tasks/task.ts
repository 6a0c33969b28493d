import type { Language } from './languages.js';

/** The task sets `codefudge fim-eval` knows, in report order. */
export const TASK_SETS = ['function-line', 'single-line', 'multi-line', 'random-span', 'temporal'] as const;
export type TaskSetName = (typeof TASK_SETS)[number];

/**
 * Where the generated middle ends, besides the model's own end-of-middle token and the token budget:
 * - `line`: at the first newline (the middle is one line);
 * - `block`: at the first blank line, or before the first line indented less than the middle's
 *   first line (a dedent leaves the block);
 * - `none`: nowhere else (random character spans, which may end anywhere).
 */
export type StopRule = 'line' | 'block' | 'none';

/** One fill-in-the-middle task: prefix + middle + suffix is the file's text exactly. */
export interface FimTask {
  /** Stable within a run: set, path, commit (temporal) and the middle's offset. */
  id: string;
  set: TaskSetName;
  /** The file's path relative to the evaluated folder (temporal: to the repository root). */
  path: string;
  language: Language;
  /** Temporal tasks: the held-out commit whose file version is the context. */
  sha?: string;
  /** 1-based line on which the middle starts. */
  line: number;
  /** Character offsets of the middle in the file. */
  start: number;
  end: number;
  prefix: string;
  middle: string;
  suffix: string;
  stop: StopRule;
}

/** A source file to make tasks from. */
export interface SourceFile {
  path: string;
  text: string;
  language: Language;
  /** Temporal tasks: the commit this version of the file comes from. */
  sha?: string;
}

/** A chosen middle before it is cut out of its file. */
export interface TaskSpan {
  start: number;
  end: number;
  stop: StopRule;
}

/** Cuts a span out of its file; `line` (1-based) is counted from the text when not given. */
export function makeTask(set: TaskSetName, file: SourceFile, span: TaskSpan, line?: number): FimTask {
  const { text } = file;
  if (line === undefined) {
    line = 1;
    for (let i = text.indexOf('\n'); i >= 0 && i < span.start; i = text.indexOf('\n', i + 1)) line++;
  }
  const id = [set, file.path, ...(file.sha ? [file.sha.slice(0, 12)] : []), String(span.start)].join(':');
  return {
    id,
    set,
    path: file.path,
    language: file.language,
    ...(file.sha ? { sha: file.sha } : {}),
    line,
    start: span.start,
    end: span.end,
    prefix: text.slice(0, span.start),
    middle: text.slice(span.start, span.end),
    suffix: text.slice(span.end),
    stop: span.stop,
  };
}
