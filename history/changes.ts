import type { CommitInfo } from './commits.js';
import { decodeText, looksBinary, type TextEncodingName } from './decode.js';
import { FileFilter, type FileFilterOptions, type SkipReason } from './filters.js';
import { decodeFileDiff, splitPatch } from './patch.js';
import { parseRawZ, type RawEntry } from './raw-diff.js';
import type { HistoryRepository } from './repository.js';

export type ChangeStatus = 'A' | 'M' | 'D' | 'R';

export interface FileChange {
  status: ChangeStatus;
  /** newPath, or oldPath for a deletion. */
  path: string;
  oldPath: string | null;
  newPath: string | null;
  oldBlob: string | null;
  newBlob: string | null;
  /** Rename similarity in percent (R only). */
  similarity: number | null;
  /** Text before the change ('' for an added file). */
  before: string;
  /** Text after the change ('' for a deleted file). */
  after: string;
  /** The file's unified diff from its `---` line on; '' when only the name or mode changed. */
  diff: string;
  /** 1-based line numbers in `after` of the lines the change adds. */
  addedLines: number[];
}

export interface SkippedFile {
  path: string;
  /** git's status letter ('' for a file of a snapshot). */
  status: string;
  reason: SkipReason;
}

export interface CommitChanges {
  commit: CommitInfo;
  /** What the commit was diffed against: its first parent, or the empty tree for a root commit. */
  base: string;
  files: FileChange[];
  skipped: SkippedFile[];
}

export interface ChangeOptions extends FileFilterOptions {
  /** Lines of context in each diff. Default 3. */
  diffContext?: number;
  /**
   * Walking every parent: a merge's changes already came in through the side branch's own
   * commits, so a merge commit contributes no files. (First-parent walks diff a merge against its
   * first parent, which brings the whole branch in as one change.)
   */
  allParents?: boolean;
}

const ZERO_OID = /^0+$/;
const REGULAR = new Set(['100644', '100755']);
const DIFF_FLAGS = ['-r', '-z', '-M', '--no-ext-diff', '--no-textconv', '--no-color'];

interface Candidate {
  entry: RawEntry;
  status: ChangeStatus;
  path: string;
  before: { text: string; encoding: TextEncodingName } | null;
  after: { text: string; encoding: TextEncodingName } | null;
}

function normaliseStatus(e: RawEntry): ChangeStatus | null {
  const regular = (m: string) => REGULAR.has(m);
  switch (e.status) {
    case 'A': return regular(e.dstMode) ? 'A' : null;
    case 'D': return regular(e.srcMode) ? 'D' : null;
    case 'M': case 'T': return regular(e.srcMode) && regular(e.dstMode) ? 'M' : null;
    case 'R': return regular(e.srcMode) && regular(e.dstMode) ? 'R' : null;
    default: return null;
  }
}

function entryKey(e: RawEntry): string {
  return `${e.status}\0${e.srcPath}\0${e.dstPath}`;
}

/** Reads a blob as text, or says why it cannot be used. */
async function readBlob(
  repo: HistoryRepository, oid: string, filter: FileFilter,
): Promise<{ text: string; encoding: TextEncodingName } | SkipReason> {
  const info = await repo.cat.info(oid);
  if (!info) throw new Error(`blob ${oid} is missing from ${repo.path}`);
  if (info.size > filter.maxFileBytes) return 'too-large';
  const obj = await repo.cat.read(oid);
  if (!obj) throw new Error(`blob ${oid} is missing from ${repo.path}`);
  if (looksBinary(obj.data)) return 'binary';
  return decodeText(obj.data);
}

async function classify(
  repo: HistoryRepository, commit: CommitInfo, e: RawEntry, filter: FileFilter,
): Promise<Candidate | SkipReason> {
  const status = normaliseStatus(e);
  const path = status === 'D' ? e.srcPath : e.dstPath;
  if (!status || path.includes('\uFFFD')) return 'not-a-file';
  const attrs = await repo.attributes.forPath(commit.sha, path);
  const byPath = filter.byPath(path, attrs);
  if (byPath) return byPath;
  if (filter.binaryByAttributes(attrs) || e.added === null) return 'binary';
  const before = status === 'A' || ZERO_OID.test(e.srcOid) ? null : await readBlob(repo, e.srcOid, filter);
  const after = status === 'D' || ZERO_OID.test(e.dstOid) ? null : await readBlob(repo, e.dstOid, filter);
  if (typeof before === 'string') return before;
  if (typeof after === 'string') return after;
  return { entry: e, status, path, before, after };
}

