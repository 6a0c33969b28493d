import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, messageOf, writeTextAtomic } from '../../common/index.js';
import { DEFAULT_QUALITY_LIMITS, lineStats, qualityReason, type QualityLimits, type QualityReason } from './corpus-filters.js';

export type Split = 'train' | 'validation';

/** Why a file was left out, in the order the checks run. */
export type DropReason =
  'symlink' | 'unreadable' | 'testData' | 'tooSmall' | 'tooLarge' | 'notUtf8' | QualityReason | 'duplicate' | 'nearDuplicate';

const DROP_REASONS: readonly DropReason[] = [
  'symlink',
  'unreadable',
  'testData',
  'tooSmall',
  'tooLarge',
  'notUtf8',
  'generated',
  'longLines',
  'notCode',
  'encodedData',
  'duplicate',
  'nearDuplicate',
];

export interface CorpusOptions {
  /** Smallest file kept, in bytes (default 1024). */
  minBytes?: number;
  /** Largest file kept, in bytes (default 100 KiB). */
  maxBytes?: number;
  /** Share of files (by a hash of the path) held out for validation (default 0.02). */
  validationFraction?: number;
  /** Leave out data folders inside test suites (`tests/data`, `testdata`, `fixtures`; default true). */
  skipTestData?: boolean;
  quality?: Partial<QualityLimits>;
  /** Called every few hundred files while scanning. */
  onProgress?: (p: { seen: number; kept: number }) => void;
}

/** One kept file; the text is read again when needed (see `readCorpusFile`), never held here. */
export interface CorpusFile {
  /** Path relative to the corpus root, with "/" separators. */
  path: string;
  split: Split;
  bytes: number;
  lines: number;
  sha256: string;
}

export interface SplitStats {
  files: number;
  bytes: number;
  lines: number;
}

/** What `corpus-stats.json` holds. */
export interface CorpusStats {
  root: string;
  extension: '.py';
  options: Required<Omit<CorpusOptions, 'onProgress' | 'quality'>> & { quality: QualityLimits };
  filesSeen: number;
  bytesSeen: number;
  filesKept: number;
  bytesKept: number;
  linesKept: number;
  dropped: Record<DropReason, number>;
  droppedBytes: Record<DropReason, number>;
  splits: Record<Split, SplitStats>;
}

export interface CorpusScan {
  root: string;
  files: CorpusFile[];
  stats: CorpusStats;
}

const SKIPPED_DIRS = new Set(['__pycache__', 'node_modules']);
const TEST_DIRS = new Set(['test', 'tests', 'testing']);
const DATA_DIRS = new Set(['data', 'testdata', 'test_data', 'test-data', 'fixtures', 'fixture']);

function isSkippedDir(name: string): boolean {
  return name.startsWith('.') || SKIPPED_DIRS.has(name) || name.endsWith('.dist-info') || name.endsWith('.egg-info');
}

/**
 * True for a path inside a test suite's data folder (`test/data/...`, `tests/fixtures/...`,
 * `testdata/...`): such files are inputs for tests (deliberately odd, broken or huge), not code.
 */
export function isTestDataPath(relPath: string): boolean {
  const dirs = relPath
    .split('/')
    .slice(0, -1)
    .map((d) => d.toLowerCase());
  let inTests = false;
  for (const d of dirs) {
    if (DATA_DIRS.has(d) && (inTests || d.includes('test'))) return true;
    if (TEST_DIRS.has(d)) inTests = true;
  }
  return false;
}

interface WalkEntry {
  rel: string;
  abs: string;
  symlink: boolean;
}

/** `.py` files under root, depth first, each folder's entries in code-unit order (locale-independent). */
export function* walkPythonFiles(root: string, rel = ''): Generator<WalkEntry> {
  const dir = path.join(root, rel);
  const names = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const d of names) {
    const childRel = rel ? `${rel}/${d.name}` : d.name;
    if (d.isDirectory()) {
      if (!isSkippedDir(d.name)) yield* walkPythonFiles(root, childRel);
    } else if (d.name.endsWith('.py') && (d.isFile() || d.isSymbolicLink())) {
      yield { rel: childRel, abs: path.join(root, childRel), symlink: d.isSymbolicLink() };
    }
  }
}

