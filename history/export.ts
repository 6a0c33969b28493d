import { resolve } from 'node:path';
import {
  generateExamples,
  emptyStats,
  type CommitDiffExample,
  type HistoryOptions,
  type HistoryStats,
  type TemporalItem,
} from './examples.js';
import type { FimExample } from './fim.js';
import { AtomicJsonlWriter } from '../common/index.js';
import { openRepository } from './repository.js';

/*
 * Hugging Face `datasets` infers one schema per file from its first rows and refuses later rows
 * with other columns, so every row of a file has the same keys with the same types: training
 * rows (FIM and commit->diff) share one set of string columns, '' where a kind has no value;
 * held-out rows are one kind.
 */
const TRAIN_KEYS = [
  'split',
  'kind',
  'sha',
  'date',
  'path',
  'oldPath',
  'status',
  'message',
  'before',
  'diff',
  'blob',
  'prefix',
  'middle',
  'suffix',
  'mode',
  'span',
] as const;

export type TrainRow = Record<(typeof TRAIN_KEYS)[number], string>;

export interface HeldoutRow {
  split: 'heldout';
  kind: 'temporal';
  sha: string;
  date: string;
  path: string;
  oldPath: string;
  status: string;
  message: string;
  before: string;
  after: string;
  diff: string;
  addedLines: number[];
}

export function trainRow(ex: FimExample | CommitDiffExample): TrainRow {
  const source = ex as unknown as Record<string, unknown>;
  const row = {} as TrainRow;
  for (const key of TRAIN_KEYS) {
    const v = source[key];
    row[key] = typeof v === 'string' ? v : '';
  }
  return row;
}

export function heldoutRow(item: TemporalItem): HeldoutRow {
  return {
    split: 'heldout',
    kind: 'temporal',
    sha: item.sha,
    date: item.date,
    path: item.path,
    oldPath: item.oldPath ?? '',
    status: item.status,
    message: item.message,
    before: item.before,
    after: item.after,
    diff: item.diff,
    addedLines: item.addedLines,
  };
}

/** `data.jsonl` -> `data.heldout.jsonl`: where the held-out rows go beside the training file. */
export function heldoutPathFor(out: string): string {
  return out.endsWith('.jsonl') ? `${out.slice(0, -'.jsonl'.length)}.heldout.jsonl` : `${out}.heldout.jsonl`;
}

export interface ExportOptions extends HistoryOptions {
  /** The commit whose history is read. Default HEAD. */
  rev?: string;
}

export interface ExportResult {
  trainPath: string;
  heldoutPath: string;
  stats: HistoryStats;
}

/**
 * Writes a repository's training examples to `out` and its held-out items to
 * {@link heldoutPathFor}(out), both JSON lines, both atomically.
 */
export async function exportHistory(repoPath: string, out: string, opts: ExportOptions = {}): Promise<ExportResult> {
  const repo = await openRepository(repoPath, opts.rev);
  const trainPath = resolve(out);
  const heldoutPath = heldoutPathFor(trainPath);
  const stats = emptyStats();
  let train: AtomicJsonlWriter | null = null;
  let heldout: AtomicJsonlWriter | null = null;
  try {
    train = new AtomicJsonlWriter(trainPath);
    heldout = new AtomicJsonlWriter(heldoutPath);
    for await (const ex of generateExamples(repo, opts, stats)) {
      if (ex.kind === 'temporal') heldout.write(heldoutRow(ex));
      else train.write(trainRow(ex));
    }
    train.commit();
    heldout.commit();
    return { trainPath, heldoutPath, stats };
  } finally {
    train?.abort();
    heldout?.abort();
    repo.close();
  }
}