/** Splits `diff-tree --raw -p -z` output into its raw entries and its patch bytes. */
function splitRawAndPatch(out: Buffer): { tokens: string[]; patch: Buffer } {
  const tokens: string[] = [];
  let pos = 0;
  while (pos < out.length) {
    const nul = out.indexOf(0, pos);
    const end = nul < 0 ? out.length : nul;
    const tok = out.toString('utf8', pos, end);
    pos = end + 1;
    if (tok === '') break;
    tokens.push(tok);
  }
  return { tokens, patch: out.subarray(pos) };
}

/** Per-file patch chunks of the kept candidates, keyed like {@link entryKey}. */
async function patchesFor(
  repo: HistoryRepository, base: string, sha: string, kept: Candidate[], context: number,
): Promise<Map<string, Buffer>> {
  const paths = new Set<string>();
  for (const c of kept) { paths.add(c.entry.srcPath); paths.add(c.entry.dstPath); }
  // Past a few thousand paths the command line gets long; the whole diff is then cheaper anyway.
  const pathspec = paths.size <= 2000 ? ['--', ...paths] : [];
  const out = await repo.git.bytes([
    '--literal-pathspecs', 'diff-tree', ...DIFF_FLAGS, '--raw', '-p', `-U${context}`,
    '--src-prefix=a/', '--dst-prefix=b/', base, sha, ...pathspec,
  ]);
  const { tokens, patch } = splitRawAndPatch(out);
  const { entries } = parseRawZ(tokens);
  const chunks = splitPatch(patch);
  if (chunks.length !== entries.length) {
    throw new Error(`diff of ${sha}: ${entries.length} files but ${chunks.length} patches`);
  }
  return new Map(entries.map((e, i) => [entryKey(e), chunks[i]]));
}

/** The files a commit changed, with contents and diffs, split into kept and skipped by the filters. */
export async function readChanges(
  repo: HistoryRepository, commit: CommitInfo, opts: ChangeOptions = {}, filter = new FileFilter(opts),
): Promise<CommitChanges> {
  const base = commit.parents[0] ?? repo.emptyTree;
  if (opts.allParents && commit.parents.length > 1) return { commit, base, files: [], skipped: [] };
  const raw = await repo.git.text(['diff-tree', ...DIFF_FLAGS, '--raw', '--numstat', base, commit.sha]);
  const { entries } = parseRawZ(raw.split('\0'));
  const kept: Candidate[] = [];
  const skipped: SkippedFile[] = [];
  for (const e of entries) {
    const c = await classify(repo, commit, e, filter);
    if (typeof c === 'string') skipped.push({ path: e.status === 'D' ? e.srcPath : e.dstPath, status: e.status, reason: c });
    else kept.push(c);
  }
  const patches = kept.length ? await patchesFor(repo, base, commit.sha, kept, opts.diffContext ?? 3) : new Map();
  const files = kept.map((c): FileChange => {
    const e = c.entry;
    const chunk = patches.get(entryKey(e));
    const diff = chunk
      ? decodeFileDiff(chunk, c.before?.encoding ?? 'utf-8', c.after?.encoding ?? 'utf-8')
      : { text: '', addedLines: [] };
    return {
      status: c.status,
      path: c.path,
      oldPath: c.status === 'A' ? null : e.srcPath,
      newPath: c.status === 'D' ? null : e.dstPath,
      oldBlob: c.status === 'A' ? null : e.srcOid,
      newBlob: c.status === 'D' ? null : e.dstOid,
      similarity: c.status === 'R' ? e.score : null,
      before: c.before?.text ?? '',
      after: c.after?.text ?? '',
      diff: diff.text,
      addedLines: diff.addedLines,
    };
  });
  return { commit, base, files, skipped };
}