/** The file's split, from a hash of its relative path: stable whatever else is in the corpus. */
export function splitOf(relPath: string, validationFraction: number): Split {
  const h = createHash('sha256').update(relPath).digest().readUInt32BE(0);
  return h / 2 ** 32 < validationFraction ? 'validation' : 'train';
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 text of the bytes (a leading BOM removed), or null if they are not valid UTF-8 or contain NUL. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  if (bytes.includes(0)) return null;
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

function emptyCounts(): Record<DropReason, number> {
  return Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
}

/**
 * Scans the `.py` files under `root` and decides, file by file, what a careful scrape keeps:
 * size within bounds, valid UTF-8, not generated/minified/data-like, not a duplicate of a file
 * kept earlier (exact bytes, or the same text once whitespace is removed). Only one file's
 * content is in memory at a time; kept files are returned as paths with their split.
 */
export function scanCorpus(root: string, options: CorpusOptions = {}): CorpusScan {
  const opts = {
    minBytes: options.minBytes ?? 1024,
    maxBytes: options.maxBytes ?? 100 * 1024,
    validationFraction: options.validationFraction ?? 0.02,
    skipTestData: options.skipTestData ?? true,
    quality: { ...DEFAULT_QUALITY_LIMITS, ...options.quality },
  };
  if (!(opts.validationFraction >= 0 && opts.validationFraction < 1)) {
    throw new UserError(`validation fraction must be in [0, 1), got ${opts.validationFraction}`);
  }
  let rootStat: fs.Stats;
  try {
    rootStat = fs.statSync(root);
  } catch (e) {
    throw new UserError(`corpus folder ${root}: ${messageOf(e)}`);
  }
  if (!rootStat.isDirectory()) throw new UserError(`corpus ${root} is not a folder`);

  const stats: CorpusStats = {
    root: path.resolve(root),
    extension: '.py',
    options: opts,
    filesSeen: 0,
    bytesSeen: 0,
    filesKept: 0,
    bytesKept: 0,
    linesKept: 0,
    dropped: emptyCounts(),
    droppedBytes: emptyCounts(),
    splits: { train: { files: 0, bytes: 0, lines: 0 }, validation: { files: 0, bytes: 0, lines: 0 } },
  };
  const files: CorpusFile[] = [];
  const exactHashes = new Set<string>();
  const nearHashes = new Set<string>();

  for (const entry of walkPythonFiles(root)) {
    stats.filesSeen++;
    let size = 0;
    const drop = (reason: DropReason) => {
      stats.dropped[reason]++;
      stats.droppedBytes[reason] += size;
    };
    if (options.onProgress && stats.filesSeen % 500 === 0) options.onProgress({ seen: stats.filesSeen, kept: files.length });
    if (entry.symlink) {
      drop('symlink');
      continue;
    }
    const testData = opts.skipTestData && isTestDataPath(entry.rel);
    let bytes: Buffer | null = null;
    try {
      size = fs.statSync(entry.abs).size;
      stats.bytesSeen += size;
      if (!testData && size >= opts.minBytes && size <= opts.maxBytes) bytes = fs.readFileSync(entry.abs);
    } catch {
      drop('unreadable');
      continue;
    }
    if (testData) {
      drop('testData');
      continue;
    }
    if (size < opts.minBytes) {
      drop('tooSmall');
      continue;
    }
    if (size > opts.maxBytes || bytes === null) {
      drop('tooLarge');
      continue;
    }
    const text = decodeUtf8(bytes);
    if (text === null) {
      drop('notUtf8');
      continue;
    }
    const quality = qualityReason(text, opts.quality);
    if (quality !== null) {
      drop(quality);
      continue;
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (exactHashes.has(sha256)) {
      drop('duplicate');
      continue;
    }
    exactHashes.add(sha256);
    const nearHash = createHash('sha256').update(text.replace(/\s+/g, '')).digest('hex');
    if (nearHashes.has(nearHash)) {
      drop('nearDuplicate');
      continue;
    }
    nearHashes.add(nearHash);

    const lines = lineStats(text).lines;
    const split = splitOf(entry.rel, opts.validationFraction);
    files.push({ path: entry.rel, split, bytes: size, lines, sha256 });
    stats.filesKept++;
    stats.bytesKept += size;
    stats.linesKept += lines;
    stats.splits[split].files++;
    stats.splits[split].bytes += size;
    stats.splits[split].lines += lines;
  }
  return { root: path.resolve(root), files, stats };
}

/** Reads a kept file's text again (same decoding as the scan). */
export function readCorpusFile(root: string, file: CorpusFile): string {
  const text = decodeUtf8(fs.readFileSync(path.join(root, file.path)));
  if (text === null) throw new UserError(`corpus file ${file.path} changed since the scan: no longer UTF-8`);
  return text;
}

/**
 * The files of one split, optionally capped at `maxBytes`: the cap takes a deterministic sample
 * spread over the whole corpus (ordered by content hash), not the alphabetically first folders.
 * The result is in scan order.
 */
export function selectFiles(files: readonly CorpusFile[], options: { split?: Split; maxBytes?: number } = {}): CorpusFile[] {
  const inSplit = files.filter((f) => options.split === undefined || f.split === options.split);
  if (options.maxBytes === undefined) return inSplit;
  const bySample = [...inSplit].sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0));
  const chosen = new Set<CorpusFile>();
  let total = 0;
  for (const f of bySample) {
    if (total + f.bytes > options.maxBytes) continue;
    chosen.add(f);
    total += f.bytes;
  }
  return inSplit.filter((f) => chosen.has(f));
}

/** The texts of the given files, read one at a time. */
export function* corpusTexts(root: string, files: Iterable<CorpusFile>): Generator<string> {
  for (const f of files) yield readCorpusFile(root, f);
}

/** Writes the scan's statistics as `corpus-stats.json` in `dir` (atomically); returns the file's path. */
export function writeCorpusStats(dir: string, stats: CorpusStats): string {
  const file = path.join(dir, 'corpus-stats.json');
  fs.mkdirSync(dir, { recursive: true });
  writeTextAtomic(file, JSON.stringify(stats, null, 2) + '\n');
  return file;
}
