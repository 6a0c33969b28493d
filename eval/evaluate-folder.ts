// fim-eval end to end: source files (and held-out history) -> task sets -> generations -> report.
import { resolve } from 'node:path';
import { UserError } from '../common/index.js';
import { type Device, type QuantMode } from '../engine/index.js';
import { DEFAULT_SPLIT, type SplitSpec } from '../history/index.js';
import type { BootstrapOptions } from './bootstrap.js';
import { checkAdapterDir, runFimEval, type DecodingOptions, type EvalProgress, type FimCompleters } from './fim-eval.js';
import { buildReport, type FimEvalReport, type ReportSource } from './report/json-report.js';
import { buildTaskSets, type TemporalSource } from './tasks/build.js';
import type { Language } from './tasks/languages.js';
import { readSourceTree } from './tasks/source-files.js';
import { loadStructureParser } from './tasks/structure-parser.js';
import { readTemporalSources } from './tasks/temporal-source.js';
import { TASK_SETS, type TaskSetName } from './tasks/task.js';

/** Task sets run when none are named (temporal too when the folder has git history). */
export const DEFAULT_TASK_SETS: readonly TaskSetName[] = ['function-line', 'single-line', 'multi-line', 'random-span'];
export const DEFAULT_LIMIT = 100;
export const DEFAULT_RESAMPLES = 1000;

/** `function-line,single-line`: known names, each once, in the order given. */
export function parseTaskSets(text: string): TaskSetName[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!names.length) throw new UserError('--tasks names no task set');
  for (const n of names) {
    if (!(TASK_SETS as readonly string[]).includes(n)) throw new UserError(`unknown task set "${n}" (known: ${TASK_SETS.join(', ')})`);
  }
  return [...new Set(names)] as TaskSetName[];
}

export type FolderProgress = EvalProgress | { phase: 'history'; done: number; total: number };

export interface EvaluateFolderOptions {
  dir: string;
  modelDir: string;
  /** Generate through these (a remote backend) instead of loading modelDir here. */
  completers?: FimCompleters;
  adapterDir?: string;
  /** Default DEFAULT_TASK_SETS, plus temporal for a git repository. */
  sets?: TaskSetName[];
  /** Most tasks per set; 0 for all. Default DEFAULT_LIMIT. */
  limit?: number;
  /** Seeds task choice, sampling and the bootstrap. Default 0. */
  seed?: number;
  decoding?: DecodingOptions;
  bootstrap?: Omit<BootstrapOptions, 'seed'>;
  /** Where the temporal set's held-out history starts. */
  split?: SplitSpec;
  /** false: the heuristic splitter even where a tree-sitter grammar loads. */
  treeSitter?: boolean;
  threads?: number;
  /** int4/int8 weights or none; undefined: by model size. */
  quant?: QuantMode;
  device?: Device;
  onProgress?: (p: FolderProgress) => void;
  /** Called once, before any model runs, when boundaries fall back to the heuristic splitter. */
  onNote?: (note: string) => void;
}

export async function evaluateFolder(opts: EvaluateFolderOptions): Promise<FimEvalReport> {
  const dir = resolve(opts.dir);
  if (opts.adapterDir) checkAdapterDir(opts.adapterDir);
  const tree = readSourceTree(dir);
  if (!tree.files.length) throw new UserError(`no Python, TypeScript or JavaScript files in ${opts.dir}`);
  const sets = opts.sets ?? [...DEFAULT_TASK_SETS, ...(tree.git ? (['temporal'] as const) : [])];
  if (sets.includes('temporal') && !tree.git)
    throw new UserError(`the temporal task set needs a git repository; ${opts.dir} is not in one`);
  const seed = opts.seed ?? 0;
  const limit = opts.limit ?? DEFAULT_LIMIT;

  let temporal: TemporalSource[] = [];
  let temporalInfo: ReportSource['temporal'];
  if (sets.includes('temporal')) {
    // History is read from the repository's top folder (its paths are relative to it).
    const history = await readTemporalSources(tree.repoRoot, opts.split ?? DEFAULT_SPLIT, (done, total) =>
      opts.onProgress?.({ phase: 'history', done, total }),
    );
    // Paths as the folder's own files have them; files of the repository outside the folder are left out.
    temporal = history.sources
      .filter((src) => src.path.startsWith(tree.repoPrefix))
      .map((src) => ({ ...src, path: src.path.slice(tree.repoPrefix.length) }));
    temporalInfo = { cutoffSha: history.cutoffSha, heldoutCommits: history.heldoutCommits };
  }

  const languages = new Set<Language>(tree.files.map((f) => f.language));
  const parser = await loadStructureParser(languages, { treeSitter: opts.treeSitter });
  let taskSets;
  try {
    taskSets = buildTaskSets(tree.files, parser, { sets, seed, limit }, temporal);
  } finally {
    parser.release();
  }
  if (parser.fallbacks.size) {
    const [why] = parser.fallbacks.values();
    opts.onNote?.(`function/block boundaries for ${[...parser.fallbacks.keys()].join(', ')} come from the heuristic splitter (${why})`);
  }
  for (const s of taskSets.filter((x) => !x.tasks.length)) {
    opts.onNote?.(
      s.name === 'temporal'
        ? `temporal: no tasks (${temporalInfo?.heldoutCommits ?? 0} held-out commits added no Python, TypeScript or JavaScript lines)`
        : `${s.name}: no tasks (the files offer none)`,
    );
  }
  if (!taskSets.some((s) => s.tasks.length)) throw new UserError(`no fill-in-the-middle tasks could be made from ${opts.dir}`);

  const bootstrap = { resamples: opts.bootstrap?.resamples ?? DEFAULT_RESAMPLES, level: opts.bootstrap?.level ?? 0.95, seed };
  const decoding: DecodingOptions = { seed, ...opts.decoding };
  const result = await runFimEval(taskSets, {
    modelDir: opts.modelDir,
    completers: opts.completers,
    adapterDir: opts.adapterDir,
    threads: opts.threads,
    quant: opts.quant,
    device: opts.device,
    decoding,
    bootstrap,
    onProgress: opts.onProgress,
  });
  const boundaries: ReportSource['boundaries'] = {};
  for (const l of languages) boundaries[l] = parser.source(l);
  return buildReport({
    result,
    taskSets,
    source: {
      path: dir,
      git: tree.git,
      files: tree.files.length,
      boundaries,
      ...(parser.fallbacks.size ? { fallbacks: Object.fromEntries(parser.fallbacks) } : {}),
      ...(temporalInfo ? { temporal: temporalInfo } : {}),
    },
    model: { dir: resolve(opts.modelDir), ...(opts.adapterDir ? { adapter: resolve(opts.adapterDir) } : {}) },
    options: { sets, limit, seed, decoding, bootstrap },
  });
}
