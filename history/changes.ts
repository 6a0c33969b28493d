import { UserError } from '../common/index.js';
import type { CommitInfo } from './commits.js';
import { decodeText, looksBinary, type TextEncodingName } from './decode.js';
import { FileFilter, type FileFilterOptions, type SkipReason } from './filters.js';
import { decodeFileDiff, splitPatch } from './patch.js';
import { GitTimeoutError } from './git.js';
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
  /** git could not read the commit's trees (a damaged repository): it contributes nothing. */
  unreadable?: boolean;
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
const DIFF_FLAGS = ['-r', '-z', '--no-ext-diff', '--no-textconv', '--no-color'];
/** A single git call for one commit that takes longer than this is stuck, not slow. */
const GIT_TIMEOUT_MS = 120_000;

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
    case 'A':
      return regular(e.dstMode) ? 'A' : null;
    case 'D':
      return regular(e.srcMode) ? 'D' : null;
    case 'M':
    case 'T':
      return regular(e.srcMode) && regular(e.dstMode) ? 'M' : null;
    case 'R':
      return regular(e.srcMode) && regular(e.dstMode) ? 'R' : null;
    default:
      return null;
  }
}

/** Reads a blob as text, or says why it cannot be used ('unreadable': git could not read it; never fetched). */
async function readBlob(
  repo: HistoryRepository,
  oid: string,
  filter: FileFilter,
  sizeKnownSmall: boolean,
): Promise<{ text: string; encoding: TextEncodingName } | SkipReason> {
  if (!sizeKnownSmall) {
    const info = await repo.cat.info(oid);
    if (!info) return 'unreadable';
    if (info.size > filter.maxFileBytes) return 'too-large';
  }
  const obj = await repo.cat.read(oid);
  if (!obj) return 'unreadable';
  if (obj.size > filter.maxFileBytes) return 'too-large';
  if (looksBinary(obj.data)) return 'binary';
  return decodeText(obj.data);
}

const BINARY_HEADER = Buffer.from('\nBinary files ');

async function classify(
  repo: HistoryRepository,
  commit: CommitInfo,
  e: RawEntry,
  filter: FileFilter,
  chunk: Buffer | undefined,
): Promise<Candidate | SkipReason> {
  const status = normaliseStatus(e);
  const path = status === 'D' ? e.srcPath : e.dstPath;
  if (!status || path.includes('\uFFFD')) return 'not-a-file';
  const attrs = await repo.attributes.forPath(commit.sha, path);
  const byPath = filter.byPath(path, attrs);
  if (byPath) return byPath;
  if (filter.binaryByAttributes(attrs)) return 'binary';
  if (chunk?.includes(BINARY_HEADER)) {
    // git also calls files past its size limit binary without reading them: say which it was.
    const sizes = await Promise.all([e.srcOid, e.dstOid].filter((o) => !ZERO_OID.test(o)).map((o) => repo.cat.info(o)));
    return sizes.some((i) => i && i.size > filter.maxFileBytes) ? 'too-large' : 'binary';
  }
  // A text patch from the stream means git found both sides under its size limit (our maximum).
  const small = chunk !== undefined && !repo.partialClone;
  const [before, after] = await Promise.all([
    status === 'A' || ZERO_OID.test(e.srcOid) ? null : readBlob(repo, e.srcOid, filter, small),
    status === 'D' || ZERO_OID.test(e.dstOid) ? null : readBlob(repo, e.dstOid, filter, small),
  ]);
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
  return { tokens, patch: out.subarray(Math.min(pos, out.length)) };
}

/**
 * One commit's stream output (`<sha>\0`, raw entries, patch) as entries with their patch chunks;
 * null when the chunks cannot be matched to the entries (then the commit is read another way).
 * A type change prints two patches (a deletion and an addition), every other entry one.
 */
function parseStreamOutput(out: Buffer): Array<{ entry: RawEntry; chunk: Buffer | undefined }> | null {
  const nul = out.indexOf(0);
  const { tokens, patch } = splitRawAndPatch(nul < 0 ? Buffer.alloc(0) : out.subarray(nul + 1));
  const { entries } = parseRawZ(tokens);
  let chunks: Buffer[];
  try {
    chunks = splitPatch(patch);
  } catch {
    return null;
  }
  const need = entries.reduce((n, e) => n + (e.status === 'T' ? 2 : 1), 0);
  if (need !== chunks.length) return null;
  let at = 0;
  return entries.map((entry) => {
    const chunk = entry.status === 'T' ? undefined : chunks[at];
    at += entry.status === 'T' ? 2 : 1;
    return { entry, chunk };
  });
}

