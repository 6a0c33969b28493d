// Task sets from source files: candidates per file (seeded per file, so one file's choices do not
// depend on the others), then a seeded shuffle per set and the first `limit`.
import { Rng, hash32, shuffleInPlace } from '../../common/index.js';
import { languageOf } from './languages.js';
import { functionLineSpans, multiLineSpans, rowRunSpans, singleLineSpans, MAX_BLOCK_LINES } from './line-tasks.js';
import { Lines } from './lines.js';
import { randomSpans, MAX_SPAN_CHARS } from './random-span.js';
import type { CodeStructure, StructureParser } from './structure.js';
import { makeTask, type FimTask, type SourceFile, type TaskSetName, type TaskSpan } from './task.js';

/** A file changed by a held-out commit (history's TemporalItem has these fields). */
export interface TemporalSource {
  sha: string;
  path: string;
  /** The file after the commit. */
  after: string;
  /** 1-based line numbers in `after` that the commit added. */
  addedLines: number[];
}

export interface BuildTasksOptions {
  sets: readonly TaskSetName[];
  /** Same seed, same files: same tasks. Default 0. */
  seed?: number;
  /** Most tasks per set; 0 or absent for all. */
  limit?: number;
  maxBlockLines?: number;
  maxSpanChars?: number;
}

export interface TaskSet {
  name: TaskSetName;
  /** In file order (path, then position): neighbours share prompt prefixes. */
  tasks: FimTask[];
  /** How many tasks the files offered before the limit. */
  candidates: number;
}

/** A generator seeded by the run's seed and the given parts. */
export function seededRng(seed: number, ...parts: string[]): Rng {
  return new Rng(hash32([String(seed), ...parts].join('\0')));
}

export function temporalFiles(sources: readonly TemporalSource[]): Array<{ file: SourceFile; rows: number[] }> {
  const out: Array<{ file: SourceFile; rows: number[] }> = [];
  for (const s of sources) {
    const language = languageOf(s.path);
    if (!language || !s.addedLines.length) continue;
    out.push({ file: { path: s.path, text: s.after, language, sha: s.sha }, rows: s.addedLines.map((n) => n - 1) });
  }
  return out;
}

export function buildTaskSets(
  files: readonly SourceFile[],
  parser: StructureParser,
  opts: BuildTasksOptions,
  temporal: readonly TemporalSource[] = [],
): TaskSet[] {
  const seed = opts.seed ?? 0;
  const maxBlock = opts.maxBlockLines ?? MAX_BLOCK_LINES;
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const structures = new Map<SourceFile, CodeStructure>();
  const structureOf = (f: SourceFile) => {
    let s = structures.get(f);
    if (!s) structures.set(f, (s = parser.parse(f.text, f.language)));
    return s;
  };
  const spansOf = (set: TaskSetName, file: SourceFile, lines: Lines): TaskSpan[] => {
    const rng = seededRng(seed, set, file.path, file.sha ?? '');
    switch (set) {
      case 'function-line':
        return functionLineSpans(lines, structureOf(file), rng);
      case 'single-line':
        return singleLineSpans(lines);
      case 'multi-line':
        return multiLineSpans(lines, structureOf(file), maxBlock);
      case 'random-span':
        return randomSpans(file.text, lines.count, rng, opts.maxSpanChars ?? MAX_SPAN_CHARS);
      case 'temporal':
        return [];
    }
  };
  return opts.sets.map((name) => {
    const candidates: Array<{ file: SourceFile; lines: Lines; span: TaskSpan }> = [];
    if (name === 'temporal') {
      for (const { file, rows } of temporalFiles(temporal)) {
        const lines = new Lines(file.text);
        for (const span of rowRunSpans(lines, rows, maxBlock)) candidates.push({ file, lines, span });
      }
    } else {
      for (const file of sorted) {
        const lines = new Lines(file.text);
        for (const span of spansOf(name, file, lines)) candidates.push({ file, lines, span });
      }
    }
    const order = candidates.map((_, i) => i);
    shuffleInPlace(order, seededRng(seed, name).next);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : order.length;
    const tasks = order
      .slice(0, limit)
      .sort((a, b) => a - b)
      .map((i) => {
        const { file, lines, span } = candidates[i];
        return makeTask(name, file, span, lines.rowOf(span.start) + 1);
      });
    return { name, tasks, candidates: candidates.length };
  });
}