function stuck(commit: CommitInfo, repo: HistoryRepository): UserError {
  return new UserError(
    `git took more than ${GIT_TIMEOUT_MS / 1000} s to diff commit ${commit.sha.slice(0, 12)} of ${repo.path} and was stopped ` +
      "(a pattern in the repository's .git/info/attributes that git matches slowly?)",
  );
}

/**
 * A commit the fast stream could not read (an object git cannot read): its raw entries without
 * rename detection (trees only), its readable blobs, and the patches of just those files.
 */
async function readCarefully(
  repo: HistoryRepository,
  commit: CommitInfo,
  base: string | null,
  opts: ChangeOptions,
  filter: FileFilter,
): Promise<Array<{ entry: RawEntry; chunk: Buffer | undefined }> | 'unreadable'> {
  const range = base ? [base, commit.sha] : ['--root', commit.sha];
  let raw: Buffer;
  try {
    raw = await repo.git.bytes(['diff-tree', ...DIFF_FLAGS, '--raw', '--no-renames', ...range], { timeoutMs: GIT_TIMEOUT_MS });
  } catch (e) {
    if (e instanceof GitTimeoutError) throw stuck(commit, repo);
    return 'unreadable';
  }
  const { tokens } = splitRawAndPatch(base ? raw : raw.subarray(raw.indexOf(0) + 1));
  const { entries } = parseRawZ(tokens);
  const paths: string[] = [];
  for (const e of entries) {
    const status = normaliseStatus(e);
    if (!status || filter.byPath(e.dstPath, new Map())) continue;
    const oids = [e.srcOid, e.dstOid].filter((o) => !ZERO_OID.test(o));
    const infos = await Promise.all(oids.map((o) => repo.cat.info(o)));
    if (infos.every(Boolean)) paths.push(e.dstPath);
  }
  const chunks = new Map<string, Buffer>();
  if (paths.length) {
    try {
      const out = await repo.git.bytes(
        [
          '--literal-pathspecs',
          'diff-tree',
          ...DIFF_FLAGS,
          '--no-renames',
          '-p',
          `-U${opts.diffContext ?? 3}`,
          '--src-prefix=a/',
          '--dst-prefix=b/',
          ...range,
          '--',
          ...paths,
        ],
        { timeoutMs: GIT_TIMEOUT_MS },
      );
      const patch = base ? out : out.subarray(out.indexOf(0) + 1);
      splitPatch(patch).forEach((c, i) => chunks.set(paths[i], c));
    } catch (e) {
      if (e instanceof GitTimeoutError) throw stuck(commit, repo);
      // no patches: those files are skipped below as unreadable
    }
  }
  return entries.map((entry) => ({ entry, chunk: chunks.get(entry.dstPath) }));
}

/** The files a commit changed, with contents and diffs, split into kept and skipped by the filters. */
export async function readChanges(
  repo: HistoryRepository,
  commit: CommitInfo,
  opts: ChangeOptions = {},
  filter = new FileFilter(opts),
): Promise<CommitChanges> {
  const base = commit.parents[0] ?? null;
  const baseName = base ?? repo.emptyTree;
  if (opts.allParents && commit.parents.length > 1) return { commit, base: baseName, files: [], skipped: [] };
  let pairs: Array<{ entry: RawEntry; chunk: Buffer | undefined }> | null = null;
  let careful = repo.partialClone;
  if (!careful) {
    try {
      pairs = parseStreamOutput(await repo.diffStream(opts.diffContext ?? 3, filter.maxFileBytes, GIT_TIMEOUT_MS).diff(commit.sha, base));
    } catch (e) {
      if (e instanceof GitTimeoutError) throw stuck(commit, repo);
    }
    careful = pairs === null;
  }
  if (careful) {
    const read = await readCarefully(repo, commit, base, opts, filter);
    if (read === 'unreadable') return { commit, base: baseName, files: [], skipped: [], unreadable: true };
    pairs = read;
  }
  const kept: Array<{ c: Candidate; chunk: Buffer | undefined }> = [];
  const skipped: SkippedFile[] = [];
  const classified = await Promise.all(pairs!.map(({ entry, chunk }) => classify(repo, commit, entry, filter, chunk)));
  classified.forEach((c, i) => {
    const { entry: e, chunk } = pairs![i];
    if (typeof c === 'string') skipped.push({ path: e.status === 'D' ? e.srcPath : e.dstPath, status: e.status, reason: c });
    else if (!chunk && careful) skipped.push({ path: c.path, status: e.status, reason: 'unreadable' });
    else kept.push({ c, chunk });
  });
  const files = kept.map(({ c, chunk }): FileChange => {
    const e = c.entry;
    const diff = chunk ? decodeFileDiff(chunk, c.before?.encoding ?? 'utf-8', c.after?.encoding ?? 'utf-8') : { text: '', addedLines: [] };
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
  return { commit, base: baseName, files, skipped };
}
